// bench/disk: a guest's sequential READ and WRITE MB/s through the remote IDE service, PIO
// and DMA, beside the same guest under QEMU in the same run.
//
// The ide-speed guest moves 64 KiB chunks on the primary master from LBA 0 on with
//   - PIO READ/WRITE SECTORS: one rep insw/outsw and a status poll per sector
//   - PIO READ/WRITE MULTIPLE (16 sectors per block): one rep insw/outsw (8 KiB) per block
//   - READ/WRITE DMA through the PIIX3 bus master: one 64 KiB PRD entry, moved with the
//     protocol's memory requests
//   - READ/WRITE DMA EXT of 512 KiB (eight 64 KiB PRD entries) per command: Linux's libata
//     issues requests this large (up to 1280 KiB) for sequential I/O
// Over the fast lane the status read that starts a PIO data phase brings the whole command's
// data (ReadAhead; WriteAhead for writes, which complete when their data is in: the write
// cache is on) and the next commands of the sequential run with theirs (CommandAhead, up to
// 512 KiB), and the vCPU answers the sectors' reads itself. A DMA command the device did not
// predict finishes inside the vCPU's bus-master poll, guest memory served on the lane (the PRD
// table, and for writes the buffers it describes, sent with the START write) and its IRQ
// changes too; the reply to that poll predicts the run's next DMA commands (CommandAhead.dma:
// up to 256, reads with their sectors up to 8 MiB), which the vCPU then carries out itself at
// their START writes (PRD table walked and data copied in its own RAM, bus-master and drive
// status answered as the device would) and posts to the device (DmaServed): READ DMA of 64 KiB
// is ~6 round trips for 64 MiB instead of ~1030, the next predictions asked for while the vCPU
// serves those it holds (DmaMore) (QUASIVM_DMA_AHEAD=0: every command crosses). The first
// predictions carry ~1 MiB of read data (Read.dma_ahead_first); the vCPU asks at once, and then
// as it serves, for the next ones in DmaMore requests of ~1 MiB each, ~16 MiB ahead, the device
// writes each reply as it makes it, and the vCPU reads their bytes as they come (FIONREAD, every
// 512 KiB served) into buffers it reuses once their commands are served, and takes each reply
// when the commands it holds run out. Served commands reach the device in batches of 4 MiB
// (reads) or 2 MiB (writes), each one IRQ pulse on the gRPC stream. Written buffers are copied into a reused buffer
// of the lane; the IDE service reads a large frame straight into a buffer of its own (onread).
// Each row says how many requests the CPU thread waited for (round trips), the figure that
// does not move with the host's load, and how many DMA commands the vCPU carried out.
// and the writes end with FLUSH CACHE (fsync), inside the time. Each row is one VM that moves
// the same MiB PASSES times (default 4) from LBA 0; the figure is MB/s over passes 2..PASSES,
// timed between the guest's serial lines (wall clock), the first pass's figure and each pass's
// beside it. The first pass warms the VM up, as fio's ramp_time does: a fresh VM's lane and
// per-command code (V8 optimises it as it runs) and its guest code (the soft CPU's JIT tiers)
// start cold, and passes 2-4 still get faster (session 12, WRITE DMA: 193, 306, 412, 617 MB/s).
// PASSES=1 gives one pass in a fresh VM, as the rows were until session 11. The guest sums
// the first dword of every chunk; each pass's reads are checked against the image's pattern,
// writes by reading the image file back after the last pass.
//
// quasivm: the vcpu in this process (backend BACKEND, default soft), the IDE service apps/ide
// a real child process (fast lane on). QEMU: qemu-system-i386 with the same guest binary as
// -bios and a raw image as -drive file=...,format=raw,if=ide; `-accel kvm` first, `-accel tcg`
// when KVM does not start. Skipped when qemu-system-i386 is not installed.
//
// MiB per method defaults to 64 (it was 16): each row runs in a fresh VM whose CPU thread and
// lane code start cold, and in 16 MiB (0.2-0.6 s) JIT warm-up and single scheduling stalls
// weighed on the figure: 16 MiB runs varied by +-15 % and read 7-31 % below 64 MiB runs of
// the same code (session 6: READ DMA 58.6 vs 85.1 MB/s). QEMU moves the same 64 MiB; its PIO
// rows under a slow /dev/kvm then end at QEMU_LIMIT and print the bound that implies.
// MIB=16 gives the old rows.
//
// Run: npx tsx bench/disk.ts   (MIB=n: MiB per method, default 64; BACKEND=soft|kvm;
//                               QEMU=0 skips QEMU; ONLY=2,5 runs those methods' rows only; PASSES=n per VM, default 4;
//                               QEMU_LIMIT=s per QEMU run (all its passes), default 120,
//                               past it the row says "not done" with the bound it implies)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { buildGuests } from '../guests/build.mjs';
import { Vm } from '../apps/vcpu/src/vm.js';

