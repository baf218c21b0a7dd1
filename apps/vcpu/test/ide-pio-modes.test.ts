import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, hex, IdeRig, sectorHead, SECTOR } from './support/ide-guest-harness.js';

/**
 * Guests drive the remote IDE service (apps/ide in its own process) through the whole stack
 * with every PIO addressing mode a BIOS or an OS uses: IDENTIFY DEVICE, CHS after
 * INITIALIZE DEVICE PARAMETERS, LBA48 beyond 32 bits, and READ/WRITE MULTIPLE. What the
 * guest read is checked against the image it came from; what it wrote is read back from
 * the image file after the guest ran.
 */
const rig = new IdeRig();
beforeAll(() => rig.start());
afterAll(() => rig.stop());

const SMALL = 8192; // 4 MiB
const HUGE = 2 ** 32 + 8192; // 2 TiB + 4 MiB, sparse: needs all 48 address bits beyond 32

/** A written sector: 4-byte tag, then a dword, then the fill byte. */
function expectWritten(sector: Buffer, tag: string, second: number, fill: number): void {
  expect(sector.length).toBe(SECTOR);
  expect(sector.subarray(0, 4).toString('latin1')).toBe(tag);
  expect(sector.readUInt32LE(4)).toBe(second);
  expect(sector.subarray(8).every((b) => b === fill)).toBe(true);
}

