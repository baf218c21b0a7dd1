// Screens and keyboards through the gateway against a running stack (NATS, remote VGA
// service, vcpu service, gateway): the vga-echo guest sets up text mode itself, writes its
// banner at 0xB8000 and echoes typed keys there. Screenshot, screen text and keys over HTTP
// and over gRPC; the display stream over WebSocket and gRPC.
import * as grpc from '@grpc/grpc-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { VmControlClient } from '@quasivm/proto';
import { bearer, gatewayGrpcClient, unary } from './support/grpc.js';
import { client, waitFor, wsUrl } from './support/http.js';
import { litCells, startScreenStack, type ScreenStack } from './support/screen-stack.js';
import WebSocket from 'ws';

let stack: ScreenStack;
let api: ReturnType<typeof client>;
let c: VmControlClient;
let md: grpc.Metadata;

beforeAll(async () => {
  stack = await startScreenStack();
  api = client(stack.gw.url, stack.gw.token);
  c = gatewayGrpcClient(stack.gw.grpcAddress);
  md = bearer(stack.gw.token);
}, 60_000);
afterAll(async () => {
  c?.close();
  await stack?.stop();
});

const BANNER = 'vga-echo: ready';

async function startEchoVm(name: string): Promise<string> {
  const created = await api('POST', '/api/vms', { body: stack.spec(name) });
  expect(created.status).toBe(201);
  expect((await api('POST', `/api/vms/${created.json.id}/start`)).status).toBe(200);
  await screenRows(created.json.id, (rows) => rows[0] === BANNER);
  return created.json.id as string;
}

/** Screen text over HTTP (rows trimmed), polled until `ok` holds. */
function screenRows(id: string, ok: (rows: string[]) => boolean): Promise<string[]> {
  let last: string[] = [];
  return waitFor(`the screen to show it (last: ${JSON.stringify(last.filter(Boolean))})`, async () => {
    const r = await api('GET', `/api/vms/${id}/screen-text`);
    last = r.status === 200 ? (r.json.rows as string[]).map((s) => s.trimEnd()) : [];
    return ok(last) && last;
  });
}

