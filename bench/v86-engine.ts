// v86 (npm package `v86`) booting a bzImage with Debian's SeaBIOS, as bench/boot.ts and
// bench/boot-phases.ts run it beside quasivm: the same kernel, initramfs, command line and RAM.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const SEABIOS = '/usr/share/seabios/bios.bin';
export const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';

/** The part of v86's emulator the benches use. */
export interface V86Emulator {
  add_listener(event: string, fn: (b: number) => void): void;
  serial0_send(text: string): void;
  destroy(): Promise<void>;
}

/** A running v86 (its serial output goes to `onSerialByte`), or why it cannot start here. */
export async function startV86(o: { kernel: string; initrd: string; cmdline: string; ramMiB: number; onSerialByte: (b: number) => void }): Promise<V86Emulator | string> {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('v86/package.json'));
  } catch {
    return 'npm package v86 is not installed (npm ci)';
  }
  for (const f of [SEABIOS, VGABIOS]) if (!existsSync(f)) return `${f} missing (apt-get install seabios)`;
  const { V86 } = (await import('v86')) as { V86: new (o: Record<string, unknown>) => V86Emulator };
  const image = (p: string) => {
    const b = readFileSync(p);
    return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) };
  };
  const emulator = new V86({
    wasm_path: path.join(dir, 'build', 'v86.wasm'),
    bios: image(SEABIOS),
    vga_bios: image(VGABIOS),
    bzimage: image(o.kernel),
    initrd: image(o.initrd),
    cmdline: o.cmdline,
    memory_size: o.ramMiB << 20,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  });
  emulator.add_listener('serial0-output-byte', o.onSerialByte);
  return emulator;
}

/** The installed v86's version. */
export function v86Version(): string {
  return createRequire(import.meta.url)('v86/package.json').version;
}
