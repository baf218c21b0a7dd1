import { afterAll, beforeAll, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { RemoteDevice } from '@quasivm/device-sdk';
import { loadDisplayProto, type DisplayClient } from '@quasivm/proto';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import type { VgaAdapter } from '@quasivm/vga-model';
import { MODE_03H, loadDac, loadFont, makeFont, setMode } from '../../../libs/vga-model/test/helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let svc: ServiceProcess;
let display: DisplayClient;

beforeAll(async () => {
  svc = await startServiceProcess(MAIN, unixAddress('vga'));
  display = new (loadDisplayProto().quasivm.display.v1.Display)(svc.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  display?.close();
  await svc?.stop('SIGKILL');
});

/** Drives a remote VGA like the model helpers drive a local one (reads are fire-and-forget, order kept). */
function asAdapter(dev: RemoteDevice): VgaAdapter {
  return {
    ioWrite: (p: number, s: 1 | 2 | 4, v: number, t: number) => dev.ioWrite(p, s, v, t),
    ioRead: (p: number, s: 1 | 2 | 4, t: number) => (void dev.ioRead(p, s, t), 0),
    memWrite: (a: number, s: 1 | 2 | 4, v: number, t: number) => dev.memWrite(a, s, v, t),
  } as unknown as VgaAdapter;
}

const call = <Req, Res>(fn: (r: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req) =>
  new Promise<Res>((resolve, reject) => fn.call(display, req, (e, r) => (e ? reject(e) : resolve(r as Res))));

test('text written to 0xB8000 through the VGA service shows in the screen text and the screenshot', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-vga-text', {});
  const vga = asAdapter(dev);
  setMode(vga, MODE_03H);
  loadFont(vga, makeFont());
  loadDac(vga, 0, [[0, 0, 0], [0, 0, 42], [0, 42, 0], [0, 42, 42], [42, 0, 0]]);
  loadDac(vga, 0x3f, [[63, 63, 63]]);
  const text = 'Hello from quasivm';
  [...text].forEach((ch, i) => {
    dev.memWrite(0xb8000 + i * 2, 1, ch.charCodeAt(0), 0);
    dev.memWrite(0xb8000 + i * 2 + 1, 1, 0x1f, 0); // white on blue
  });
  dev.memWrite(0xb8000 + 80 * 2, 1, 0xdb, 0); // full block at row 1, col 0
  dev.memWrite(0xb8000 + 80 * 2 + 1, 1, 0x04, 0); // red on black
  await dev.ioRead(0x3cc, 1, 0); // everything before has been applied

  const rows = await call<{ vmId: string }, { rows: string[]; mode: string }>(display.ScreenText, { vmId: 'vm-vga-text' });
  expect(rows.mode).toBe('text');
  expect(rows.rows[0].startsWith(text)).toBe(true);

  const shot = await call<{ vmId: string }, { png: Buffer; width: number; height: number }>(display.Screenshot, { vmId: 'vm-vga-text' });
  const png = PNG.sync.read(shot.png);
  expect([png.width, png.height]).toEqual([720, 400]);
  const px = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
  expect(px(3, 16 + 5)).toEqual([0xaa, 0, 0]); // the red full block (EGA red 0xAA0000)
  expect(px(8, 0)).toEqual([0, 0, 0xaa]); // 9th column of 'H' cell: blue background
  dev.close();
});

test('a 1024x768x32 VBE mode drawn through the linear framebuffer streams as a full frame then dirty rectangles', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-vga-vbe', {});
  const dispi = (index: number, value: number) => {
    dev.ioWrite(0x1ce, 2, index, 0);
    dev.ioWrite(0x1cf, 2, value, 0);
  };
  dispi(4, 0); // disable
  dispi(1, 1024);
  dispi(2, 768);
  dispi(3, 32);
  dispi(4, 0x41); // enable + LFB
  const lfb = dev.description!.memoryWindows[1].base;
  for (let x = 0; x < 64; x++) dev.memWrite(lfb + (10 * 1024 + x) * 4, 4, 0x00ff8000, 0); // orange line at y=10
  await dev.ioRead(0x1cf, 2, 0);

  const frames: Array<{ width: number; height: number; rects: Array<{ x: number; y: number; width: number; height: number; rgba: Buffer }> }> = [];
  const stream = display.Watch({ vmId: 'vm-vga-vbe', maxFps: 30 });
  stream.on('error', () => undefined); // CANCELLED after stream.cancel() below
  await new Promise<void>((resolve) => {
    stream.on('data', (f) => {
      frames.push(f);
      if (frames.length === 1) {
        for (let x = 0; x < 8; x++) dev.memWrite(lfb + (500 * 1024 + 700 + x) * 4, 4, 0x0000ff, 0); // blue dash
      } else resolve();
    });
  });
  stream.cancel();
  expect(frames[0]).toMatchObject({ width: 1024, height: 768 });
  const full = frames[0].rects[0];
  expect([full.width, full.height]).toEqual([1024, 768]);
  const o = (10 * 1024 + 5) * 4;
  expect([...full.rgba.subarray(o, o + 4)]).toEqual([0xff, 0x80, 0x00, 0xff]);
  const dirty = frames[1].rects;
  expect(dirty.length).toBeGreaterThan(0);
  expect(dirty.every((r) => r.width * r.height < 1024 * 768)).toBe(true);
  expect(dirty.some((r) => r.x <= 700 && r.x + r.width > 700 && r.y <= 500 && r.y + r.height > 500)).toBe(true);
  dev.close();
});

test('an unknown VM gets NOT_FOUND from the display service', async () => {
  await expect(call(display.ScreenText, { vmId: 'nope' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
});