const MIB = Number(process.env.MIB ?? 64);
const BACKEND = (process.env.BACKEND ?? 'soft') as 'soft' | 'kvm';
/** Passes over the same MIB in one VM per row (PASSES=1: one pass in a fresh VM). */
const PASSES = Math.max(1, Math.min(255, Number(process.env.PASSES ?? 4)));
/** Seconds one QEMU run (all its passes) may take (PIO under KVM on a slow /dev/kvm can take minutes). */
const QEMU_LIMIT = Number(process.env.QEMU_LIMIT ?? 120);
const CHUNKS = MIB * 16; // 64 KiB each
const DISK_SECTORS = CHUNKS * 128;
const PARAMS = 0xffe0;
const READ_MARK = 0x5ec00000;
const WRITE_MARK = 0x3c000000; // ide-speed's mark on written chunks
const ALL_METHODS = [
  { id: 0, write: false, name: 'read  PIO READ SECTORS (rep insw per sector)   ' },
  { id: 1, write: false, name: 'read  PIO READ MULTIPLE 16 (rep insw per 8 KiB)' },
  { id: 2, write: false, name: 'read  DMA READ DMA (64 KiB PRD)                ' },
  { id: 3, write: true, name: 'write PIO WRITE SECTORS (rep outsw per sector) ' },
  { id: 4, write: true, name: 'write PIO WRITE MULTIPLE 16 (outsw per 8 KiB)  ' },
  { id: 5, write: true, name: 'write DMA WRITE DMA (64 KiB PRD)               ' },
  { id: 6, write: false, name: 'read  DMA READ DMA EXT (512 KiB, 8 PRDs)       ' },
  { id: 7, write: true, name: 'write DMA WRITE DMA EXT (512 KiB, 8 PRDs)      ' },
];
/** ONLY=2,5 runs just those rows (A/B of one path); default every row. */
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(',').map(Number)) : null;
const METHODS = ALL_METHODS.filter((m) => !ONLY || ONLY.has(m.id));

const dataDir = mkdtempSync(path.join(tmpdir(), 'qvm-bench-disk-'));
const readImage = Buffer.alloc(DISK_SECTORS * 512);
for (let s = 0; s < DISK_SECTORS; s++) readImage.writeUInt32LE((READ_MARK + s) >>> 0, s * 512);
writeFileSync(path.join(dataDir, 'read.img'), readImage);

function expectedSum(write: boolean): number {
  let sum = 0;
  for (let c = 0; c < CHUNKS; c++) sum = (sum + (write ? WRITE_MARK : READ_MARK) + c * 128) >>> 0;
  return sum;
}

/** What is wrong with a run's result, or '' when the guest moved the right data. */
function check(write: boolean, sum: string, errors: string, imageFile: string | null): string {
  const problems: string[] = [];
  if (Number(sum) !== expectedSum(write)) problems.push(`sum ${sum}, expected 0x${expectedSum(write).toString(16)}`);
  if (Number(errors) !== 0) problems.push(`errors ${errors}`);
  if (write && imageFile) {
    const img = readFileSync(imageFile);
    let bad = 0;
    for (let c = 0; c < CHUNKS; c++) if (img.readUInt32LE(c * 128 * 512) !== ((WRITE_MARK + c * 128) >>> 0)) bad++;
    if (bad) problems.push(`${bad} chunks not in the image file`);
  }
  return problems.length ? `; WRONG: ${problems.join(', ')}` : '';
}

function patchedGuest(guest: Uint8Array, method: number): Uint8Array {
  const image = guest.slice();
  const view = new DataView(image.buffer);
  view.setUint32(PARAMS + 4, method | (PASSES << 8), true);
  view.setUint32(PARAMS + 8, CHUNKS, true);
  return image;
}

/** The guest's line after each pass ("pass", "done" after the last): when it came is a pass's end. */
const PASS_END = /ide-speed: (?:pass|done) sum=(0x\w{8}) errors=(0x\w{8})\r\n/g;
/** The guest's start line and pass-end lines. */
const TIMED_LINE = /ide-speed: (?:start|pass|done) /;

/**
 * The guest's start line and its PASSES pass-end lines out of its serial text (a VM's events,
 * QEMU's stdout), each stamped (ms) as its last byte arrives. Split line by line: a regular
 * expression over the whole log that counts n lines backtracks for seconds once n is ~10.
 */
