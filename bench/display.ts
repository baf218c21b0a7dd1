// bench/display: what showing a VM's screen costs.
// 1. Render time per frame of the VGA model's renderer (VgaAdapter.render, what the Display
//    service's Screenshot and Watch call), in-process: the adapter is put into 80x25 text mode
//    (mode 03h register table + an 8x16 font), 640x480x4 planar (mode 12h) and 1024x768x32
//    (Bochs VBE through the DISPI ports) by port writes as the model's tests do, video memory
//    filled with a pattern, then the median and p90 of N renders. Each render compares the
//    frame with the previous one for dirty rectangles (the screen is unchanged between them,
//    so a render here is the full rasterisation plus a full compare).
// 2. Frames per second delivered to a subscriber of the Display Watch stream (gRPC, max_fps 60)
//    while a guest rewrites the whole 1024x768x32 screen continuously (target >= 30 fps), and
//    the bytes per frame (RGBA bytes of the rectangles, and the encoded message size). Stack:
//    the VGA service as a child process, a soft-backend VM in this process running the vga-vbe
//    guest (guests/src/vga-vbe.asm) with param0 (number of full-screen fills) patched to ~2^31,
//    so every fill changes every pixel. Counted over ~5 s after the first frame, twice: the guest
//    as built (one `rep stosd` per fill) and with the fill patched into a stosd/loop loop (see
//    vbeGuest below for why). Also printed: the guest's fills seen per second on the stream.
// Run: npx tsx bench/display.ts [renders] [seconds]
import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { loadDisplayProto, type DisplayFrame } from '@quasivm/proto';
import type { VgaAdapter } from '@quasivm/vga-model';
import { MODE_03H, MODE_12H, loadDac, loadFont, makeFont, makeVga, outw, setMode } from '../libs/vga-model/test/helpers.js';
import { guestImage } from '../libs/kvm/test/support/guest-images.js';
import { Vm } from '../apps/vcpu/src/vm.js';

const RENDERS = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 5);

/** Bytes of a varint; a proto3 scalar field (tag + varint) takes 0 bytes when it is 0. */
const varint = (v: number) => (v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5);
const field = (v: number) => (v ? 1 + varint(v) : 0);
/** Encoded size of a DisplayFrame message as the service sends it. */
function encodedSize(m: DisplayFrame): number {
  let n = field(Number(m.frame)) + field(m.width) + field(m.height);
  for (const r of m.rects) {
    const body = field(r.x) + field(r.y) + field(r.width) + field(r.height) + (r.rgba.length ? 1 + varint(r.rgba.length) + r.rgba.length : 0);
    n += 1 + varint(body) + body;
  }
  return n;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

// ------------------------------------------------------------------ 1. renderer, in-process

function textMode(): VgaAdapter {
  const { vga } = makeVga();
  setMode(vga, MODE_03H);
  loadFont(vga, makeFont());
  // Every cell: a varying character in a varying colour (blink off: attribute bit 7 clear).
  for (let i = 0; i < 80 * 25; i++) vga.memWrite(0xb8000 + i * 2, 2, ((i * 7) & 0xff) | (((i * 13) & 0x7f) << 8), 0);
  return vga;
}

function planarMode(): VgaAdapter {
  const { vga } = makeVga();
  setMode(vga, MODE_12H);
  loadDac(vga, 0, [...Array(64).keys()].map((i) => [(i * 9) & 63, (i * 3) & 63, i] as [number, number, number]));
  for (let plane = 0; plane < 4; plane++) {
    outw(vga, 0x3c4, ((1 << plane) << 8) | 0x02); // map mask: this plane
    for (let i = 0; i < 80 * 480; i++) vga.memWrite(0xa0000 + i, 1, (i * (plane + 3) + (i >> 7)) & 0xff, 0);
  }
  outw(vga, 0x3c4, 0x0f02);
  return vga;
}

function vbeMode(): VgaAdapter {
  const { vga } = makeVga();
  const dispi = (index: number, value: number) => {
    outw(vga, 0x1ce, index);
    outw(vga, 0x1cf, value);
  };
  dispi(4, 0);
  dispi(1, 1024);
  dispi(2, 768);
  dispi(3, 32);
  dispi(4, 0x41); // enabled, linear framebuffer
  for (let i = 0; i < 1024 * 768; i++) vga.memWrite(0xe0000000 + i * 4, 4, (i * 0x010203) & 0xffffff, 0);
  return vga;
}

function timeRenders(name: string, vga: VgaAdapter): string {
  let f = vga.render(0);
  for (let i = 0; i < 5; i++) f = vga.render(0, f.frame); // warm-up (JIT)
  const ms: number[] = [];
  for (let i = 0; i < RENDERS; i++) {
    const t0 = performance.now();
    f = vga.render(0, f.frame);
    ms.push(performance.now() - t0);
  }
  const med = pct(ms, 50);
  return `  ${name.padEnd(22)} ${`${f.width}x${f.height}`.padEnd(9)} mode ${f.mode.kind.padEnd(9)} median ${med.toFixed(2)} ms, p90 ${pct(ms, 90).toFixed(2)} ms (${(1000 / med).toFixed(0)} renders/s, ${((f.width * f.height) / med / 1000).toFixed(0)} Mpixel/s)`;
}

console.log(`display: renderer (VgaAdapter.render), in-process, ${RENDERS} renders each (load ${loadavg()[0].toFixed(2)})`);
console.log(timeRenders('80x25 text (03h)', textMode()));
console.log(timeRenders('640x480x4 planar (12h)', planarMode()));
console.log(timeRenders('1024x768x32 (VBE)', vbeMode()));

// ------------------------------------------------------------------ 2. Watch stream

// vga-vbe's fill is one `rep stosd` of the whole screen (786,432 elements). The soft CPU
// retires one instruction per element and a REP longer than the slice yields between
// elements (as a real CPU does for an interrupt), so the mapped LFB window ships its dirty
// ranges mid-fill at the display rate. The guest is measured as it is, and patched:
// `mov eax,ebx; mov ecx,N; rep stosd; add ebx,C` -> `mov ecx,N; l: stosd; loop l; nop;
// add eax,C; nop` (same 15 bytes, same picture but for the colour's start value).
const REP_FILL = Buffer.from('89d8b900000c00f3ab81c303020100', 'hex');
const LOOP_FILL = Buffer.from('b900000c00abe2fd900503020100' + '90', 'hex');

function vbeGuest(loopFill: boolean): Uint8Array {
  const image = guestImage('vga-vbe', { param0: 0x7fffffff });
  if (!loopFill) return image;
  const at = Buffer.from(image.buffer, image.byteOffset, image.byteLength).indexOf(REP_FILL);
  if (at < 0) throw new Error('vga-vbe: the fill loop is not the expected code; update bench/display.ts');
  image.set(LOOP_FILL, at);
  return image;
}

const vgaService = await startServiceProcess(fileURLToPath(new URL('../apps/vga/src/main.ts', import.meta.url)), unixAddress('vga'));
const client = new (loadDisplayProto().quasivm.display.v1.Display)(vgaService.address, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': -1,
});

