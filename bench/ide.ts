// bench/ide: sequential sector reads through the whole stack on the soft backend: the
// ide-speed guest reads a 64 KiB chunk at a time from the primary master of the remote IDE
// service (apps/ide, a real child process, its fast lane on) with
//   - PIO READ SECTORS: one rep insw (one 512-byte message) per sector
//   - PIO READ MULTIPLE (16 sectors per block): one rep insw (one 8 KiB message) per block
//   - READ DMA through the PIIX3 bus master: one 64 KiB PRD entry, written into guest RAM
//     with the protocol's memory requests
// timed between the guest's two serial lines (wall clock), one run each. The guest sums the
// first dword of every chunk, so the three methods are checked to have read the same data.
// Run: npx tsx bench/ide.ts   (MIB=n to read n MiB per method, default 16)
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { buildGuests } from '../guests/build.mjs';
import { Vm } from '../apps/vcpu/src/vm.js';

const MIB = Number(process.env.MIB ?? 16);
const CHUNKS = MIB * 16; // 64 KiB each
const DISK_SECTORS = CHUNKS * 128;
const PARAMS = 0xffe0;
const METHODS = [
  { id: 0, name: 'PIO READ SECTORS (rep insw per sector)  ' },
  { id: 1, name: 'PIO READ MULTIPLE 16 (rep insw per 8 KiB)' },
  { id: 2, name: 'DMA READ DMA (64 KiB PRD)               ' },
];

const dataDir = mkdtempSync(path.join(tmpdir(), 'qvm-bench-ide-'));
const disk = Buffer.alloc(DISK_SECTORS * 512);
for (let s = 0; s < DISK_SECTORS; s++) disk.writeUInt32LE((0x5ec00000 + s) >>> 0, s * 512);
writeFileSync(path.join(dataDir, 'bench.img'), disk);
let expectedSum = 0;
for (let c = 0; c < CHUNKS; c++) expectedSum = (expectedSum + 0x5ec00000 + c * 128) >>> 0;

const ide = await startServiceProcess(fileURLToPath(new URL('../apps/ide/src/main.ts', import.meta.url)), unixAddress('ide'), ['--data-dir', dataDir]);
const guest = new Uint8Array(readFileSync(buildGuests({ quiet: true })['ide-speed']));

const results: string[] = [];
for (const m of METHODS) {
  const image = guest.slice();
  const view = new DataView(image.buffer);
  view.setUint32(PARAMS + 4, m.id, true);
  view.setUint32(PARAMS + 8, CHUNKS, true);
  const vm = await Vm.create({
    id: `bench-ide-${m.id}`,
    backend: 'soft',
    ramMiB: 2,
    realtime: false,
    firmware: image,
    devices: [{ device: 'ide', address: ide.address, config: { 'primary.master': 'bench.img', 'primary.master.mode': 'ro' } }],
  });
  try {
    vm.start();
    await vm.waitForSerial(/ide-speed: start .*\r\n/, 60_000);
    const t0 = performance.now();
    const log = await vm.waitForSerial(/ide-speed: done sum=0x\w{8} errors=0x\w{8}/, 1_800_000);
    const seconds = (performance.now() - t0) / 1000;
    const [, sum, errors] = log.match(/done sum=(0x\w{8}) errors=(0x\w{8})/)!;
    const ok = Number(sum) === expectedSum && Number(errors) === 0;
    results.push(`  ${m.name}  ${(MIB / seconds).toFixed(1).padStart(7)} MB/s  (${MIB} MiB in ${seconds.toFixed(2)} s${ok ? '' : `; WRONG DATA: sum ${sum}, expected 0x${expectedSum.toString(16)}, errors ${errors}`})`);
  } finally {
    await vm.stop();
  }
}
await ide.stop('SIGKILL');
rmSync(dataDir, { recursive: true, force: true });

console.log(`ide bench: sequential reads through the remote IDE service, soft backend, one run each (load average ${loadavg()[0].toFixed(1)} on 2 cores; MB = MiB)`);
for (const r of results) console.log(r);
process.stdout.write('', () => process.exit(0));