class TimedLines {
  readonly stamps: number[] = [];
  output = '';
  private partial = '';

  /** Takes more serial text; true once every timed line has come. */
  push(text: string): boolean {
    this.partial += text;
    for (let end = this.partial.indexOf('\n'); end >= 0; end = this.partial.indexOf('\n')) {
      const line = this.partial.slice(0, end + 1);
      this.partial = this.partial.slice(end + 1);
      if (!TIMED_LINE.test(line)) continue;
      this.stamps.push(performance.now());
      this.output += line;
    }
    return this.stamps.length > PASSES;
  }
}

/** A VM's timed lines, once all have come (rejects after `timeoutMs`). */
function timedLines(vm: Vm, timeoutMs: number): Promise<TimedLines> {
  return new Promise((resolve, reject) => {
    const lines = new TimedLines();
    const done = (error?: Error) => {
      clearTimeout(timer);
      vm.off('serial', onData);
      if (error) reject(error);
      else resolve(lines);
    };
    const onData = (data: Uint8Array) => {
      if (lines.push(Buffer.from(data).toString('latin1'))) done();
    };
    const timer = setTimeout(() => done(new Error(`${lines.stamps.length} of ${PASSES + 1} lines within ${timeoutMs} ms: ${JSON.stringify(lines.output)}`)), timeoutMs);
    vm.on('serial', onData);
  });
}

/**
 * A row from the times (ms) of the guest's start line and its pass-end lines, and its serial
 * output: MB/s over the passes after the first (the first warms the VM up, as fio's ramp_time
 * does; all of them when PASSES=1), then the first pass's and each pass's. `imageFile`: a
 * written image, checked after the last pass.
 */
function row(stamps: number[], output: string, write: boolean, imageFile: string | null, extra = ''): string {
  const passes = stamps.slice(1).map((t, i) => (t - stamps[i]) / 1000);
  const timed = PASSES > 1 ? passes.slice(1) : passes;
  const seconds = timed.reduce((a, b) => a + b, 0);
  const mib = MIB * timed.length;
  const ends = [...output.matchAll(PASS_END)];
  const wrong = ends
    .map(([, sum, errors], i) => check(write, sum, errors, i === ends.length - 1 ? imageFile : null))
    .find((w) => w) ?? (ends.length < PASSES ? `; WRONG: ${ends.length} of ${PASSES} passes ended` : '');
  const each = PASSES > 1 ? `; first pass ${(MIB / passes[0]).toFixed(1)} MB/s, each pass ${passes.map((t) => (MIB / t).toFixed(0)).join(', ')}` : '';
  return `${(mib / seconds).toFixed(1).padStart(7)} MB/s  (${mib} MiB in ${seconds.toFixed(2)} s${wrong}${each}${extra})`;
}

// ---- quasivm through the remote IDE service ----

const ide = await startServiceProcess(fileURLToPath(new URL('../apps/ide/src/main.ts', import.meta.url)), unixAddress('ide'), ['--data-dir', dataDir]);
const guest = new Uint8Array(readFileSync(buildGuests({ quiet: true })['ide-speed']));

const ours = new Map<number, string>();
for (const m of METHODS) {
  process.stderr.write(`quasivm: ${m.name.trim()}...\n`);
  const imageName = m.write ? `write-${m.id}.img` : 'read.img';
  if (m.write) writeFileSync(path.join(dataDir, imageName), Buffer.alloc(DISK_SECTORS * 512));
  const vm = await Vm.create({
    id: `bench-disk-${m.id}`,
    backend: BACKEND,
    ramMiB: 2,
    realtime: false,
    firmware: patchedGuest(guest, m.id),
    devices: [{ device: 'ide', address: ide.address, config: { 'primary.master': imageName, 'primary.master.mode': m.write ? 'rw' : 'ro' } }],
  });
  try {
    const lines = timedLines(vm, 1_800_000);
    vm.start();
    const { stamps, output } = await lines;
    const stats = await vm.stats();
    await vm.stop();
    const served = stats?.remoteDmaServed ? `, ${stats.remoteDmaServed} DMA commands served by the vCPU` : '';
    const trips = stats?.remoteRoundTrips !== undefined ? `; ${stats.remoteRoundTrips} round trips, ${Math.round(stats.remoteBlockedMs)} ms waiting${served}` : '';
    ours.set(m.id, row(stamps, output, m.write, m.write ? path.join(dataDir, imageName) : null, trips));
  } catch (e) {
    await vm.stop().catch(() => {});
    ours.set(m.id, `failed: ${(e as Error).message}`);
  }
}
await ide.stop('SIGKILL');

