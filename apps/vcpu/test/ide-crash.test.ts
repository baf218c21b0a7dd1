import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { IdeRig, SECTOR, sectorHead, hex } from './support/ide-guest-harness.js';

/**
 * A write the guest has flushed is never lost: the ide-rw guest writes a sector and waits
 * for FLUSH CACHE through the remote IDE service, the service is killed with SIGKILL at
 * once, and the data is in the image (raw mode) or in the overlay with the shared base
 * untouched (overlay mode). A new service process then takes over the dead owner's lock,
 * and a second guest reads back what the first one wrote.
 */
const rig = new IdeRig();
beforeAll(() => rig.start());
afterAll(() => rig.stop());

const SECTORS = 4096;
const WROTE = /ide-rw: wrote lba=0x00000005 status=0x000000(50|58)\r\n/;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Runs ide-rw (read param0, write + flush LBA 5) until its flush completed, then SIGKILLs the service. */
async function writeThenKill(config: Record<string, string>): Promise<void> {
  const vm = await rig.launch('soft', 'ide-rw', config, [77, 5]);
  await vm.waitForSerial(WROTE, 60_000);
  await rig.service.stop('SIGKILL');
  await vm.stop();
  rig.vm = null;
  await rig.start(); // a fresh service process on the same data directory
}

/** A new guest reads LBA 5 back through the new service and prints its first dword. */
async function readBack(config: Record<string, string>): Promise<string> {
  const log = await rig.run('soft', 'ide-rw', config, [5, 6], /ide-rw: read lba=0x00000005 first=0x\w{8}\r\n/);
  return log.match(/read lba=0x00000005 first=(0x\w{8})/)![1];
}

test('soft backend: a sector the guest wrote and flushed is in the raw image after the IDE service is killed with SIGKILL, and a new service serves it', async () => {
  rig.makeImage('crash.img', SECTORS, [5, 77]);
  await writeThenKill({ 'primary.master': 'crash.img' });
  const sector = readFileSync(rig.file('crash.img')).subarray(5 * SECTOR, 6 * SECTOR);
  expect(sector.subarray(0, 4).toString('latin1')).toBe('QVMW');
  expect(sector.readUInt32LE(4)).toBe(5);
  expect(sector.subarray(8).every((b) => b === 0xa5)).toBe(true);
  expect(await readBack({ 'primary.master': 'crash.img' })).toBe(hex(0x574d5651)); // 'QVMW'
}, 120_000);

test('soft backend: with a copy-on-write overlay the flushed write survives SIGKILL in the overlay and the base image\'s checksum never changes', async () => {
  rig.makeImage('base.img', SECTORS, [5, 77]);
  const before = sha256(rig.file('base.img'));
  const overlay = { 'primary.master': 'base.img', 'primary.master.mode': 'overlay', 'primary.master.overlay': 'vm1.overlay' };
  await writeThenKill(overlay);
  expect(sha256(rig.file('base.img'))).toBe(before);
  expect(existsSync(rig.file('vm1.overlay'))).toBe(true);
  expect(await readBack(overlay)).toBe(hex(0x574d5651)); // the overlay's sector, after the crash
  expect(sha256(rig.file('base.img'))).toBe(before);
  // The base itself still holds the original sector, as another VM sharing it would see.
  expect(await readBack({ 'primary.master': 'base.img', 'primary.master.mode': 'ro' })).toBe(hex(sectorHead(5)));
  expect(sha256(rig.file('base.img'))).toBe(before);
}, 120_000);