describe.each(BACKENDS)('$backend backend', ({ backend, skip, note }) => {
  test.skipIf(skip)(`IDENTIFY DEVICE gives each disk's capacity (words 60-61 and 100-103), geometry, model and serial as the image and the VM spec say${note}`, async () => {
    rig.makeImage(`id-small-${backend}.img`, SMALL, []);
    rig.makeImage(`id-huge-${backend}.img`, HUGE, []);
    const log = await rig.run(backend, 'ide-identify', {
      'primary.master': `id-small-${backend}.img`,
      'primary.master.model': 'QUASIVM TEST DISK',
      'primary.master.serial': 'QVM-ID-0001',
      'primary.slave': `id-huge-${backend}.img`,
      'primary.slave.mode': 'ro',
    }, null, /ide-identify: done/);
    const line = (drive: string, n: number) => log.split('\r\n').filter((l) => l.startsWith(`ide-identify: ${drive} `))[n];
    for (const drive of ['master', 'slave']) {
      // DRDY|DSC|DRQ with data ready; word 0 = fixed ATA device.
      expect(line(drive, 0)).toMatch(/ status=0x00000058 word0=0x00000040 chs=/);
      expect(line(drive, 1)).toMatch(/ sum=0x00000000$/); // word 255's checksum makes the block sum to 0
    }
    const chs = (drive: string) => line(drive, 0).match(/chs=(0x\w+)\/(0x\w+)\/(0x\w+)/)!.slice(1).map(Number);
    const [c, h, s] = chs('master');
    expect([h, s]).toEqual([16, 63]);
    expect(c * h * s).toBeLessThanOrEqual(SMALL);
    expect(c * h * s).toBeGreaterThan(SMALL - h * s);
    expect(chs('slave')).toEqual([16383, 16, 63]); // the CHS limit of ATA
    // Words 60-61: sectors addressable with LBA28 (capped at 0x0FFFFFFF); words 100-103: all of them.
    expect(line('master', 1)).toContain(`lba28=${hex(SMALL)} lba48=${hex(0)}:${hex(SMALL)}`);
    expect(line('slave', 1)).toContain(`lba28=0x0fffffff lba48=${hex(Math.floor(HUGE / 2 ** 32))}:${hex(HUGE % 2 ** 32)}`);
    for (const drive of ['master', 'slave']) {
      const w83 = Number(line(drive, 1).match(/w83=(0x\w+)/)![1]);
      expect(w83 & 0x0400).toBe(0x0400); // 48-bit Address feature set supported
      const w47 = Number(line(drive, 1).match(/w47=(0x\w+)/)![1]);
      expect(w47 >> 8).toBe(0x80);
      expect(w47 & 0xff).toBeGreaterThan(0); // READ/WRITE MULTIPLE: up to this many sectors per block
    }
    expect(line('master', 2)).toBe(`ide-identify: master model=[${'QUASIVM TEST DISK'.padEnd(40)}] serial=[${'QVM-ID-0001'.padEnd(20)}]`);
    expect(line('slave', 2)).toMatch(/^ide-identify: slave model=\[QUASIVM HARDDISK {24}\] serial=\[.{20}\]$/);
  }, 120_000);

  test.skipIf(skip)(`CHS addressing after INITIALIZE DEVICE PARAMETERS (16 heads, 63 sectors): reads across a cylinder boundary and writes land at (C*16+H)*63+S-1, and sector 64 is IDNF${note}`, async () => {
    const img = `chs-${backend}.img`;
    const readAt = (2 * 16 + 15) * 63 + 63 - 1; // C/H/S 2/15/63, the last sector of cylinder 2
    const writeAt = (1 * 16 + 10) * 63 + 1 - 1; // C/H/S 1/10/1
    rig.makeImage(img, SMALL, [readAt, readAt + 1, writeAt, writeAt + 1]);
    const log = await rig.run(backend, 'ide-chs', { 'primary.master': img }, [0x00020f3f, 0x00010a01], /ide-chs: bad sector status=0x\w{8} error=0x\w{8}/);
    expect(log).toContain('ide-chs: init status=0x00000050');
    expect(log).toContain(`ide-chs: read chs=0x00020f3f status=0x00000050 heads= ${hex(sectorHead(readAt))} ${hex(sectorHead(readAt + 1))}`);
    expect(log).toContain('ide-chs: wrote chs=0x00010a01 status=0x00000050');
    expect(log).toContain('ide-chs: bad sector status=0x00000051 error=0x00000010'); // ERR, IDNF
    const written = rig.sectors(img, writeAt, 2);
    expectWritten(written.subarray(0, SECTOR), 'QVMC', 0x00010a01, 0xc3);
    expectWritten(written.subarray(SECTOR), 'QVMC', 0x00010a02, 0xc3);
    expect(rig.sectors(img, writeAt + 2, 1).readUInt32LE(0)).toBe(0); // nothing past the two sectors
  }, 120_000);

  test.skipIf(skip)(`LBA48 (READ/WRITE SECTORS EXT, FLUSH CACHE EXT) reaches sectors beyond 2^32 of a 2 TiB image, and the last 48-bit LBA is IDNF${note}`, async () => {
    const img = `lba48-${backend}.img`;
    const base = 2 ** 32 + 0x10;
    rig.makeImage(img, HUGE, [base, base + 1]);
    const log = await rig.run(backend, 'ide-lba48', { 'primary.master': img }, [0x10, 0x1], /ide-lba48: beyond status=0x\w{8} error=0x\w{8}/);
    // The head dwords say 0x5ec00010/11: the low 32 bits alone would have read zeros (sector 16 is untagged).
    expect(log).toContain(`ide-lba48: read lba=0x00000001:0x00000010 status=0x00000050 heads= ${hex(sectorHead(base))} ${hex(sectorHead(base + 1))}`);
    expect(log).toContain('ide-lba48: wrote lba=0x00000001:0x00000020 status=0x00000050');
    expect(log).toContain('ide-lba48: beyond status=0x00000051 error=0x00000010');
    const written = rig.sectors(img, base + 16, 2);
    expectWritten(written.subarray(0, SECTOR), 'QV48', 0x20, 0x48);
    expectWritten(written.subarray(SECTOR), 'QV48', 0x21, 0x48);
    expect(rig.sectors(img, 0x20, 1).every((b) => b === 0)).toBe(true); // not wrapped to the low 32 bits
  }, 120_000);

  test.skipIf(skip)(`READ/WRITE MULTIPLE after SET MULTIPLE MODE 4 move whole blocks per rep insw/outsw (including a short last block), and are aborted with multiple mode off${note}`, async () => {
    const img = `multiple-${backend}.img`;
    const tagged = Array.from({ length: 8 }, (_, i) => 40 + i);
    rig.makeImage(img, SMALL, tagged);
    const log = await rig.run(backend, 'ide-multiple', { 'primary.master': img }, [40, 9], /ide-multiple: disabled status=0x\w{8} error=0x\w{8}/);
    expect(log).toContain('ide-multiple: set status=0x00000050');
    expect(log).toContain(`ide-multiple: read lba=0x00000028 blocks=0x00000002 status=0x00000050 heads= ${tagged.map((l) => hex(sectorHead(l))).join(' ')}`);
    expect(log).toContain('ide-multiple: wrote lba=0x00000009 blocks=0x00000002 status=0x00000050');
    expect(log).toContain('ide-multiple: disabled status=0x00000051 error=0x00000004'); // ERR, ABRT
    const written = rig.sectors(img, 9, 7);
    for (let i = 0; i < 6; i++) expectWritten(written.subarray(i * SECTOR, (i + 1) * SECTOR), 'QVMM', 9 + i, 0x4d);
    expect(written.readUInt32LE(6 * SECTOR)).toBe(0); // sector 15 untouched
  }, 120_000);
});
