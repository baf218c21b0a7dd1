// The HTTP JSON face of VmControl: each route maps onto one VmControl call.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createVmRequestFromJson, moveDeviceRequestFromJson, sendKeysRequestFromJson } from '../json-mapping.js';
import { VM_ACTIONS } from '../proto-types.js';
import type { VcpuPool } from '../vcpu-pool.js';
import type { VmService } from '../vm-service.js';
import { readJsonBody } from './body.js';
import { sendBytes, sendJson } from './respond.js';
import { Router } from './router.js';

export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  vms: VmService;
  pool: VcpuPool;
}

export function apiRouter(): Router<ApiContext> {
  const r = new Router<ApiContext>()
    .add('GET', '/api/vms', async ({ res, vms }) => sendJson(res, 200, { vms: await vms.list() }))
    .add('POST', '/api/vms', async ({ req, res, vms }) => {
      const spec = createVmRequestFromJson(await readJsonBody(req));
      const vm = await vms.create(spec);
      sendJson(res, 201, vm, { location: `/api/vms/${encodeURIComponent(vm.id)}` });
    })
    .add('GET', '/api/vms/:id', async ({ res, vms }, p) => sendJson(res, 200, await vms.get(p.id)))
    .add('DELETE', '/api/vms/:id', async ({ res, vms }, p) => {
      await vms.delete(p.id);
      sendJson(res, 200, {});
    })
    .add('GET', '/api/vms/:id/screenshot', async ({ res, vms }, p) => {
      const shot = await vms.screenshot(p.id);
      sendBytes(res, 200, 'image/png', shot.png, { 'x-screen-width': String(shot.width), 'x-screen-height': String(shot.height) });
    })
    .add('GET', '/api/vms/:id/screen-text', async ({ res, vms }, p) => sendJson(res, 200, await vms.screenText(p.id)))
    .add('POST', '/api/vms/:id/devices/:device/move', async ({ req, res, vms }, p) =>
      sendJson(res, 200, await vms.moveDevice(moveDeviceRequestFromJson(p.id, p.device, await readJsonBody(req)))),
    )
    .add('POST', '/api/vms/:id/keys', async ({ req, res, vms }, p) => {
      await vms.sendKeys(sendKeysRequestFromJson(p.id, await readJsonBody(req)));
      sendJson(res, 200, {});
    })
    .add('GET', '/api/vcpus', async ({ res, pool }) => {
      const listings = await pool.survey();
      sendJson(res, 200, { vcpus: listings.map((l) => ({ address: l.client.address, reachable: l.vms !== null, vms: l.vms?.length ?? 0, ...(l.error ? { error: l.error } : {}) })) });
    });
  for (const action of VM_ACTIONS) r.add('POST', `/api/vms/:id/${action}`, async ({ res, vms }, p) => sendJson(res, 200, await vms.act(action, p.id)));
  return r;
}
