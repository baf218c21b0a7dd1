/**
 * The memory window protocol as a user sees it (remote VGA service): in text mode the
 * vCPU maps the VGA window as memory (soft: a local copy; KVM: a memory slot with the
 * dirty-page log) and ships what the guest wrote, so a guest scrolling its 80x25 console
 * runs far faster than when every access traps to the service (QUASIVM_MAP_WINDOWS=0),
 * and the screen is the same. The screen reaches the service at the display rate while
 * the guest runs, at once before a screenshot or screen text (a sync request), and before
 * a mode in which the window must trap. KVM budgets come from libs/kvm's calibration
 * (kvm_pvm runs ~2 M instructions/s); without /dev/kvm those tests are skipped by name.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@quasivm/kvm';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { budgetMs } from '../../../libs/kvm/test/support/calibration.js';
import { guestImage } from '../../../libs/kvm/test/support/guest-images.js';
import { kvmUnavailableReason } from '../src/kvm/kvm-device-path.js';
import { textToSet2 } from '../src/machine/keymap.js';
import { Vm } from '../src/vm.js';
import { dac8, Display, guestFont } from './support/vga-display.js';
import { vgaDeviceFactory, type VgaAdapter } from '@quasivm/vga-model';
import type { DeviceHost } from '@quasivm/device-sdk';

/** A host for a VGA model that only holds a loaded state (nothing raises IRQs or reads memory). */
const nullHost: DeviceHost = {
  setIrq: () => undefined,
  setIrqDeadline: () => undefined,
  readMemory: async (_a, length) => new Uint8Array(length),
  writeMemory: async () => undefined,
  emitEvent: () => undefined,
};

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
  delete process.env.QUASIVM_DISPLAY_PERIOD_MS;
});
afterAll(async () => {
  display?.close();
  await vga?.stop('SIGKILL');
});

/**
 * Runs vga-text scrolling `lines` lines: host ms from start to its last line, ms between
 * its "scrolling" and "done" lines (the scroll alone, where serial output is reported as
 * it happens: KVM), ms the CPU thread sat blocked on the service, and the final screen.
 */
