/**
 * The memory window protocol as a user sees it (soft backend, remote VGA service): in text
 * mode the vCPU maps the VGA window as local memory and ships dirty ranges, so a guest
 * scrolling its 80x25 console runs far faster than when every access traps to the service
 * (QUASIVM_MAP_WINDOWS=0), and the screen text is the same.
 * KVM keeps trapping (no memory slot for the window yet), so it has no test here.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { guestImage } from '../../../libs/kvm/test/support/guest-images.js';
import { Vm } from '../src/vm.js';
import { Display } from './support/vga-display.js';

const VGA_MAIN = fileURLToPath(new URL('../../vga/src/main.ts', import.meta.url));
let vga: ServiceProcess;
let display: Display;
let vm: Vm | null = null;

beforeAll(async () => {
  vga = await startServiceProcess(VGA_MAIN, unixAddress('vga'));
  display = new Display(vga.address);
});
afterEach(async () => {
  await vm?.stop();
  vm = null;
  delete process.env.QUASIVM_MAP_WINDOWS;
});
afterAll(async () => {
  display?.close();
  await vga?.stop('SIGKILL');
});

/** Runs vga-text scrolling `lines` lines; host ms from start to its last line, and ms the CPU thread sat blocked on the service. */
async function scroll(id: string, lines: number, mapped: boolean): Promise<{ ms: number; blockedMs: number; rows: string[] }> {
  if (!mapped) process.env.QUASIVM_MAP_WINDOWS = '0'; // read when the CPU thread starts
  vm = await Vm.create({ id, backend: 'soft', firmware: guestImage('vga-text', { param0: lines }), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
  const t0 = performance.now();
  vm.start();
  await vm.waitForSerial('vga-text: done', 120_000);
  const ms = performance.now() - t0;
  const blockedMs = (await vm.stats())!.remoteBlockedMs;
  const rows = await display.waitForText(id, (r) => r[24]?.startsWith('passes='), 10_000);
  await vm.stop();
  vm = null;
  delete process.env.QUASIVM_MAP_WINDOWS;
  return { ms, blockedMs, rows };
}

test('soft backend: a console scrolling the text screen runs >= 20x more lines per second with the window mapped, and the screen is the same', async () => {
  const base = (await scroll('vga-scroll-base', 0, true)).ms; // CPU thread start, mode set, font load
  const trapped = await scroll('vga-scroll-trapped', 10, false);
  const mapped = await scroll('vga-scroll-mapped', 1000, true);
  expect(trapped.rows[0].trimEnd()).toBe('vga-text: Hello, VGA!');
  expect(mapped.rows[0].trimEnd()).toBe('vga-text: Hello, VGA!');
  expect(trapped.rows[24].trimEnd()).toBe('passes=0x0000000a');
  expect(mapped.rows[24].trimEnd()).toBe('passes=0x000003e8');
  expect(mapped.rows.slice(0, 24)).toEqual(trapped.rows.slice(0, 24));
  const perSecond = (lines: number, ms: number) => lines / (Math.max(1, ms - base) / 1000);
  const t = perSecond(10, trapped.ms);
  const m = perSecond(1000, mapped.ms);
  console.log(`scrolled lines/s: trapped ${t.toFixed(1)} (blocked ${trapped.blockedMs.toFixed(0)} ms), mapped ${m.toFixed(0)} (blocked ${mapped.blockedMs.toFixed(0)} ms)`);
  expect(m / t).toBeGreaterThan(20);
  expect(mapped.blockedMs).toBeLessThan(trapped.blockedMs / 10);
}, 300_000);

test('soft backend: the screen reaches the service while the guest keeps scrolling (dirty ranges ship at the display rate)', async () => {
  vm = await Vm.create({ id: 'vga-fill-live', backend: 'soft', firmware: guestImage('vga-text', { param0: 0xffffffff }), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
  vm.start();
  await vm.waitForSerial('vga-text: scrolling', 30_000);
  // The guest never stops scrolling: the service still sees the rows move, one letter per row.
  const seen = new Set<string>();
  const end = Date.now() + 20_000;
  while (seen.size < 3 && Date.now() < end) {
    const rows = (await display.text(vm.id)).rows;
    const letter = rows[12]?.[40];
    if (letter && /[A-Z]/.test(letter)) seen.add(letter);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(seen.size).toBeGreaterThanOrEqual(3);
}, 60_000);
