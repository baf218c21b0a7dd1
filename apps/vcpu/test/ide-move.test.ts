import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { IDE_MAIN, IdeRig } from './support/ide-guest-harness.js';
import type { Vm } from '../src/vm.js';

/**
 * A running VM's IDE session moves to another IDE service process, and back, while the
 * ide-read-loop guest reads and checks its disk without a pause: every read before, during
 * and after the moves returns the right sector (the guest prints any that does not), the
 * guest's count goes on from where it was, and the service it moved to says it took the
 * state. Two real service processes share one data directory, as replicas share a volume.
 */
const rig = new IdeRig();
let other: ServiceProcess;
const SECTORS = 64;
const CONFIG = { 'primary.master': 'loop.img' };

beforeAll(async () => {
  await rig.start();
  other = await startServiceProcess(IDE_MAIN, unixAddress('ide-b'), ['--data-dir', rig.dataDir]);
  rig.makeImage('loop.img', SECTORS, Array.from({ length: SECTORS }, (_, lba) => lba));
});
afterAll(async () => {
  await other?.stop('SIGKILL');
  await rig.stop();
});
afterEach(() => {
  delete process.env.QUASIVM_FAST_LANE;
});

const COUNT = /ide-read-loop: reads=0x(\w{8}) errors=0x(\w{8})\r\n/g;

/** The guest's latest count line: reads so far and read errors. */
function lastCount(vm: Vm): { reads: number; errors: number } {
  const all = [...vm.serialLog.matchAll(COUNT)];
  const m = all[all.length - 1];
  return m ? { reads: parseInt(m[1], 16), errors: parseInt(m[2], 16) } : { reads: 0, errors: 0 };
}

/** Resolves once the guest has read `more` sectors beyond what it had read when called. */
async function readsMore(vm: Vm, more: number, timeoutMs = 60_000): Promise<void> {
  const target = lastCount(vm).reads + more;
  const until = Date.now() + timeoutMs;
  while (lastCount(vm).reads < target) {
    if (Date.now() > until) throw new Error(`the guest did not read ${more} more sectors in ${timeoutMs} ms; serial: ${vm.serialLog.slice(-400)}`);
    await vm.waitForSerial(COUNT, 1000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function moveBackAndForth(): Promise<void> {
  const vm = await rig.launch('soft', 'ide-read-loop', CONFIG, [64, SECTORS]);
  await readsMore(vm, 256);
  const there = await vm.moveDevice('ide', other.address);
  expect(there).toMatchObject({ device: 'ide', fromAddress: rig.service.address, toAddress: other.address });
  expect(there.stateBytes).toBeGreaterThan(100);
  await readsMore(vm, 256);
  expect(other.logs()).toContain('state loaded');
  const back = await vm.moveDevice('ide', rig.service.address);
  expect(back).toMatchObject({ fromAddress: other.address, toAddress: rig.service.address });
  await readsMore(vm, 256);
  expect(vm.serialLog).not.toContain('READ ERROR');
  expect(lastCount(vm).errors).toBe(0);
  expect(vm.state).toBe('running');
}

test('soft backend, fast lane: the IDE session moves to another service process and back while the guest reads its disk, and no read fails', async () => {
  await moveBackAndForth();
}, 180_000);

test('soft backend, gRPC stream (no fast lane): the same moves, with every access through the main thread', async () => {
  process.env.QUASIVM_FAST_LANE = '0';
  await moveBackAndForth();
}, 180_000);

test('a move to a service that is not there fails with the reason, and the guest keeps reading from the service it was on', async () => {
  const vm = await rig.launch('soft', 'ide-read-loop', CONFIG, [64, SECTORS]);
  await readsMore(vm, 128);
  await expect(vm.moveDevice('ide', 'unix:/nonexistent/ide.sock')).rejects.toThrow(/cannot move ide to unix:\/nonexistent\/ide\.sock: .*it stays on/);
  await readsMore(vm, 256);
  expect(vm.serialLog).not.toContain('READ ERROR');
  expect(vm.spec.devices?.[0].address).toBe(rig.service.address);
}, 120_000);
