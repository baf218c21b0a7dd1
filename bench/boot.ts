// bench/boot: Debian's 686 kernel + the busybox initramfs (the @quasivm/guest-images build),
// from VM start to the marker line QUASIVM-GUEST-READY that /init prints on serial, then a
// CPU-bound workload typed over the serial console of the booted guest. In one run:
//   - quasivm, soft backend, direct kernel boot (kernel/initrd/cmdline, no BIOS), with the
//     real timer service as a child process, realtime off;
//   - quasivm, soft backend, SeaBIOS + disk.img (syslinux) from the remote IDE service (+ timer);
//   - QEMU's TCG on the same kernel and initramfs (qemu-system-i386 -accel tcg -kernel ...);
//   - v86 (npm package) with the same kernel and initramfs (bzimage/initrd/cmdline) and
//     Debian's SeaBIOS;
// and the ratios quasivm/QEMU-TCG and quasivm/v86. The workloads are timed by the wall clock
// from sending the command line to its end marker on serial (the guest's own clock is virtual
// time on quasivm, so it cannot time them), and run in the first quasivm VM that got there.
// An engine that does not reach a point within the limit says so and the run goes on.
// The soft backend compiles hot pages to WebAssembly (its default); QUASIVM_WASM=0 in the
// environment measures the JavaScript-only JIT instead (the summary says which ran).
// Run: npx tsx bench/boot.ts [limitSeconds=300] [--only=qemu,v86,direct,bios] [--rounds=N] [--logs=DIR]
// (--rounds runs the engines N times in turn, one after another in each round, and reports
// medians with every round's figures and the ratios within each round beside them: this
// 2-core host's speed swings ~30 % between minutes, so one round can mislead.)
// (--logs writes each engine's serial output to DIR/<engine>.serial.log, e.g. to compare the
// kernel's printk timestamps between engines.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskImagePath, initramfsPath, kernelPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../apps/vcpu/src/vm.js';
import { SEABIOS, startV86, v86Version } from './v86-engine.js';

const MARKER = 'QUASIVM-GUEST-READY';
const CMDLINE = 'console=ttyS0';
const RAM_MIB = 128;
const args = process.argv.slice(2);
const LIMIT_S = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 300);
const ONLY = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const LOGS = args.find((a) => a.startsWith('--logs='))?.slice(7);
const ROUNDS = Math.max(1, Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 1) || 1);
const wanted = (key: string) => !ONLY || ONLY.includes(key);

/** The CPU-bound workloads, typed at the guest's serial shell one after the other. */
const WORKLOADS = [
  { name: 'shell loop', cmd: 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' },
  { name: 'md5sum 8 MiB', cmd: 'dd if=/dev/zero bs=1M count=8 2>/dev/null | md5sum' },
];

const apps = (p: string) => fileURLToPath(new URL(`../apps/${p}`, import.meta.url));
const kernel = kernelPath();
const initrd = initramfsPath();
const disk = diskImagePath();
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Serial output of one engine, and waiting for text to show after a given offset. */
class SerialText {
  text = '';
  /** Set when the engine ended (process exit, VM crash): waits fail at once. */
  ended = '';
  private waiters = new Set<() => void>();
  push(s: string): void {
    this.text += s;
    for (const w of [...this.waiters]) w();
  }
  end(why: string): void {
    this.ended ||= why;
    for (const w of [...this.waiters]) w();
  }
  /** Resolves true when `re` matches the output after offset `from`, false after `ms`. */
  waitFor(re: RegExp, from: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (re.test(this.text.slice(from))) done(true);
        else if (this.ended) done(false);
      };
      const timer = setTimeout(() => done(false), ms);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      this.waiters.add(check);
      check();
    });
  }
  lastLine(): string {
    const lines = this.text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    return JSON.stringify((lines.at(-1) ?? '').slice(-100));
  }
}

/** One booting engine: its serial output, a way to type, and a way to end it. */
interface Guest {
  serial: SerialText;
  send(text: string): void;
  stop(): Promise<void>;
  /** Extra figures, asked for when the marker shows (quasivm: guest instructions). */
  atMarker?(markerS: number): Promise<string>;
}

interface Result {
  engine: string;
  markerS?: number;
  failure?: string;
  note?: string;
  workloads: Array<{ name: string; s?: number; failure?: string }>;
}

