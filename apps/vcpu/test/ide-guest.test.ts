import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { buildGuests } from '../../../guests/build.mjs';
import { Vm } from '../src/vm.js';
import { kvmUnavailableReason } from '../src/kvm/kvm-device-path.js';

/**
 * A guest drives the remote IDE service with PIO (LBA28) through the whole stack on the
 * soft backend: the sector it reads comes from the image file, the one it writes (then
 * flushes) lands in the file, and the errors it provokes show the ATA status/error bits.
 */
const IDE_MAIN = fileURLToPath(new URL('../../ide/src/main.ts', import.meta.url));
const SECTORS = 4096;
let ide: ServiceProcess;
let dataDir: string;
let vm: Vm | null = null;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'qvm-ide-guest-'));
  const image = Buffer.alloc(SECTORS * 512);
  for (let s = 0; s < SECTORS; s++) image.writeUInt32LE(0x5ec00000 + s, s * 512);
  writeFileSync(path.join(dataDir, 'disk.img'), image);
  ide = await startServiceProcess(IDE_MAIN, unixAddress('ide'), ['--data-dir', dataDir]);
});
afterAll(async () => {
  await vm?.stop();
  await ide?.stop('SIGKILL');
});

const kvmMissing = kvmUnavailableReason();
const cases = [
  { backend: 'soft' as const, skip: false },
  { backend: 'kvm' as const, skip: kvmMissing !== null },
];

for (const { backend, skip } of cases)
(skip ? test.skip : test)(`${backend} backend: a guest reads, writes and flushes sectors of a real image through the remote IDE service, and sees IDNF and ABRT${skip ? ' (skipped: /dev/kvm not available; the soft backend covers it)' : ''}`, async () => {
  // Sector 5 back to its original contents, so each backend's write is seen afresh.
  const sector5 = Buffer.alloc(512);
  sector5.writeUInt32LE(0x5ec00005, 0);
  const fd = openSync(path.join(dataDir, 'disk.img'), 'r+');
  writeSync(fd, sector5, 0, 512, 5 * 512);
  closeSync(fd);
  await vm?.stop();
  vm = await Vm.create({
    id: `ide-guest-${backend}`,
    backend,
    ramMiB: 2,
    realtime: false,
    firmware: new Uint8Array(readFileSync(buildGuests({ quiet: true })['ide-rw'])),
    devices: [{ device: 'ide', address: ide.address, config: { 'primary.master': 'disk.img' } }],
  });
  vm.start();
  const log = await vm.waitForSerial(/ide-rw: unknown status=0x[0-9a-f]{8} error=0x[0-9a-f]{8}/, 60_000);
  expect(log).toContain('ide-rw: read lba=0x0000004d first=0x5ec0004d');
  expect(log).toMatch(/ide-rw: wrote lba=0x00000005 status=0x000000(50|58)/);
  expect(log).toContain('ide-rw: beyond status=0x00000051 error=0x00000010'); // DRDY|DSC|ERR, IDNF
  expect(log).toContain('ide-rw: unknown status=0x00000051 error=0x00000004'); // ABRT
  const sector = readFileSync(path.join(dataDir, 'disk.img')).subarray(5 * 512, 6 * 512);
  expect(sector.subarray(0, 4).toString('latin1')).toBe('QVMW');
  expect(sector.readUInt32LE(4)).toBe(5);
  expect(sector.subarray(8).every((b) => b === 0xa5)).toBe(true);
}, 120_000);
