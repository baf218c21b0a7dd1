// bench/vga-window: what the memory window protocol buys a guest's text console.
// The vga-text guest (guests/src/vga-text.asm) scrolls the 80x25 text screen N lines the way
// a console does: rep movsw of rows 1-24 up (reads and writes of the text buffer) and a new
// bottom row, one word store at a time. It runs on the soft backend against the remote VGA
// service twice: with every access trapped to the service (QUASIVM_MAP_WINDOWS=0) and with
// the window mapped as local memory and dirty ranges shipped (the default). Printed: host
// time from start to the guest's "done" line minus that of a 0-line run (CPU thread start,
// mode set, font load), text-buffer accesses per second (each line: 1920 reads + 1920 + 80
// writes), the time the CPU thread sat blocked on the service, and that the screens agree.
// Where /dev/kvm opens, the same on the KVM backend: trapped (every access an MMIO exit to
// the service) and mapped (the window a KVM memory slot with the dirty-page log), timed
// between the guest's "scrolling" and "done" lines (KVM reports serial output as it
// comes); fewer lines, as kvm_pvm runs only ~2 M instructions/s.
// Run: npx tsx bench/vga-window.ts [lines] [kvm lines]
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Kvm } from '@quasivm/kvm';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { guestImage } from '../libs/kvm/test/support/guest-images.js';
import { Vm } from '../apps/vcpu/src/vm.js';
import { kvmUnavailableReason } from '../apps/vcpu/src/kvm/kvm-device-path.js';
import { Display } from '../apps/vcpu/test/support/vga-display.js';

const LINES = Number(process.argv[2] ?? 2000);
const KVM_LINES = Number(process.argv[3] ?? 500);
const ACCESSES_PER_LINE = 1920 * 2 + 80;

const vga = await startServiceProcess(fileURLToPath(new URL('../apps/vga/src/main.ts', import.meta.url)), unixAddress('vga'));
const display = new Display(vga.address);

async function run(lines: number, mapped: boolean, backend: 'soft' | 'kvm' = 'soft'): Promise<{ ms: number; scrollMs: number; blockedMs: number; rows: string[] }> {
  if (mapped) delete process.env.QUASIVM_MAP_WINDOWS;
  else process.env.QUASIVM_MAP_WINDOWS = '0';
  const id = `bench-vga-${backend}-${mapped ? 'mapped' : 'trapped'}-${lines}`;
  const vm = await Vm.create({ id, backend, firmware: guestImage('vga-text', { param0: lines }), ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
  const t0 = performance.now();
  vm.start();
  await vm.waitForSerial('vga-text: scrolling', 600_000);
  const t1 = performance.now();
  await vm.waitForSerial('vga-text: done', 600_000);
  const ms = performance.now() - t0;
  const scrollMs = performance.now() - t1;
  const blockedMs = (await vm.stats())?.remoteBlockedMs ?? NaN;
  const rows = await display.waitForText(id, (r) => r[24]?.startsWith('passes='), 10_000);
  await vm.stop();
  return { ms, scrollMs, blockedMs, rows };
}

const base = Math.min((await run(0, true)).ms, (await run(0, false)).ms);
const trappedLines = Math.max(1, Math.round(LINES / 100)); // trapping is slow: fewer lines, same rate
const trapped = await run(trappedLines, false);
const mapped = await run(LINES, true);
const net = (ms: number) => Math.max(1, ms - base);
const rate = (lines: number, ms: number) => Math.round((lines * ACCESSES_PER_LINE) / (net(ms) / 1000));
console.log(`vga-window: soft backend, remote VGA service over the fast lane (load ${loadavg()[0].toFixed(2)}); start-up of a run ${base.toFixed(0)} ms, subtracted`);
console.log(`  trapped: ${trappedLines} lines in ${net(trapped.ms).toFixed(0)} ms = ${(trappedLines / (net(trapped.ms) / 1000)).toFixed(1)} lines/s, ${rate(trappedLines, trapped.ms).toLocaleString('en')} text accesses/s, CPU thread blocked ${trapped.blockedMs.toFixed(0)} ms`);
console.log(`  mapped:  ${LINES} lines in ${net(mapped.ms).toFixed(0)} ms = ${(LINES / (net(mapped.ms) / 1000)).toFixed(0)} lines/s, ${rate(LINES, mapped.ms).toLocaleString('en')} text accesses/s, CPU thread blocked ${mapped.blockedMs.toFixed(0)} ms`);
console.log(`  speed-up: ${(rate(LINES, mapped.ms) / rate(trappedLines, trapped.ms)).toFixed(0)}x`);
console.log(`  final screen row 0 ${JSON.stringify(mapped.rows[0].trimEnd())}, row 24 ${JSON.stringify(mapped.rows[24].trimEnd())}; rows 0-23 same as trapped: ${mapped.rows.slice(0, 24).join() === trapped.rows.slice(0, 24).join()}`);

const kvmMissing = kvmUnavailableReason();
if (kvmMissing) console.log(`vga-window: KVM backend not measured (${kvmMissing})`);
else {
  const kvmTrappedLines = Math.max(1, Math.round(KVM_LINES / 100));
  const kt = await run(kvmTrappedLines, false, 'kvm');
  const km = await run(KVM_LINES, true, 'kvm');
  const kvmRate = (lines: number, ms: number) => Math.round((lines * ACCESSES_PER_LINE) / (Math.max(1, ms) / 1000));
  console.log(`vga-window: KVM backend (${Kvm.backendModules().join(', ') || 'unknown module'}), same service, timed from the guest's "scrolling" line to its "done" line (load ${loadavg()[0].toFixed(2)})`);
  console.log(`  trapped: ${kvmTrappedLines} lines in ${kt.scrollMs.toFixed(0)} ms = ${(kvmTrappedLines / (kt.scrollMs / 1000)).toFixed(1)} lines/s, ${kvmRate(kvmTrappedLines, kt.scrollMs).toLocaleString('en')} text accesses/s, CPU thread blocked ${kt.blockedMs.toFixed(0)} ms`);
  console.log(`  mapped:  ${KVM_LINES} lines in ${km.scrollMs.toFixed(0)} ms = ${(KVM_LINES / (km.scrollMs / 1000)).toFixed(0)} lines/s, ${kvmRate(KVM_LINES, km.scrollMs).toLocaleString('en')} text accesses/s, CPU thread blocked ${km.blockedMs.toFixed(0)} ms`);
  console.log(`  speed-up: ${(kvmRate(KVM_LINES, km.scrollMs) / kvmRate(kvmTrappedLines, kt.scrollMs)).toFixed(0)}x; rows 0-23 same as trapped: ${km.rows.slice(0, 24).join() === kt.rows.slice(0, 24).join()}`);
}
display.close();
await vga.stop('SIGKILL');
process.exit(0);