/** Boots one engine, times the marker, and (when asked) runs the workloads over serial. */
async function measure(key: string, engine: string, runWorkloads: boolean, boot: () => Promise<Guest | string>): Promise<Result> {
  const result: Result = { engine, workloads: [] };
  const t0 = performance.now();
  let guest: Guest | string;
  try {
    guest = await boot();
  } catch (e) {
    guest = (e as Error).message.split('\n')[0];
  }
  if (typeof guest === 'string') {
    result.failure = `not measured: ${guest}`;
    report(result);
    return result;
  }
  try {
    const ok = await guest.serial.waitFor(new RegExp(MARKER), 0, LIMIT_S * 1000 - (performance.now() - t0));
    if (!ok) {
      const why = guest.serial.ended ? `stopped after ${seconds(t0).toFixed(1)} s: ${guest.serial.ended}` : `did not reach the marker in ${LIMIT_S} s`;
      result.failure = `${why} (last serial line ${guest.serial.lastLine()})`;
      return result;
    }
    result.markerS = seconds(t0);
    if (guest.atMarker) result.note = await guest.atMarker(result.markerS);
    if (!runWorkloads) return result;
    // The serial shell starts right after the marker; ask it until it answers.
    const shellT0 = performance.now();
    let answered = false;
    for (let k = 1; !answered && seconds(shellT0) < LIMIT_S; k++) {
      const from = guest.serial.text.length;
      guest.send(`echo SHELL-UP-$((${k}+1000))\n`);
      answered = await guest.serial.waitFor(new RegExp(`SHELL-UP-${k + 1000}`), from, 15_000);
    }
    if (!answered) {
      for (const w of WORKLOADS) result.workloads.push({ name: w.name, failure: `the serial shell did not answer in ${LIMIT_S} s` });
      return result;
    }
    for (const [i, w] of WORKLOADS.entries()) {
      const from = guest.serial.text.length;
      const end = `W${i + 1}-DONE-${(i + 1) * 1000 + 7}`;
      const wt0 = performance.now();
      guest.send(`${w.cmd}; echo W${i + 1}-DONE-$((${i + 1}*1000+7))\n`);
      const done = await guest.serial.waitFor(new RegExp(end), from, LIMIT_S * 1000);
      result.workloads.push(done ? { name: w.name, s: seconds(wt0) } : { name: w.name, failure: `did not finish in ${LIMIT_S} s` });
    }
    return result;
  } finally {
    await guest.stop().catch(() => undefined);
    if (LOGS) {
      mkdirSync(LOGS, { recursive: true });
      writeFileSync(path.join(LOGS, `${key}${ROUNDS > 1 ? `.round${round + 1}` : ''}.serial.log`), guest.serial.text);
    }
    report(result);
  }
}

function report(r: Result): void {
  const head = r.markerS !== undefined ? `${r.markerS.toFixed(1)} s to the marker` : r.failure!;
  const work = r.workloads.map((w) => `${w.name} ${w.s !== undefined ? `${w.s.toFixed(2)} s` : w.failure}`).join('; ');
  console.log(`  [done] ${r.engine}: ${head}${r.note ? ` (${r.note})` : ''}${work ? `; ${work}` : ''}`);
}

/** quasivm, soft backend: a VM built from `spec`, its serial console as a Guest. */
async function quasivmGuest(spec: Parameters<typeof Vm.create>[0]): Promise<Guest> {
  const vm = await Vm.create(spec);
  const serial = new SerialText();
  vm.on('serial', (d: Uint8Array) => serial.push(Buffer.from(d).toString('latin1')));
  vm.on('state', (state: string, reason?: string) => {
    if (state !== 'running' && state !== 'paused' && state !== 'created') serial.end(`VM ${state}${reason ? `: ${reason}` : ''}`);
  });
  vm.start();
  return {
    serial,
    send: (text) => vm.sendSerial(new Uint8Array(Buffer.from(text, 'latin1'))),
    stop: () => vm.stop(),
    atMarker: async (markerS) => {
      if (vm.state !== 'running') return `state ${vm.state}`;
      const s = await vm.stats();
      return s ? `${(s.instructions / 1e6).toFixed(0)} M guest instructions, ${(s.instructions / markerS / 1e6).toFixed(1)} MIPS, guest clock ${(s.guestTimeNs / 1e9).toFixed(1)} s` : '';
    },
  };
}