test('HTTP: the screenshot is a 720x400 PNG whose pixels show the banner, and screen text reads it', async () => {
  const id = await startEchoVm('http-screen');
  const text = await api('GET', `/api/vms/${id}/screen-text`);
  expect(text.json.rows).toHaveLength(25);
  expect(text.json.rows[0].trimEnd()).toBe(BANNER);
  expect(text.json.rows[2].trimEnd()).toBe('>');

  const res = await fetch(`${stack.gw.url}/api/vms/${id}/screenshot`, { headers: { authorization: `Bearer ${stack.gw.token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  expect([res.headers.get('x-screen-width'), res.headers.get('x-screen-height')]).toEqual(['720', '400']);
  const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
  expect([png.width, png.height]).toEqual([720, 400]);
  // every non-blank character of the banner has glyph pixels in its cell, nothing beyond it
  expect(litCells(png, 0, 0, 80)).toBe(BANNER.replace(/ /g, '').length);
  expect(litCells(png, 10, 0, 80)).toBe(0);
  // the banner's background is blue (attribute 0x1F), the rest of the screen black
  expect([...png.data.subarray(0, 3)]).toEqual([0, 0, 0xaa]);
  expect([...png.data.subarray((200 * 720 + 360) * 4, (200 * 720 + 360) * 4 + 3)]).toEqual([0, 0, 0]);
  await api('DELETE', `/api/vms/${id}`);
}, 60_000);

test('HTTP: keys sent as text and as PS/2 scancodes reach the guest, which echoes them on its screen', async () => {
  const id = await startEchoVm('http-keys');
  expect((await api('POST', `/api/vms/${id}/keys`, { body: { text: 'Hello, World!' } })).status).toBe(200);
  await screenRows(id, (rows) => rows[2] === '> Hello, World!');

  // set 2 make/break of "q" (0x15) and of F1 (0x05): the controller translates to set 1
  const scancodes = Buffer.from([0x15, 0xf0, 0x15, 0x05, 0xf0, 0x05]).toString('base64');
  expect((await api('POST', `/api/vms/${id}/keys`, { body: { scancodes } })).status).toBe(200);
  const rows = await screenRows(id, (r) => r[24] === 'scancode=0xbb');
  expect(rows[2]).toBe('> Hello, World!q');

  const shot = PNG.sync.read(Buffer.from(await (await fetch(`${stack.gw.url}/api/vms/${id}/screenshot`, { headers: { authorization: `Bearer ${stack.gw.token}` } })).arrayBuffer()));
  expect(litCells(shot, 2, 0, 80)).toBe('>Hello,World!q'.length);
  await api('DELETE', `/api/vms/${id}`);
}, 60_000);

test('gRPC: Screenshot, ScreenText and SendKeys (text and scancodes) against the same guest', async () => {
  const vm = await unary<{ id: string }>((cb) => c.CreateVm({ ...stack.spec('grpc-screen'), backend: 'CPU_BACKEND_SOFT' }, md, cb));
  await unary((cb) => c.StartVm({ id: vm.id }, md, cb));
  const text = () => unary<{ rows: string[] }>((cb) => c.ScreenText({ id: vm.id }, md, cb)).then((r) => r.rows.map((s) => s.trimEnd()));
  await waitFor('the banner over gRPC', async () => (await text())[0] === BANNER);

  await unary((cb) => c.SendKeys({ id: vm.id, text: 'grpc 42' }, md, cb));
  await waitFor('the typed text', async () => (await text())[2] === '> grpc 42');
  await unary((cb) => c.SendKeys({ id: vm.id, scancodes: Buffer.from([0x66, 0xf0, 0x66]) }, md, cb)); // Backspace
  await waitFor('the backspace', async () => (await text())[2] === '> grpc 4');

  const shot = await unary<{ png: Buffer; width: number; height: number }>((cb) => c.Screenshot({ id: vm.id }, md, cb));
  expect([shot.width, shot.height]).toEqual([720, 400]);
  const png = PNG.sync.read(shot.png);
  expect(litCells(png, 0, 0, 80)).toBe(BANNER.replace(/ /g, '').length);
  expect(litCells(png, 2, 0, 80)).toBe('>grpc4'.length);
  await unary((cb) => c.DeleteVm({ id: vm.id }, md, cb));
}, 60_000);

test('display stream over WebSocket: a full 720x400 frame first, then the rectangle a typed key changed', async () => {
  const id = await startEchoVm('ws-display');
  const ws = new WebSocket(wsUrl(stack.gw.url, `/api/vms/${id}/display?fps=20`), { headers: { authorization: `Bearer ${stack.gw.token}` } });
  const rects: Array<{ sw: number; sh: number; x: number; y: number; w: number; h: number; bytes: number }> = [];
  ws.on('message', (d: Buffer) => rects.push({ sw: d.readUInt16LE(0), sh: d.readUInt16LE(2), x: d.readUInt16LE(4), y: d.readUInt16LE(6), w: d.readUInt16LE(8), h: d.readUInt16LE(10), bytes: d.length - 12 }));
  await waitFor('the first frame', async () => rects.length > 0);
  expect(rects[0]).toEqual({ sw: 720, sh: 400, x: 0, y: 0, w: 720, h: 400, bytes: 720 * 400 * 4 });
  const before = rects.length;

  await api('POST', `/api/vms/${id}/keys`, { body: { text: 'z' } });
  await waitFor('a dirty rectangle for the key', async () => rects.slice(before).some((r) => r.y <= 2 * 16 && r.y + r.h >= 3 * 16));
  const changed = rects.slice(before).find((r) => r.y <= 2 * 16)!;
  expect(changed.w * changed.h).toBeLessThan(720 * 400); // not a full frame again
  expect(changed.bytes).toBe(changed.w * changed.h * 4);
  ws.close();
  await api('DELETE', `/api/vms/${id}`);
}, 60_000);

test('display stream shared by viewers: one who joins later starts from the current picture, both see the next change', async () => {
  const id = await startEchoVm('ws-viewers');
  const open = () => {
    const ws = new WebSocket(wsUrl(stack.gw.url, `/api/vms/${id}/display?fps=20`), { headers: { authorization: `Bearer ${stack.gw.token}` } });
    const msgs: Buffer[] = [];
    ws.on('message', (d: Buffer) => msgs.push(d));
    return { ws, msgs };
  };
  const first = open();
  await waitFor('the first viewer', async () => first.msgs.length > 0);
  await api('POST', `/api/vms/${id}/keys`, { body: { text: 'seen' } });
  await screenRows(id, (rows) => rows[2] === '> seen');
  await waitFor('the change on the first viewer', async () => first.msgs.length > 1);
  await new Promise((r) => setTimeout(r, 200)); // the last rectangles are in

  const late = open();
  await waitFor('the late viewer', async () => late.msgs.length > 0);
  const full = late.msgs[0];
  expect([0, 2, 4, 6, 8, 10].map((o) => full.readUInt16LE(o))).toEqual([720, 400, 0, 0, 720, 400]);
  const picture = new PNG({ width: 720, height: 400 });
  full.copy(picture.data, 0, 12);
  expect(litCells(picture, 2, 0, 80)).toBe('>seen'.length); // the typed text, not the first frame

  const [n1, n2] = [first.msgs.length, late.msgs.length];
  await api('POST', `/api/vms/${id}/keys`, { body: { text: '!' } });
  await waitFor('the next change on both', async () => first.msgs.length > n1 && late.msgs.length > n2);
  expect(late.msgs[n2].equals(first.msgs[n1])).toBe(true); // the same rectangle to both
  first.ws.close();
  late.ws.close();
  await api('DELETE', `/api/vms/${id}`);
}, 60_000);

test('display stream over gRPC (WatchDisplay): full frame, then the change; unknown VM is NOT_FOUND', async () => {
  const id = await startEchoVm('grpc-display');
  const frames: Array<{ width: number; height: number; rects: Array<{ x: number; y: number; width: number; height: number; rgba: Buffer }> }> = [];
  const stream = c.WatchDisplay({ id, maxFps: 20 }, md);
  stream.on('data', (f) => frames.push(f));
  stream.on('error', () => undefined);
  await waitFor('the first frame', async () => frames.length > 0);
  expect(frames[0].rects).toHaveLength(1);
  expect(frames[0].rects[0].rgba.length).toBe(720 * 400 * 4);
  const n = frames.length;
  await unary((cb) => c.SendKeys({ id, text: 'k' }, md, cb));
  await waitFor('a frame with the key', async () => frames.slice(n).some((f) => f.rects.some((r) => r.y <= 32 && r.y + r.height >= 48)));
  stream.cancel();

  const missing = c.WatchDisplay({ id: 'no-such-vm' }, md);
  const err = await new Promise<grpc.ServiceError>((resolve) => missing.on('error', resolve));
  expect(err.code).toBe(grpc.status.NOT_FOUND);
  await api('DELETE', `/api/vms/${id}`);
}, 60_000);