async function watch(loopFill: boolean): Promise<void> {
  const id = `bench-display-vbe-${loopFill ? 'loop' : 'rep'}`;
  const vm = await Vm.create({ id, backend: 'soft', firmware: vbeGuest(loopFill), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vgaService.address }] });
  let frames = 0;
  let rgbaBytes = 0;
  let wireBytes = 0;
  let rects = 0;
  let fullFrames = 0;
  let counting = false;
  const gaps: number[] = [];
  let last = 0;
  let lastColour = -1;
  let colourChanges = 0;
  let modeSeen = false;
  let first: () => void;
  const firstFrame = new Promise<void>((r) => (first = r));
  // The stream ends with NOT_FOUND until the VM's VGA session exists: subscribe once it does.
  const subscribe = () => {
    const call = client.Watch({ vmId: id, maxFps: 60 });
    call.on('data', (m: DisplayFrame) => {
      const now = performance.now();
      if (!counting) {
        if (m.width === 1024 && m.height === 768) {
          modeSeen = true;
          first();
        }
        return;
      }
      frames++;
      rects += m.rects.length;
      wireBytes += encodedSize(m);
      for (const r of m.rects) {
        rgbaBytes += r.rgba.length;
        if (r.x === 0 && r.y === 0 && r.width === 1024 && r.height === 768) fullFrames++;
        if (r.x === 0 && r.y === 0) {
          const c = (r.rgba[0] << 16) | (r.rgba[1] << 8) | r.rgba[2];
          if (c !== lastColour) colourChanges++;
          lastColour = c;
        }
      }
      if (last) gaps.push(now - last);
      last = now;
    });
    call.on('error', () => {
      if (!done) setTimeout(() => (stream = subscribe()), 100); // no VGA session for the VM yet
    });
    return call;
  };
  let stream: ReturnType<typeof subscribe> | null = null;
  let done = false;
  vm.start();
  try {
    stream = subscribe();
    // The rep-stosd guest may not show its mode for minutes: give it the measuring time.
    await Promise.race([firstFrame, new Promise((r) => setTimeout(r, SECONDS * 1000))]);
    await new Promise((r) => setTimeout(r, 300)); // past the stream's first full frame
    counting = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    counting = false;
    const elapsed = (performance.now() - t0) / 1000;
    const blockedMs = (await vm.stats())?.remoteBlockedMs;
    const n = Math.max(1, frames);
    console.log(`  ${loopFill ? 'patched (stosd; loop)' : 'as built (rep stosd)'}: ${modeSeen ? '' : '1024x768 mode never reached the service; '}${frames} frames in ${elapsed.toFixed(1)} s = ${(frames / elapsed).toFixed(1)} fps (target >= 30)${gaps.length ? `, inter-frame gap p50 ${pct(gaps, 50).toFixed(1)} ms, p99 ${pct(gaps, 99).toFixed(1)} ms` : ''}`);
    if (frames) {
      console.log(`    per frame: ${(rects / n).toFixed(1)} rects, ${(rgbaBytes / n / 1024).toFixed(0)} KiB RGBA, ${(wireBytes / n / 1024).toFixed(0)} KiB encoded message (${fullFrames} whole-screen frames); ${(wireBytes / elapsed / 1e6).toFixed(1)} MB/s`);
      console.log(`    guest fills seen (top-left pixel changed colour): ${colourChanges} = ${(colourChanges / elapsed).toFixed(1)}/s; CPU thread blocked on the VGA service ${blockedMs?.toFixed(0) ?? '?'} ms in all`);
    }
  } finally {
    done = true;
    stream?.cancel();
    await vm.stop();
  }
}

console.log(`display: Watch stream (gRPC, max_fps 60) of the VGA service process; soft-backend guest vga-vbe filling 1024x768x32 continuously, ${SECONDS} s each (load ${loadavg()[0].toFixed(2)})`);
try {
  await watch(false);
  await watch(true);
} finally {
  client.close();
  await vgaService.stop('SIGKILL');
}
process.exit(0);