function qemuGuest(): Guest | string {
  if (spawnSync('qemu-system-i386', ['--version']).status !== 0) return 'qemu-system-i386 is not installed (apt-get install qemu-system-x86)';
  const qemu: ChildProcess = spawn('qemu-system-i386', ['-accel', 'tcg', '-kernel', kernel, '-initrd', initrd, '-append', CMDLINE, '-nographic', '-m', String(RAM_MIB)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const serial = new SerialText();
  let stderr = '';
  qemu.stdout!.on('data', (d: Buffer) => serial.push(d.toString('latin1')));
  qemu.stderr!.on('data', (d: Buffer) => (stderr += d));
  qemu.on('exit', (code, signal) => serial.end(`qemu exited (${code ?? signal}) ${stderr.trim().split('\n')[0] ?? ''}`));
  return {
    serial,
    send: (text) => qemu.stdin!.write(text),
    stop: async () => {
      if (qemu.exitCode !== null || qemu.signalCode !== null) return;
      const exited = new Promise((r) => qemu.once('exit', r));
      qemu.kill('SIGKILL');
      await exited;
    },
  };
}

async function v86Guest(): Promise<Guest | string> {
  const serial = new SerialText();
  const emulator = await startV86({ kernel, initrd, cmdline: CMDLINE, ramMiB: RAM_MIB, onSerialByte: (b) => serial.push(String.fromCharCode(b)) });
  if (typeof emulator === 'string') return emulator;
  return {
    serial,
    send: (text) => emulator.serial0_send(text),
    stop: () => emulator.destroy(),
  };
}

// --- the run -------------------------------------------------------------------------------

const missing = [kernel, initrd, disk].filter((f) => !existsSync(f));
if (missing.length) {
  console.log(`boot: guest images missing (${missing.join(', ')}); build them with: npm run build -w @quasivm/guest-images`);
  process.exit(1);
}
console.log(`boot: Debian's 686 kernel + busybox initramfs to ${MARKER} on serial, ${RAM_MIB} MiB, limit ${LIMIT_S} s per engine`);
console.log(`  load average ${loadavg()[0].toFixed(1)} at start on this ${(await import('node:os')).cpus().length}-core machine; workloads: ${WORKLOADS.map((w) => `${w.name} (\`${w.cmd}\`)`).join(', ')}`);

/** Every round's result per engine key, in round order. */
const runs: Record<string, Result[]> = {};
let round = 0;
const record = (key: string, r: Result): Result => {
  (runs[key] ??= []).push(r);
  return r;
};
let timer: ServiceProcess | null = null;
let ide: ServiceProcess | null = null;
try {
  if (wanted('direct') || wanted('bios')) timer = await startServiceProcess(apps('timer/src/main.ts'), unixAddress('timer'));
  if (wanted('bios')) ide = await startServiceProcess(apps('ide/src/main.ts'), unixAddress('ide'), ['--data-dir', path.dirname(disk)]);
  for (round = 0; round < ROUNDS; round++) {
    if (ROUNDS > 1) console.log(`  round ${round + 1} of ${ROUNDS} (load average ${loadavg()[0].toFixed(1)})`);
    if (wanted('qemu')) record('qemu', await measure('qemu', `QEMU TCG, -kernel (SeaBIOS + linuxboot ROM), ${CMDLINE}`, true, async () => qemuGuest()));
    if (wanted('v86')) record('v86', await measure('v86', `v86 ${v86Version()}, bzimage (Debian SeaBIOS), ${CMDLINE}`, true, v86Guest));
    let direct: Result | undefined;
    if (wanted('direct')) {
      direct = record(
        'direct',
        await measure('direct', `quasivm soft, direct kernel boot, ${CMDLINE}`, true, () =>
          quasivmGuest({
            id: `bench-boot-direct-${round + 1}`,
            backend: 'soft',
            ramMiB: RAM_MIB,
            realtime: false,
            kernel,
            initrd,
            cmdline: CMDLINE,
            devices: [{ device: 'timer', address: timer!.address }],
          }),
        ),
      );
    }
    if (wanted('bios')) {
      const needWorkloads = direct?.markerS === undefined;
      record(
        'bios',
        await measure('bios', `quasivm soft, SeaBIOS + disk.img (syslinux, IDE service), its cmdline`, needWorkloads, async () =>
          existsSync(SEABIOS)
            ? quasivmGuest({
                id: `bench-boot-bios-${round + 1}`,
                backend: 'soft',
                ramMiB: RAM_MIB,
                realtime: false,
                firmware: 'seabios',
                devices: [
                  { device: 'timer', address: timer!.address },
                  { device: 'ide', address: ide!.address, config: { 'primary.master': path.basename(disk), 'primary.master.mode': 'ro' } },
                ],
              })
            : `${SEABIOS} missing (apt-get install seabios)`,
        ),
      );
    }
  }
} finally {
  await Promise.all([timer?.stop('SIGKILL'), ide?.stop('SIGKILL')]);
}

/** The median of the figures that exist (undefined: none). */
function median(values: Array<number | undefined>): number | undefined {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** One engine's rounds as one Result: medians (a failure only when no round got there). */
function summarise(list: Result[] | undefined): Result | undefined {
  if (!list || list.length === 0) return undefined;
  const markerS = median(list.map((r) => r.markerS));
  const workloads = WORKLOADS.map((w, i) => {
    const s = median(list.map((r) => r.workloads[i]?.s));
    const tried = list.some((r) => r.workloads[i] !== undefined);
    return s !== undefined ? { name: w.name, s } : { name: w.name, failure: tried ? list.map((r) => r.workloads[i]?.failure).find(Boolean) : undefined };
  }).filter((w) => w.s !== undefined || w.failure !== undefined);
  return { engine: list[0].engine, markerS, failure: markerS === undefined ? list.map((r) => r.failure).find(Boolean) : undefined, workloads };
}

const results: Record<string, Result> = {};
for (const [key, list] of Object.entries(runs)) results[key] = summarise(list)!;

// --- the summary ---------------------------------------------------------------------------

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const cell = (r: Result | undefined, i: number | null) => {
  if (!r) return 'skipped';
  if (i === null) return r.markerS !== undefined ? `${r.markerS.toFixed(1)} s` : 'no marker';
  const w = r.workloads[i];
  return w?.s !== undefined ? `${w.s.toFixed(2)} s` : w ? 'failed' : '-';
};
console.log('');
console.log(`boot summary (load average ${loadavg()[0].toFixed(1)} at the end; quasivm's soft CPU with the ${process.env.QUASIVM_WASM === '0' ? 'JavaScript' : 'WebAssembly'} JIT${ROUNDS > 1 ? `; medians of ${ROUNDS} rounds` : ''})`);
console.log(`  ${pad('engine', 30)}${pad('to marker', 12)}${WORKLOADS.map((w) => pad(w.name, 16)).join('')}`);
const rows: Array<[string, string]> = [
  ['quasivm soft, direct kernel', 'direct'],
  ['quasivm soft, SeaBIOS + disk', 'bios'],
  ['QEMU TCG (-kernel)', 'qemu'],
  ['v86 (bzimage)', 'v86'],
];
for (const [label, key] of rows) console.log(`  ${pad(label, 30)}${pad(cell(results[key], null), 12)}${WORKLOADS.map((_, i) => pad(cell(results[key], i), 16)).join('')}`);
for (const [key, r] of Object.entries(results)) if (r.failure) console.log(`  ${key}: ${r.failure}`);
if (ROUNDS > 1) {
  const each = (key: string) => (runs[key] ?? []).map((r) => (r.markerS !== undefined ? r.markerS.toFixed(1) : '-')).join(' / ');
  console.log(`  to the marker, round by round (s): ${rows.filter(([, key]) => runs[key]).map(([, key]) => `${key} ${each(key)}`).join('; ')}`);
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : 'n/a');
console.log('  ratios, time to the marker (lower is faster; targets: quasivm/TCG <= 1.5x, quasivm/v86 < 1x):');
for (const key of ['direct', 'bios']) {
  const r = results[key];
  if (!r) continue;
  console.log(`    ${pad(key === 'direct' ? 'direct kernel' : 'SeaBIOS + disk', 16)} quasivm/QEMU-TCG ${pad(ratio(r.markerS, results.qemu?.markerS), 9)} quasivm/v86 ${ratio(r.markerS, results.v86?.markerS)}`);
  if (ROUNDS > 1) {
    // Within each round the engines ran minutes apart at most: these pairs see the same host.
    const paired = (other: string) => (runs[key] ?? []).map((q, i) => ratio(q.markerS, runs[other]?.[i]?.markerS)).join(' ');
    console.log(`    ${pad('', 16)} round by round: quasivm/QEMU-TCG ${paired('qemu')}; quasivm/v86 ${paired('v86')}`);
  }
}
const worker = results.direct?.workloads.length ? results.direct : results.bios?.workloads.length ? results.bios : undefined;
if (worker) {
  console.log(`  ratios, workloads (in the ${worker === results.direct ? 'direct-kernel' : 'SeaBIOS + disk'} VM):`);
  WORKLOADS.forEach((w, i) => {
    const q = worker.workloads[i]?.s;
    console.log(`    ${pad(w.name, 16)} quasivm/QEMU-TCG ${pad(ratio(q, results.qemu?.workloads[i]?.s), 9)} quasivm/v86 ${ratio(q, results.v86?.workloads[i]?.s)}`);
  });
} else console.log('  workloads: no quasivm VM reached the marker');
await sleep(10);
process.stdout.write('', () => process.exit(0));
