import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, hex, IdeRig, sectorHead, SECTOR } from './support/ide-guest-harness.js';

/**
 * Bus-master DMA through the real stack: the guest finds the PIIX3 IDE function on the PCI
 * bus (configuration space served by the remote IDE service) and its BAR4 (assigned at
 * 0xC000 when the session starts, as firmware leaves it), enables bus mastering, builds PRD
 * tables in its RAM and runs READ DMA, WRITE DMA and READ DMA EXT; the service fetches the
 * tables and moves the data with the protocol's memory requests.
 */
const rig = new IdeRig();
beforeAll(() => rig.start());
afterAll(() => rig.stop());

const SECTORS = 8192;
const BM_BASE = 0xc000; // the IDE service's default busMasterBase

describe.each(BACKENDS)('$backend backend', ({ backend, skip, note }) => {
  test.skipIf(skip)(`READ/WRITE DMA (and READ DMA EXT) through the PIIX3 bus-master registers with scatter PRD tables in guest memory: the data lands in RAM and in the image file${note}`, async () => {
    const img = `dma-${backend}.img`;
    const lba = 200;
    rig.makeImage(img, SECTORS, [lba, lba + 1, lba + 2, lba + 3, lba + 4]);
    const log = await rig.run(backend, 'ide-dma', { 'primary.master': img }, [lba, 0xc041], /ide-dma: read ext .*\r\n|ide-dma: no PIIX3/);
    // Bus 0, device 1, function 1; BAR4 as assigned; I/O + bus master on.
    expect(log).toMatch(new RegExp(`ide-dma: found 0x80000900 bar4=${hex(BM_BASE)} command=0x0000000[57]`));
    const heads = [lba, lba + 1, lba + 2, lba + 3].map((l) => hex(sectorHead(l))).join(' ');
    // Bus master: interrupt, not active, no error; drive: DRDY|DSC.
    expect(log).toContain(`ide-dma: read lba=${hex(lba)} bm=0x00000004 status=0x00000050 heads= ${heads}`);
    expect(log).toContain(`ide-dma: wrote lba=${hex(lba + 100)} bm=0x00000004 status=0x00000050 flush=0x00000050`);
    expect(log).toContain(`ide-dma: read ext bm=0x00000004 status=0x00000050 heads= ${hex(0x444d5651)}`); // 'QVMD' read back
    const written = rig.sectors(img, lba + 100, 4);
    for (let i = 0; i < 3; i++) {
      const s = written.subarray(i * SECTOR, (i + 1) * SECTOR);
      expect(s.subarray(0, 4).toString('latin1')).toBe('QVMD');
      expect(s.readUInt32LE(4)).toBe(lba + 100 + i);
      expect(s.subarray(8).every((b) => b === 0xd3)).toBe(true);
    }
    expect(written.readUInt32LE(3 * SECTOR)).toBe(0); // the fourth sector untouched
  }, 120_000);
});

