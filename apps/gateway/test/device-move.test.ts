// Moving a running VM's IDE session to another IDE service through the gateway's HTTP API
// (POST /api/vms/:id/devices/:device/move) while the guest reads its disk in a loop; real
// gateway, vcpu, VGA and two IDE service processes sharing one data directory.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { guestImages } from './support/guests.js';
import { client, waitFor } from './support/http.js';
import { REPO, startGatewayProcess, startVcpu, startVga, tempDir, type GatewayProcess } from './support/processes.js';

const IDE_MAIN = path.join(REPO, 'apps/ide/src/main.ts');
const SECTORS = 64;
let ideA: ServiceProcess;
let ideB: ServiceProcess;
let vga: ServiceProcess;
let vcpu: ServiceProcess;
let gw: GatewayProcess;
let api: ReturnType<typeof client>;

/** A sparse image whose sector n starts with 0x5EC00000 + n, as ide-read-loop checks. */
function taggedImage(file: string, sectors: number): void {
  const fd = openSync(file, 'w');
  const head = Buffer.alloc(4);
  for (let lba = 0; lba < sectors; lba++) {
    head.writeUInt32LE((0x5ec00000 + lba) >>> 0);
    writeSync(fd, head, 0, 4, lba * 512);
  }
  writeSync(fd, Buffer.alloc(1), 0, 1, sectors * 512 - 1);
  closeSync(fd);
}

beforeAll(async () => {
  const disks = tempDir('disks');
  taggedImage(path.join(disks, 'loop.img'), SECTORS);
  [ideA, ideB, vga, vcpu] = await Promise.all([
    startServiceProcess(IDE_MAIN, unixAddress('ide-a'), ['--data-dir', disks]),
    startServiceProcess(IDE_MAIN, unixAddress('ide-b'), ['--data-dir', disks]),
    startVga(),
    startVcpu(),
  ]);
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
  api = client(gw.url, gw.token);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([ideA, ideB, vga, vcpu].map((p) => p?.stop('SIGKILL')));
});

/** The guest's own count on row 0 of its screen, as the gateway's screen text shows it. */
async function screenCount(id: string): Promise<{ reads: number; errors: number } | null> {
  const r = await api('GET', `/api/vms/${id}/screen-text`);
  const m = /ide-read-loop: reads=0x(\w{8}) errors=0x(\w{8})/.exec(r.json.rows?.[0] ?? '');
  return m ? { reads: parseInt(m[1], 16), errors: parseInt(m[2], 16) } : null;
}

async function readsMore(id: string, more: number): Promise<void> {
  const target = ((await screenCount(id))?.reads ?? 0) + more;
  await waitFor(`the guest's screen to count ${target} reads`, async () => ((await screenCount(id))?.reads ?? 0) >= target, 60_000);
}

test('the IDE session moves to another service and back through the HTTP API while the guest reads its disk; its screen keeps counting with no read error', async () => {
  const vm = (
    await api('POST', '/api/vms', {
      body: {
        name: 'move',
        ramMib: 2,
        backend: 'soft',
        firmware: guestImages['ide-read-loop'],
        disks: [{ slot: 'primary-master', image: 'loop.img' }],
        devices: [
          { device: 'ide', address: ideA.address },
          { device: 'vga', address: vga.address },
        ],
      },
    })
  ).json;
  await api('POST', `/api/vms/${vm.id}/start`);
  await readsMore(vm.id, 256);

  const moved = await api('POST', `/api/vms/${vm.id}/devices/ide/move`, { body: { address: ideB.address } });
  expect(moved.status).toBe(200);
  expect(moved.json).toMatchObject({ device: 'ide', fromAddress: ideA.address, toAddress: ideB.address, vm: { id: vm.id, state: 'VM_STATE_RUNNING' } });
  await readsMore(vm.id, 256);
  expect(ideB.logs()).toContain('state loaded');

  const back = await api('POST', `/api/vms/${vm.id}/devices/ide/move`, { body: { address: ideA.address } });
  expect(back.json).toMatchObject({ fromAddress: ideB.address, toAddress: ideA.address });
  await readsMore(vm.id, 256);
  expect((await screenCount(vm.id))?.errors).toBe(0);

  // What the API refuses, with a reason.
  const bad = await api('POST', `/api/vms/${vm.id}/devices/ide/move`, { body: { address: 'not an address' } });
  expect(bad.status).toBe(400);
  const unknown = await api('POST', `/api/vms/${vm.id}/devices/sound/move`, { body: { address: ideB.address } });
  expect(unknown.status).toBe(409); // FAILED_PRECONDITION
  expect(unknown.json.error.message).toContain('no remote device "sound"');
  await api('DELETE', `/api/vms/${vm.id}`);
}, 180_000);
