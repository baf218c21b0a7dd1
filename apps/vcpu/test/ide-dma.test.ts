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