describe('the PRD table rides with the bus-master START write (proto MemoryHint / MemorySnapshot)', () => {
  const CHUNKS = 4; // of 64 KiB, one READ/WRITE DMA of 128 sectors each, one PRD table at the same address
  /** ide-speed's `method` over `chunks` chunks, `passes` times from LBA 0 (param0's second byte). */
  const run = async (method: 2 | 5 | 6 | 7, img: string, chunks = CHUNKS, passes = 1) => {
    const mode = method === 5 || method === 7 ? 'rw' : 'ro';
    const vm = await rig.launch('soft', 'ide-speed', { 'primary.master': img, 'primary.master.mode': mode }, [method | (passes << 8), chunks]);
    const log = await vm.waitForSerial(/ide-speed: done sum=0x\w{8} errors=0x\w{8}/, 60_000);
    const stats = await vm.stats();
    await vm.stop();
    rig.vm = null;
    return { log, snapshots: stats?.remoteMemorySnapshots ?? 0, served: stats?.remoteDmaServed ?? 0, more: stats?.remoteDmaMore ?? 0, trips: stats?.remoteRoundTrips ?? 0 };
  };
  const sum = (mark: number, chunks = CHUNKS) => hex([...Array(chunks).keys()].reduce((s, c) => (s + mark + c * 128) >>> 0, 0));

  test('READ DMA: the service takes the table from the write instead of asking for it, and the guest reads the right sectors', async () => {
    rig.makeImage('speed-read.img', CHUNKS * 128, [...Array(CHUNKS).keys()].map((c) => c * 128));
    const { log, snapshots } = await run(2, 'speed-read.img');
    expect(log).toContain(`ide-speed: done sum=${sum(0x5ec00000)} errors=0x00000000`);
    // The first START may precede the first hint naming the table's address; the others carry it.
    expect(snapshots).toBeGreaterThanOrEqual(CHUNKS - 1);
  }, 120_000);

  test('a READ DMA run longer than one reply predicts (8 MiB): the vCPU asks for the next predictions ahead (DmaMore) and serves every command after the first', async () => {
    const chunks = 320; // 20 MiB: the first reply predicts 128 commands, DmaMore replies the rest
    rig.makeImage('speed-long-read.img', chunks * 128, [...Array(chunks).keys()].map((c) => c * 128));
    const r = await run(2, 'speed-long-read.img', chunks);
    expect(r.log).toContain(`ide-speed: done sum=${sum(0x5ec00000, chunks)} errors=0x00000000`);
    expect(r.served).toBe(chunks - 1);
    expect(r.more).toBeGreaterThanOrEqual(2);
  }, 120_000);

  test('READ DMA passes over the same sectors in one VM (bench/disk warms up this way): the run jumps back to LBA 0, predictions follow, every pass reads the right sectors', async () => {
    const chunks = 160; // 10 MiB a pass: the vCPU holds predictions for the next LBAs when the run jumps back
    rig.makeImage('speed-passes.img', chunks * 128, [...Array(chunks).keys()].map((c) => c * 128));
    const r = await run(2, 'speed-passes.img', chunks, 3);
    const ends = [...r.log.matchAll(/ide-speed: (pass|done) sum=(0x\w{8}) errors=(0x\w{8})/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(ends).toEqual(['pass', 'pass', 'done'].map((w) => `${w} ${sum(0x5ec00000, chunks)} 0x00000000`));
    expect(r.served).toBeGreaterThan(3 * (chunks - 2));
  }, 120_000);

  test('WRITE DMA: the image holds what the guest wrote', async () => {
    rig.makeImage('speed-write.img', CHUNKS * 128, []);
    const { log, snapshots } = await run(5, 'speed-write.img');
    expect(log).toContain(`ide-speed: done sum=${sum(0x3c000000)} errors=0x00000000`);
    expect(snapshots).toBeGreaterThanOrEqual(CHUNKS - 1);
    for (let c = 0; c < CHUNKS; c++) expect(rig.sectors('speed-write.img', c * 128, 1).readUInt32LE(0)).toBe((0x3c000000 + c * 128) >>> 0);
  }, 120_000);

  test('READ/WRITE DMA EXT of 512 KiB through eight PRD entries (as Linux issues them): the guest reads the right sectors, the image holds what it wrote', async () => {
    const chunks = 16; // two commands
    rig.makeImage('speed-big-read.img', chunks * 128, [...Array(chunks).keys()].map((c) => c * 128));
    const read = await run(6, 'speed-big-read.img', chunks);
    expect(read.log).toContain(`ide-speed: done sum=${sum(0x5ec00000, chunks)} errors=0x00000000`);
    expect(read.snapshots).toBeGreaterThanOrEqual(1);
    rig.makeImage('speed-big-write.img', chunks * 128, []);
    const write = await run(7, 'speed-big-write.img', chunks);
    expect(write.log).toContain(`ide-speed: done sum=${sum(0x3c000000, chunks)} errors=0x00000000`);
    for (let c = 0; c < chunks; c++) expect(rig.sectors('speed-big-write.img', c * 128, 1).readUInt32LE(0)).toBe((0x3c000000 + c * 128) >>> 0);
  }, 120_000);
});