async function scroll(id: string, lines: number, mapped: boolean, backend: 'soft' | 'kvm' = 'soft', timeoutMs = 120_000): Promise<{ ms: number; scrollMs: number; blockedMs: number; rows: string[] }> {
  if (!mapped) process.env.QUASIVM_MAP_WINDOWS = '0'; // read when the CPU thread starts
  vm = await Vm.create({ id, backend, firmware: guestImage('vga-text', { param0: lines }), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
  const t0 = performance.now();
  vm.start();
  await vm.waitForSerial('vga-text: scrolling', timeoutMs);
  const t1 = performance.now();
  await vm.waitForSerial('vga-text: done', timeoutMs);
  const ms = performance.now() - t0;
  const scrollMs = performance.now() - t1;
  const blockedMs = (await vm.stats())!.remoteBlockedMs;
  const rows = await display.waitForText(id, (r) => r[24]?.startsWith('passes='), 10_000);
  await vm.stop();
  vm = null;
  delete process.env.QUASIVM_MAP_WINDOWS;
  return { ms, scrollMs, blockedMs, rows };
}

test('soft backend: a console scrolling the text screen runs >= 20x more lines per second with the window mapped, and the screen is the same', async () => {
  // Host-timed minus a 0-line run: the soft CPU thread reports serial output once per slice, so both of the guest's lines can come together.
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

const kvmMissing = kvmUnavailableReason();
const kvmModules = kvmMissing ? '' : Kvm.backendModules().join(', ') || 'unknown module';
/** Starting a CPU thread (tsx in a worker) and the VM, on a shared 2-core host. */
const STARTUP_MS = 15_000;
/** vga-text per scrolled line: rep movsw of 1920 words and 80 word stores (with the loop), and its text-buffer accesses. */
const LINE_INSTRUCTIONS = 1920 + 80 * 4 + 20;
const LINE_ACCESSES = 1920 * 2 + 80;
/** A trapped window access crosses to the VGA service: count it as this many calibrated (local) exits. */
const REMOTE_EXIT = 10;

const backends = [
  { backend: 'soft' as const, skip: '', budget: (_: { exits?: number; instructions?: number }) => 60_000 },
  { backend: 'kvm' as const, skip: kvmMissing ? ` (skipped: ${kvmMissing})` : '', budget: (w: { exits?: number; instructions?: number }) => STARTUP_MS + budgetMs(w) },
];

describe(`KVM backend${kvmMissing ? ` (skipped: ${kvmMissing})` : ` [${kvmModules}]`}: the VGA window in a memory slot with the dirty-page log`, () => {
  const t = kvmMissing ? test.skip : test;
  t('a console scrolling the text screen runs >= 20x more lines per second with the window mapped than trapped, and the screen is the same', async () => {
    const TRAPPED = 4;
    const MAPPED = 600;
    const trapped = await scroll('kvm-scroll-trapped', TRAPPED, false, 'kvm', STARTUP_MS + budgetMs({ instructions: TRAPPED * LINE_INSTRUCTIONS, exits: (TRAPPED + 1) * LINE_ACCESSES * REMOTE_EXIT }));
    const mapped = await scroll('kvm-scroll-mapped', MAPPED, true, 'kvm', STARTUP_MS + budgetMs({ instructions: MAPPED * LINE_INSTRUCTIONS, exits: 1000 }));
    expect(trapped.rows[0].trimEnd()).toBe('vga-text: Hello, VGA!');
    expect(mapped.rows[0].trimEnd()).toBe('vga-text: Hello, VGA!');
    expect(trapped.rows[24].trimEnd()).toBe(`passes=0x${TRAPPED.toString(16).padStart(8, '0')}`);
    expect(mapped.rows[24].trimEnd()).toBe(`passes=0x${MAPPED.toString(16).padStart(8, '0')}`);
    expect(mapped.rows.slice(0, 24)).toEqual(trapped.rows.slice(0, 24));
    // Guest-timed: from its "scrolling" line to its "done" line (CPU thread start-up, mode set and font load excluded).
    const t = TRAPPED / (trapped.scrollMs / 1000);
    const m = MAPPED / (mapped.scrollMs / 1000);
    console.log(`KVM [${kvmModules}] scrolled lines/s: trapped ${t.toFixed(1)} (${Math.round(t * LINE_ACCESSES).toLocaleString('en')} text accesses/s, blocked ${trapped.blockedMs.toFixed(0)} ms), mapped ${m.toFixed(0)} (${Math.round(m * LINE_ACCESSES).toLocaleString('en')} accesses/s, blocked ${mapped.blockedMs.toFixed(0)} ms): ${(m / t).toFixed(0)}x`);
    expect(m / t).toBeGreaterThan(20);
    expect(mapped.blockedMs).toBeLessThan(trapped.blockedMs / 5);
  }, 2 * STARTUP_MS + budgetMs({ instructions: 604 * LINE_INSTRUCTIONS, exits: 5 * LINE_ACCESSES * REMOTE_EXIT + 1000 }) + 20_000);
});

const font = guestFont();
const GREY: [number, number, number] = [dac8(42), dac8(42), dac8(42)];
const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];

for (const { backend, skip, budget } of backends) {
  const t = skip ? test.skip : test;
  describe(`${backend} backend: mapped window bytes reach the VGA service${skip}`, () => {
    t('while the guest keeps scrolling without a port access, the display stream shows the rows move (dirty bytes ship at the display rate)', async () => {
      vm = await Vm.create({ id: `vga-fill-live-${backend}`, backend, firmware: guestImage('vga-text', { param0: 0xffffffff }), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
      vm.start();
      await vm.waitForSerial('vga-text: scrolling', budget({ exits: 2000 }));
      // The Watch stream renders what the service has and never asks the vCPU: changes of row 12 come from the display-rate shipping.
      const frames = await display.framesChanging(vm.id, 12 * 16, 13 * 16, 3000);
      expect(frames).toBeGreaterThanOrEqual(3);
    }, budget({ exits: 2000 }) + 30_000);

    t('screen text, screenshot and SaveState taken right after the guest wrote show the write, with the display rate off (sync requests deliver it)', async () => {
      process.env.QUASIVM_DISPLAY_PERIOD_MS = String(3_600_000); // read when the CPU thread starts
      vm = await Vm.create({ id: `vga-sync-${backend}`, backend, firmware: guestImage('vga-echo'), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
      vm.start();
      await vm.waitForSerial('vga-echo: ready', budget({ exits: 2000 }));
      vm.sendKeys(textToSet2('hi'));
      // 'i' is on the screen before the guest reports its key release; it then sleeps in HLT (no exit under KVM).
      await vm.waitForSerial(/(key=\S+\s+){4}/, budget({ exits: 200 }));
      const rows = (await display.text(vm.id)).rows;
      expect(rows[0].trimEnd()).toBe('vga-echo: ready');
      expect(rows[2].trimEnd()).toBe('> hi');
      const shot = await display.screenshot(vm.id);
      let wrong = 0;
      for (const [col, ch] of [[2, 'h'], [3, 'i']] as const) {
        const glyph = font[ch.charCodeAt(0)];
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 8; x++) {
            const on = (glyph[y] & (0x80 >> x)) !== 0;
            if (shot.px(col * 9 + x, 2 * 16 + y).join() !== (on ? GREY : [0, 0, 0]).join()) wrong++;
          }
      }
      expect(wrong).toBe(0);
      // A snapshot is as fresh: the service's SaveState syncs too. Loaded into a fresh VGA, it shows what was typed.
      vm.sendKeys(textToSet2('!'));
      await vm.waitForSerial(/(key=\S+\s+){8}/, budget({ exits: 200 }));
      const restored = vgaDeviceFactory.create(nullHost, {}) as VgaAdapter;
      restored.loadState(await vm.saveDeviceState('vga'));
      expect(restored.screenText()[2].trimEnd()).toBe('> hi!');
    }, budget({ exits: 2400 }) + 30_000);

    t('a mode in which the window must trap gets the mapped bytes first, then its accesses go through the VGA; mapped again, the window starts from the VGA memory', async () => {
      vm = await Vm.create({ id: `vga-window-modes-${backend}`, backend, firmware: guestImage('vga-window-modes'), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
      vm.start();
      await vm.waitForSerial('vga-window-modes: done', budget({ instructions: 100_000, exits: 200 + 4000 * REMOTE_EXIT }));
      const shot = await display.screenshot(vm.id);
      expect([shot.width, shot.height]).toEqual([320, 200]);
      // The fill (mapped, shipped before the XOR mode), the XOR rectangle (trapped: 1 ^ 3 = green), the last rectangle (mapped again).
      for (const [x, y] of [[0, 0], [319, 199], [99, 50], [150, 89], [199, 100], [220, 119]]) expect(shot.px(x, y), `(${x}, ${y})`).toEqual(RED);
      for (const [x, y] of [[100, 50], [149, 89], [125, 70]]) expect(shot.px(x, y), `(${x}, ${y})`).toEqual(GREEN);
      for (const [x, y] of [[200, 100], [219, 119], [210, 110]]) expect(shot.px(x, y), `(${x}, ${y})`).toEqual(BLUE);
    }, budget({ instructions: 100_000, exits: 200 + 4000 * REMOTE_EXIT }) + 30_000);
  });
}
