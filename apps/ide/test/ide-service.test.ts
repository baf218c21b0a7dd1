import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteDevice } from '@quasivm/device-sdk';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SECTORS = 2048;
let svc: ServiceProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'qvm-ide-'));
  const image = Buffer.alloc(SECTORS * 512);
  for (let s = 0; s < SECTORS; s++) image.writeUInt32LE(s, s * 512); // each sector starts with its number
  writeFileSync(path.join(dataDir, 'disk.img'), image);
  svc = await startServiceProcess(MAIN, unixAddress('ide'), ['--data-dir', dataDir]);
});
afterAll(async () => {
  await svc?.stop('SIGKILL');
});

const STATUS = 0x1f7;
async function waitReady(dev: RemoteDevice) {
  for (let i = 0; i < 1000; i++) {
    const st = await dev.ioRead(STATUS, 1, 0);
    if ((st & 0x80) === 0) return st;
  }
  throw new Error('drive stayed busy');
}
function lba28(dev: RemoteDevice, lba: number, count: number, command: number) {
  dev.ioWrite(0x1f6, 1, 0xe0 | ((lba >> 24) & 0x0f), 0);
  dev.ioWrite(0x1f2, 1, count, 0);
  dev.ioWrite(0x1f3, 1, lba & 0xff, 0);
  dev.ioWrite(0x1f4, 1, (lba >> 8) & 0xff, 0);
  dev.ioWrite(0x1f5, 1, (lba >> 16) & 0xff, 0);
  dev.ioWrite(STATUS, 1, command, 0);
}

test('a guest-side PIO read, write and flush through the IDE service reach the image file', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-ide', { 'primary.master': 'disk.img' });
  // IDENTIFY DEVICE: capacity in words 60-61.
  dev.ioWrite(0x1f6, 1, 0xa0, 0);
  dev.ioWrite(STATUS, 1, 0xec, 0);
  expect((await waitReady(dev)) & 0x08).toBe(0x08);
  const id = await dev.ioReadString(0x1f0, 2, 256, 0);
  const words = new Uint16Array(id.slice().buffer);
  expect(words[60] | (words[61] << 16)).toBe(SECTORS);
  // READ SECTORS at LBA 77: one message carries the whole sector.
  lba28(dev, 77, 1, 0x20);
  await waitReady(dev);
  const sector = await dev.ioReadString(0x1f0, 2, 256, 0);
  expect(Buffer.from(sector).readUInt32LE(0)).toBe(77);
  // WRITE SECTORS at LBA 5, then FLUSH CACHE; the bytes are in the file.
  lba28(dev, 5, 1, 0x30);
  await waitReady(dev);
  dev.ioWriteString(0x1f0, 2, new Uint8Array(512).fill(0xab), 0);
  await waitReady(dev);
  dev.ioWrite(STATUS, 1, 0xe7, 0);
  expect((await waitReady(dev)) & 0x01).toBe(0);
  const file = readFileSync(path.join(dataDir, 'disk.img'));
  expect(file.subarray(5 * 512, 6 * 512).every((b) => b === 0xab)).toBe(true);
  // LBA beyond capacity: ERR with IDNF in the error register.
  lba28(dev, SECTORS + 10, 1, 0x20);
  expect((await waitReady(dev)) & 0x01).toBe(1);
  expect((await dev.ioRead(0x1f1, 1, 0)) & 0x10).toBe(0x10);
  await dev.detach();
  dev.close();
});

test('images outside the data directory, missing images, and a spec choosing its own dataDir are refused clearly', async () => {
  await expect(RemoteDevice.connect(svc.address, 'vm-bad1', { 'primary.master': '../../etc/passwd' })).rejects.toThrow(/'\.\.': refused/);
  await expect(RemoteDevice.connect(svc.address, 'vm-bad2', { 'primary.master': 'nope.img' })).rejects.toThrow(/nope\.img/);
  await expect(RemoteDevice.connect(svc.address, 'vm-bad3', { dataDir: '/', 'primary.master': 'etc/passwd' })).rejects.toThrow(/set by the IDE service/);
});

test('a second read-write session on the same image is refused while the first holds it', async () => {
  const first = await RemoteDevice.connect(svc.address, 'vm-lock1', { 'primary.master': 'disk.img' });
  await expect(RemoteDevice.connect(svc.address, 'vm-lock2', { 'primary.master': 'disk.img' })).rejects.toThrow(/lock/i);
  await first.detach();
  first.close();
  const again = await RemoteDevice.connect(svc.address, 'vm-lock3', { 'primary.master': 'disk.img' });
  await again.detach();
  again.close();
});

test('the IDE PCI function answers over the stream, and moving BAR4 re-routes the bus-master ports', async () => {
  const claims: Array<Array<{ base: number; length: number }>> = [];
  const dev = await RemoteDevice.connect(svc.address, 'vm-pci', { 'primary.master': 'disk.img' }, { onClaimsChanged: (ports) => claims.push(ports) });
  expect(dev.description!.pciFunctions).toEqual([{ device: 1, function: 1 }]);
  expect(await dev.pciConfigRead(0, 0, 4, 0)).toBe(0x70108086); // PIIX3 IDE 8086:7010
  expect(await dev.pciConfigRead(0, 0x0a, 2, 0)).toBe(0x0101); // mass storage, IDE
  dev.pciConfigWrite(0, 0x20, 4, 0xd001, 0); // BAR4 -> I/O 0xd000
  expect(await dev.pciConfigRead(0, 0x20, 4, 0)).toBe(0xd001);
  expect(claims.at(-1)).toContainEqual({ base: 0xd000, length: 16 });
  expect(await dev.ioRead(0xd002, 1, 0)).not.toBe(undefined); // accepted: the service checks the new claims
  await expect(dev.ioRead(0xc002, 1, 0)).rejects.toMatchObject({ code: 11 }); // OUT_OF_RANGE: the old block is gone
  await expect(dev.pciConfigRead(1, 0, 4, 0)).rejects.toMatchObject({ code: 11 });
  await dev.detach();
  dev.close();
});
