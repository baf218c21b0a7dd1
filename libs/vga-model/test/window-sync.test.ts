import { describe, expect, it } from 'vitest';
import { MODE_03H, MODE_12H, MODE_13H, loadDac, loadFont, makeFont, makeVga, outw, pixel, rgba6, setMode } from './helpers.js';

const bytesOf = (s: string, attr: number) => Uint8Array.from([...s].flatMap((c) => [c.charCodeAt(0), attr]));

describe('window mode for the vCPU', () => {
  it('starts trapped (RAM disabled) and goes direct in text mode, trapping while the font loads', () => {
    const { vga, host } = makeVga();
    expect(vga.windowMode()).toMatchObject({ mode: 'trap', mapping: 'disabled', generation: 0 });
    setMode(vga, MODE_03H);
    expect(vga.windowMode()).toMatchObject({ mode: 'direct', mapping: 'odd-even', base: 0xb8000, length: 0x8000 });
    host.events.length = 0;
    loadFont(vga, makeFont());
    const modes = host.ofKind('window-mode').map((e) => `${e.mode}:${e.mapping}:${e.base}+${e.length}`);
    expect(modes[0]).toBe('trap:planar:753664+32768');
    expect(modes.at(-1)).toBe('direct:odd-even:753664+32768');
    // Every event reports a change: no two consecutive events are the same mapping.
    for (let i = 1; i < modes.length; i++) expect(modes[i]).not.toBe(modes[i - 1]);
  });

  it('goes to trap for any non-RAM-like datapath setting (bit mask, write mode, set/reset)', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_13H);
    expect(vga.windowMode().mode).toBe('direct');
    outw(vga, 0x3ce, 0x0f08);
    expect(vga.windowMode().mode).toBe('trap');
    outw(vga, 0x3ce, 0xff08);
    outw(vga, 0x3ce, 0x4105);
    expect(vga.windowMode().mode).toBe('trap');
    outw(vga, 0x3ce, 0x4005);
    outw(vga, 0x3ce, 0x0101);
    expect(vga.windowMode().mode).toBe('trap');
    outw(vga, 0x3ce, 0x0001);
    expect(vga.windowMode().mode).toBe('direct');
  });

  it('applies shipped dirty pages of a direct text window, even after the switch to trap', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_03H);
    loadFont(vga, makeFont());
    vga.syncWindow(0xb8000 + 160, bytesOf('synced row', 0x07));
    expect(vga.screenText()[1].trimEnd()).toBe('synced row');
    expect(Array.from(vga.readWindow(0xb8000 + 160, 4))).toEqual([0x73, 0x07, 0x79, 0x07]);
    expect(vga.memRead(0xb8000 + 161, 1, 0)).toBe(0x07);
    // Guest switches to a planar mode; the vCPU flushes what it had dirty afterwards.
    setMode(vga, MODE_12H);
    expect(vga.windowMode().mode).toBe('trap');
    vga.syncWindow(0xb8000 + 320, bytesOf('late', 0x07));
    setMode(vga, MODE_03H);
    expect(vga.screenText()[2].trimEnd()).toBe('late');
  });

  it('syncs a chain-4 window so synced bytes are pixels', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_13H);
    loadDac(vga, 9, [[10, 20, 30]]);
    const row = new Uint8Array(320).fill(9);
    vga.syncWindow(0xa0000 + 150 * 320, row);
    const f = vga.render(0);
    expect(pixel(f, 0, 150)).toEqual(rgba6([10, 20, 30]));
    expect(pixel(f, 319, 150)).toEqual(rgba6([10, 20, 30]));
    expect(pixel(f, 0, 151)).not.toEqual(rgba6([10, 20, 30]));
    expect(vga.memRead(0xa0000 + 150 * 320 + 200, 1, 0)).toBe(9);
    expect(vga.readWindow(0xa0000 + 150 * 320, 320)).toEqual(row);
  });

  it('syncs the banked VBE window and the LFB', () => {
    const { vga } = makeVga();
    outw(vga, 0x1ce, 4);
    outw(vga, 0x1cf, 0x41);
    outw(vga, 0x1ce, 5);
    outw(vga, 0x1cf, 2);
    expect(vga.windowMode()).toMatchObject({ mode: 'direct', mapping: 'vbe-bank', bank: 2 });
    vga.syncWindow(0xa0000 + 8, Uint8Array.of(1, 2, 3));
    expect(Array.from(vga.readLfb(0xe0000000 + 2 * 0x10000 + 8, 3))).toEqual([1, 2, 3]);
    vga.syncLfb(0xe0000000 + 100, Uint8Array.of(9, 8, 7));
    expect(vga.memRead(0xe0000000 + 100, 4, 0)).toBe(0x00070809);
    vga.syncLfb(0xe0000000 + (16 << 20) - 1, Uint8Array.of(5, 6));
    expect(vga.counters.unsyncedBytes).toBe(1);
  });

  it('applies a late sync through the mapping of the generation the vCPU mapped under', () => {
    const { vga, host } = makeVga();
    outw(vga, 0x1ce, 4);
    outw(vga, 0x1cf, 0x41);
    outw(vga, 0x1ce, 5);
    outw(vga, 0x1cf, 1);
    const g1 = vga.windowMode().generation;
    outw(vga, 0x1cf, 2); // bank 2: a new generation, announced by an event
    expect(host.ofKind('window-mode').at(-1)).toMatchObject({ bank: 2, generation: g1 + 1 });
    vga.syncWindow(0xa0000, Uint8Array.of(0x11), g1); // dirtied while bank 1 was mapped
    vga.syncWindow(0xa0000, Uint8Array.of(0x22));
    expect(vga.readLfb(0xe0000000 + 0x10000, 1)[0]).toBe(0x11);
    expect(vga.readLfb(0xe0000000 + 0x20000, 1)[0]).toBe(0x22);
    vga.syncWindow(0xa0000, Uint8Array.of(0x33), g1 + 100);
    expect(vga.counters.unsyncedBytes).toBe(1);
  });

  it('drops syncs when the window was never direct', () => {
    const { vga } = makeVga();
    vga.syncWindow(0xa0000, new Uint8Array(16).fill(1));
    expect(vga.counters.unsyncedBytes).toBe(16);
    expect(vga.planes.vram.every((b) => b === 0)).toBe(true);
    expect(vga.readWindow(0xa0000, 4)).toEqual(Uint8Array.of(255, 255, 255, 255));
  });

  it('answers the device protocol: window modes, fetch and sync through the current mapping', () => {
    const { vga } = makeVga();
    expect(vga.windowModes()[0]).toEqual({ base: 0xa0000, length: 0x20000, direct: false, generation: 0 });
    setMode(vga, MODE_03H);
    loadFont(vga, makeFont());
    const [legacy] = vga.windowModes();
    expect(legacy).toMatchObject({ base: 0xb8000, length: 0x8000, direct: true });
    vga.memorySync(0xb8000, bytesOf('Hi', 0x1f));
    expect(vga.screenText()[0].startsWith('Hi')).toBe(true);
    expect(Array.from(vga.memoryFetch(0xb8000, 4))).toEqual([0x48, 0x1f, 0x69, 0x1f]);
    // A planar mode: the legacy window traps, and a late sync is not applied through it.
    setMode(vga, MODE_12H);
    expect(vga.windowModes()[0].direct).toBe(false);
    vga.memorySync(0xa0000, Uint8Array.of(0xff));
    expect(vga.counters.unsyncedBytes).toBe(1);
  });

  it('reports the LFB direct once BAR0 decodes, with a new generation on every DISPI enable write; the banked window keeps trapping', () => {
    const { vga } = makeVga();
    vga.configWrite(0x04, 2, 0x0002); // memory space on
    const g0 = vga.windowModes()[1];
    expect(g0).toMatchObject({ base: 0xe0000000, direct: true });
    outw(vga, 0x1ce, 4);
    outw(vga, 0x1cf, 0x41);
    const [legacy, lfb] = vga.windowModes();
    expect(lfb.generation).toBeGreaterThan(g0.generation);
    expect(legacy.direct).toBe(false); // vbe-bank aliases the LFB
    vga.memorySync(0xe0000000 + 8, Uint8Array.of(7, 8));
    expect(Array.from(vga.memoryFetch(0xe0000000 + 8, 2))).toEqual([7, 8]);
  });
});
