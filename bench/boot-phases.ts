// bench/boot-phases: where a Linux boot's wall time goes, quasivm's soft backend beside v86 in the
// same run. Boots Debian's 686 kernel + the busybox initramfs (the @quasivm/guest-images build) to
// the marker QUASIVM-GUEST-READY on both engines one after the other, notes the wall time of every
// serial line (printk timestamps stripped, so the engines' lines match by text), and prints the
// milestones below with each engine's time and the time since the milestone before: the phase
// where quasivm falls behind stands out. quasivm's lines also show the guest instruction count
// (its VM stats, polled every 50 ms, so a little late). bench/boot.ts gives the totals; this is
// the breakdown (session 15 found the decompressor's start, kernel init and /init this way).
// Run: npx tsx bench/boot-phases.ts [--only=direct|v86] [--bios] (--bios: quasivm boots SeaBIOS +
// disk.img through the IDE service instead of the kernel directly; v86 always loads the bzImage).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskImagePath, initramfsPath, kernelPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../apps/vcpu/src/vm.js';
import { startV86 } from './v86-engine.js';

const MARKER = 'QUASIVM-GUEST-READY';
const CMDLINE = 'console=ttyS0';
const RAM_MIB = 128;
const LIMIT_MS = 300_000;
/**
 * Kernel messages (and the marker) that end a phase, in the order both engines print them (not the
 * clocksource switch: delayed work, it lands elsewhere on each); a line that does not show is left out.
 */
const MILESTONES = [
  'SYSLINUX',
  'Loading /initrd',
  'Linux version',
  'Memory:',
  'pid_max:',
  'HugeTLB: registered',
  'NET: Registered PF_INET',
  'Initialise system trusted keyrings',
  'Loaded X.509 cert',
  'clk: Disabling unused clocks',
  'Run /init as init process',
  MARKER,
];
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const bios = args.includes('--bios');
const apps = (p: string) => fileURLToPath(new URL(`../apps/${p}`, import.meta.url));

interface Line {
  s: number;
  text: string;
  instructions?: number;
}

/** Serial bytes to timed lines; resolves `done` at the marker. */
class LineClock {
  readonly lines: Line[] = [];
  private partial = '';
  private readonly t0 = performance.now();
  private resolve!: () => void;
  readonly done = new Promise<void>((r) => (this.resolve = r));
  constructor(private readonly instructions: () => number | undefined = () => undefined) {}
  push(text: string): void {
    for (const ch of text) {
      if (ch !== '\n') {
        this.partial += ch;
        continue;
      }
      const line = this.partial.replace(/\r/g, '').replace(/^\[\s*[\d.]+\]\s*/, '').trim();
      this.partial = '';
      if (!line) continue;
      this.lines.push({ s: (performance.now() - this.t0) / 1000, text: line, instructions: this.instructions() });
      if (line.includes(MARKER)) this.resolve();
    }
  }
}

const within = (p: Promise<void>, what: string) =>
  Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`${what}: no marker in ${LIMIT_MS / 1000} s`)), LIMIT_MS).unref())]);

async function bootV86(): Promise<Line[]> {
  const clock = new LineClock();
  const emulator = await startV86({ kernel: kernelPath(), initrd: initramfsPath(), cmdline: CMDLINE, ramMiB: RAM_MIB, onSerialByte: (b) => clock.push(String.fromCharCode(b)) });
  if (typeof emulator === 'string') throw new Error(`v86: ${emulator}`);
  try {
    await within(clock.done, 'v86');
  } finally {
    await emulator.destroy();
  }
  return clock.lines;
}

async function bootQuasivm(): Promise<Line[]> {
  const services: ServiceProcess[] = [];
  try {
    const timer = await startServiceProcess(apps('timer/src/main.ts'), unixAddress('timer'));
    services.push(timer);
    const devices = [{ device: 'timer', address: timer.address }];
    if (bios) {
      const ide = await startServiceProcess(apps('ide/src/main.ts'), unixAddress('ide'), ['--data-dir', path.dirname(diskImagePath())]);
      services.push(ide);
      devices.push({ device: 'ide', address: ide.address, config: { 'primary.master': path.basename(diskImagePath()), 'primary.master.mode': 'ro' } } as (typeof devices)[number]);
    }
    let instructions: number | undefined;
    const clock = new LineClock(() => instructions);
    const common = { id: 'boot-phases', backend: 'soft' as const, ramMiB: RAM_MIB, realtime: false, devices };
    const vm = await Vm.create(bios ? { ...common, firmware: 'seabios' } : { ...common, kernel: kernelPath(), initrd: initramfsPath(), cmdline: CMDLINE });
    vm.on('serial', (d: Uint8Array) => clock.push(Buffer.from(d).toString('latin1')));
    const poll = setInterval(() => void vm.stats().then((s) => (instructions = s?.instructions ?? instructions), () => undefined), 50);
    vm.start();
    try {
      await within(clock.done, 'quasivm');
    } finally {
      clearInterval(poll);
      await vm.stop();
    }
    return clock.lines;
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
  }
}

const runs: Record<string, Line[]> = {};
if (only !== 'direct') runs.v86 = await bootV86();
if (only !== 'v86') runs.quasivm = await bootQuasivm();

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const engines = Object.keys(runs);
console.log(`boot-phases: wall time at each milestone (s) and since the one before; quasivm ${bios ? 'SeaBIOS + disk' : 'direct kernel'}, v86 bzImage, ${CMDLINE}`);
console.log(`  ${pad('milestone', 44)}${engines.map((e) => pad(e, 26)).join('')}`);
const last: Record<string, number> = {};
for (const m of MILESTONES) {
  const cells = engines.map((e) => {
    const line = runs[e].find((l) => l.text.includes(m));
    if (!line) return pad('-', 26);
    const since = line.s - (last[e] ?? 0);
    last[e] = line.s;
    const instr = line.instructions !== undefined ? ` ${(line.instructions / 1e6).toFixed(0)}M` : '';
    return pad(`${line.s.toFixed(2)} (+${since.toFixed(2)})${instr}`, 26);
  });
  if (cells.some((c) => c.trim() !== '-')) console.log(`  ${pad(m, 44)}${cells.join('')}`);
}
process.exit(0);
