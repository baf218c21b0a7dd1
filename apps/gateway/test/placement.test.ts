// Two vcpu instances behind one gateway: new VMs go to the instance with the fewest VMs, and a
// restarted gateway finds every VM again by asking the instances (ListVms).
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages } from './support/guests.js';
import { client } from './support/http.js';
import { startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

let a: ServiceProcess;
let b: ServiceProcess;
let gw: GatewayProcess;

beforeAll(async () => {
  [a, b] = await Promise.all([startVcpu(), startVcpu()]);
});
afterAll(async () => {
  await gw?.stop();
  await a?.stop('SIGKILL');
  await b?.stop('SIGKILL');
});

const spec = { ramMib: 2, backend: 'soft', firmware: guestImages['serial-hello'] };

test('VMs are spread over the instances by load, and a restarted gateway still finds each one', async () => {
  gw = await startGatewayProcess({ vcpus: [a.address, b.address] });
  let api = client(gw.url, gw.token);
  const hosts: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const vm = (await api('POST', '/api/vms', { body: { ...spec, name: `vm${i}` } })).json;
    ids.push(vm.id);
    hosts.push(vm.vcpuHost);
  }
  expect(hosts).toEqual([a.address, b.address, a.address]);
  const status = (await api('GET', '/api/vcpus')).json.vcpus;
  expect(status).toEqual([
    { address: a.address, reachable: true, vms: 2 },
    { address: b.address, reachable: true, vms: 1 },
  ]);

  await gw.stop();
  gw = await startGatewayProcess({ vcpus: [a.address, b.address] });
  api = client(gw.url, gw.token);
  for (const [i, id] of ids.entries()) {
    const r = await api('POST', `/api/vms/${id}/start`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id, name: `vm${i}`, vcpuHost: hosts[i] });
  }
  expect((await api('GET', '/api/vms')).json.vms.map((v: { id: string }) => v.id).sort()).toEqual([...ids].sort());
  // the next VM goes to b, which has fewer
  expect((await api('POST', '/api/vms', { body: spec })).json.vcpuHost).toBe(b.address);
});

test('with one instance down, new VMs go to the other and its VMs answer 503', async () => {
  const api = client(gw.url, gw.token);
  const onB = (await api('GET', '/api/vms')).json.vms.find((v: { vcpuHost: string }) => v.vcpuHost === b.address);
  await b.stop('SIGKILL');
  const vm = (await api('POST', '/api/vms', { body: spec })).json;
  expect(vm.vcpuHost).toBe(a.address);
  const r = await api('GET', `/api/vms/${onB.id}`);
  expect(r.status).toBe(503);
  expect(r.json.error.message).toContain(b.address);
  const list = await api('GET', '/api/vms');
  expect(list.status).toBe(200);
  expect(list.json.vms.every((v: { vcpuHost: string }) => v.vcpuHost === a.address)).toBe(true);
  expect((await api('GET', '/api/vcpus')).json.vcpus[1]).toMatchObject({ address: b.address, reachable: false });
});