// ---- the same guest under QEMU ----

/** One QEMU run: the times of the guest's start and pass-end lines and its output, or why there are none. */
type QemuResult = { stamps: number[]; output: string } | { error: string; started: boolean };
function runQemu(accel: 'kvm' | 'tcg', bios: string, disk: string): Promise<QemuResult> {
  const args = ['-accel', accel, '-machine', 'pc', '-m', '16', '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
    '-bios', bios, '-drive', `file=${disk},format=raw,if=ide,index=0`];
  const qemu = spawn('qemu-system-i386', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    const lines = new TimedLines();
    const stamps = lines.stamps;
    let err = '';
    const timer = setTimeout(
      () =>
        finish({
          error: stamps.length ? `not done within ${QEMU_LIMIT} s: < ${((PASSES * MIB) / QEMU_LIMIT).toFixed(2)} MB/s` : `no start line within ${QEMU_LIMIT} s`,
          started: stamps.length > 0,
        }),
      QEMU_LIMIT * 1000,
    );
    const finish = (r: QemuResult) => {
      clearTimeout(timer);
      qemu.kill('SIGKILL');
      resolve(r);
    };
    qemu.stdout.on('data', (d: Buffer) => {
      if (lines.push(d.toString('latin1'))) finish({ stamps, output: lines.output });
    });
    qemu.stderr.on('data', (d: Buffer) => (err += d.toString()));
    qemu.on('exit', (code) => finish({ error: `qemu exited (${code}): ${err.trim().split('\n').filter((l) => !/warning/.test(l))[0] ?? ''}`, started: stamps.length > 0 }));
  });
}

const qemuRows = new Map<number, string>();
let qemuNote = '';
if (process.env.QEMU === '0') qemuNote = 'QEMU: skipped (QEMU=0)';
else if (spawnSync('qemu-system-i386', ['--version']).status !== 0) qemuNote = 'QEMU: not measured, qemu-system-i386 is not installed (apt-get install qemu-system-x86)';
else {
  let accel: 'kvm' | 'tcg' = existsSync('/dev/kvm') ? 'kvm' : 'tcg';
  const kvmNote = existsSync('/sys/module/kvm_pvm')
    ? '; /dev/kvm here is kvm_pvm (KVM on PVM, nested in a VM): its exits are slow, so QEMU+KVM port I/O is far below bare-metal KVM'
    : '';
  let fellBack = '';
  for (const m of METHODS) {
    process.stderr.write(`qemu: ${m.name.trim()}...\n`);
    const bios = path.join(dataDir, `qemu-bios-${m.id}.bin`);
    writeFileSync(bios, patchedGuest(guest, m.id));
    const disk = path.join(dataDir, m.write ? `qemu-write-${m.id}.img` : 'read.img');
    if (m.write) writeFileSync(disk, Buffer.alloc(DISK_SECTORS * 512));
    let r = await runQemu(accel, bios, disk);
    if ('error' in r && !r.started && accel === 'kvm') {
      fellBack = ` (-accel kvm failed: ${r.error}; fell back to tcg)`;
      accel = 'tcg';
      r = await runQemu(accel, bios, disk);
    }
    qemuRows.set(m.id, 'error' in r ? `failed: ${r.error}` : row(r.stamps, r.output, m.write, m.write ? disk : null));
  }
  qemuNote = `QEMU: qemu-system-i386 -accel ${accel}${fellBack}${accel === 'kvm' ? kvmNote : ''}`;
}
rmSync(dataDir, { recursive: true, force: true });

console.log(
  `disk bench: the ide-speed guest's sequential reads and writes (each pass's writes end with FLUSH CACHE), ` +
    (PASSES > 1
      ? `${PASSES} passes over the same ${MIB} MiB in one VM per row, MB/s over passes 2-${PASSES} (the first warms the VM up, like fio's ramp_time) `
      : `${MIB} MiB in a fresh VM per row `) +
    `(load average ${loadavg()[0].toFixed(1)} on 2 cores; MB = MiB; targets: PIO >= 60 MB/s, DMA >= 300 MB/s)`,
);
console.log(`quasivm, ${BACKEND} backend, remote IDE service (fast lane):`);
for (const m of METHODS) console.log(`  ${m.name}  ${ours.get(m.id)}`);
console.log(qemuNote);
for (const m of METHODS) if (qemuRows.has(m.id)) console.log(`  ${m.name}  ${qemuRows.get(m.id)}`);
process.stdout.write('', () => process.exit(0));
