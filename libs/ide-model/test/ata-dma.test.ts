import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtaCmd, BmStatus, ErrorBit, Status } from '../src/ata-registers.js';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { RawImage } from '../src/storage/raw-image.js';
import { FakeHost, makeImage, patternSector, Ports, readFileSectors, tempDir } from './helpers.js';

const BM = DEFAULT_BUS_MASTER_BASE;
const PRD_TABLE = 0x1000;

/** Write a PRD table of [address, byteCount] entries, the last marked end-of-table. */
function writePrd(host: FakeHost, entries: [number, number][], at = PRD_TABLE): void {
  const view = new DataView(host.memory.buffer);
  entries.forEach(([addr, count], i) => {
    view.setUint32(at + 8 * i, addr, true);
    view.setUint32(at + 8 * i + 4, (count & 0xffff) | (i === entries.length - 1 ? 0x80000000 : 0), true);
  });
}

describe('ATA bus-master DMA', () => {
  let imagePath: string;
  let host: FakeHost;
  let ide: AtaController;
  let p: Ports;

  beforeEach(() => {
    const dir = tempDir();
    imagePath = makeImage(dir, 'disk.img', 4096);
    host = new FakeHost();
    ide = new AtaController(host, { drives: [{ kind: 'disk', image: new RawImage(imagePath, { readOnly: false }) }, null, null, null], busMasterBase: BM });
    p = new Ports(ide);
  });
  afterEach(() => ide.close());

  const bmStatus = () => ide.ioRead(BM + 2, 1, 0);
  const startBm = (toMemory: boolean) => ide.ioWrite(BM, 1, (toMemory ? 0x08 : 0) | 0x01, 0);

  it('READ DMA scatters sectors into guest memory through the PRD table, then interrupts', async () => {
    writePrd(host, [[0x20000, 1024], [0x30000, 512]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    expect(ide.ioRead(BM + 4, 4, 0)).toBe(PRD_TABLE);
    p.lba28(40, 3);
    p.command(AtaCmd.READ_DMA);
    expect(host.level(14)).toBe(false);
    startBm(true);
    expect(bmStatus() & BmStatus.ACTIVE).toBe(BmStatus.ACTIVE);
    await ide.whenIdle();
    expect(host.level(14)).toBe(true);
    expect(bmStatus() & (BmStatus.ACTIVE | BmStatus.INTERRUPT | BmStatus.ERROR)).toBe(BmStatus.INTERRUPT);
    expect(host.memory.subarray(0x20000, 0x20000 + 1024)).toEqual(new Uint8Array([...patternSector(40), ...patternSector(41)]));
    expect(host.memory.subarray(0x30000, 0x30000 + 512)).toEqual(patternSector(42));
    ide.ioWrite(BM, 1, 0x00, 0); // stop
    ide.ioWrite(BM + 2, 1, BmStatus.INTERRUPT, 0); // write one to clear
    expect(bmStatus() & BmStatus.INTERRUPT).toBe(0);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(host.level(14)).toBe(false);
  });

  it('WRITE DMA EXT gathers guest memory into the image file', async () => {
    const data = Uint8Array.from({ length: 2048 }, (_, i) => (i * 5 + 3) & 0xff);
    host.memory.set(data.subarray(0, 512), 0x40000);
    host.memory.set(data.subarray(512), 0x50000);
    writePrd(host, [[0x40000, 512], [0x50000, 1536]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    startBm(false); // bus master first, command second: either order works
    p.lba48(4000, 4);
    p.command(AtaCmd.WRITE_DMA_EXT);
    await ide.whenIdle();
    expect(host.level(14)).toBe(true);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.command(AtaCmd.FLUSH_CACHE);
    expect(readFileSectors(imagePath, 4000, 4)).toEqual(data);
    expect(readFileSectors(imagePath, 4004, 1)).toEqual(patternSector(4004));
  });

  it('a PRD table shorter than the transfer ends in error without touching memory', async () => {
    writePrd(host, [[0x20000, 512]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    p.lba28(0, 2);
    p.command(AtaCmd.READ_DMA);
    startBm(true);
    await ide.whenIdle();
    expect(bmStatus() & (BmStatus.ERROR | BmStatus.INTERRUPT | BmStatus.ACTIVE)).toBe(BmStatus.ERROR | BmStatus.INTERRUPT);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.ABRT);
    expect(host.memory.subarray(0x20000, 0x20200).every((b) => b === 0)).toBe(true);
  });

  it('a PRD table longer than the transfer leaves ACTIVE set', async () => {
    writePrd(host, [[0x20000, 4096]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    p.lba28(1, 1);
    p.command(AtaCmd.READ_DMA);
    startBm(true);
    await ide.whenIdle();
    expect(bmStatus() & (BmStatus.ACTIVE | BmStatus.INTERRUPT | BmStatus.ERROR)).toBe(BmStatus.ACTIVE | BmStatus.INTERRUPT);
    expect(host.memory.subarray(0x20000, 0x20200)).toEqual(patternSector(1));
  });

  it('a guest memory fault during DMA is a bus-master error, not an exception', async () => {
    writePrd(host, [[0xfffff000, 512]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    p.lba28(1, 1);
    p.command(AtaCmd.READ_DMA);
    startBm(true);
    await ide.whenIdle();
    expect(bmStatus() & BmStatus.ERROR).toBe(BmStatus.ERROR);
    expect(ide.counters.dmaErrors).toBeGreaterThan(0);
  });

  it('DMA does not start while PCI bus mastering is disabled', async () => {
    ide.pci.configWrite(0x04, 2, 0x0001); // I/O only
    writePrd(host, [[0x20000, 512]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    p.lba28(1, 1);
    p.command(AtaCmd.READ_DMA);
    startBm(true);
    await ide.whenIdle();
    expect(host.memoryWrites).toBe(0);
    ide.pci.configWrite(0x04, 2, 0x0005);
    ide.ioWrite(BM + 2, 1, 0, 0); // any access re-evaluates
    await ide.whenIdle();
    expect(host.memory.subarray(0x20000, 0x20200)).toEqual(patternSector(1));
  });
  it('WRITE DMA of several PRD entries asks for every region before the first answer, and the image gets them in table order', async () => {
    const asked: Array<() => void> = [];
    const read = host.readMemory.bind(host);
    host.readMemory = (addr, length) => new Promise((resolve, reject) => asked.push(() => read(addr, length).then(resolve, reject)));
    const data = Uint8Array.from({ length: 1536 }, (_, i) => (i * 11 + 5) & 0xff);
    host.memory.set(data.subarray(0, 512), 0x40000);
    host.memory.set(data.subarray(512, 1024), 0x60000);
    host.memory.set(data.subarray(1024), 0x50000);
    writePrd(host, [[0x40000, 512], [0x60000, 512], [0x50000, 512]]);
    ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
    p.lba28(300, 3);
    p.command(AtaCmd.WRITE_DMA);
    startBm(false);
    while (asked.length < 1) await Promise.resolve();
    asked.shift()!(); // the PRD table
    for (let i = 0; i < 20 && asked.length < 3; i++) await Promise.resolve();
    expect(asked).toHaveLength(3); // all three regions at once
    for (const answer of asked.reverse()) answer(); // answered in any order
    await ide.whenIdle();
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.command(AtaCmd.FLUSH_CACHE);
    expect(readFileSectors(imagePath, 300, 3)).toEqual(data);
  });

  describe('PRD table sent with the START write (MemoryHint / MemorySnapshot)', () => {
    /** The snapshot a vCPU sends for the hint on the primary channel's command register, as guest memory is now. */
    const snapshot = () => {
      const h = ide.memoryHints().find((x) => x.port === BM)!;
      ide.memorySnapshot(BM, h.addr, host.memory.slice(h.addr, h.addr + h.length));
    };

    it('names each channel\'s command register, START, and the PRD table at the address the guest set', () => {
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      // For a transfer to the drive (READ clear), the buffers the table describes too.
      const gather = { gatherMax: 2 << 20, gatherUnless: 0x08 };
      expect(ide.memoryHints()).toEqual([
        { port: BM, mask: 0x01, addr: PRD_TABLE, length: 128, ...gather },
        { port: BM + 8, mask: 0x01, addr: 0, length: 128, ...gather },
      ]);
      ide.ioWrite(BM + 4, 4, 0x1ff8, 0); // one entry before the end of its page: only that entry
      expect(ide.memoryHints()[0]).toEqual({ port: BM, mask: 0x01, addr: 0x1ff8, length: 8, ...gather });
    });

    it('READ DMA with the table in the snapshot reads no guest memory, and the data and status are as without it', async () => {
      writePrd(host, [[0x20000, 1024], [0x30000, 512]]);
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      p.lba28(40, 3);
      p.command(AtaCmd.READ_DMA);
      snapshot();
      startBm(true);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(0);
      expect(bmStatus() & (BmStatus.ACTIVE | BmStatus.INTERRUPT | BmStatus.ERROR)).toBe(BmStatus.INTERRUPT);
      expect(host.memory.subarray(0x20000, 0x20000 + 1024)).toEqual(new Uint8Array([...patternSector(40), ...patternSector(41)]));
      expect(host.memory.subarray(0x30000, 0x30000 + 512)).toEqual(patternSector(42));
      expect(p.status()).toBe(Status.DRDY | Status.DSC);
      expect(host.level(14)).toBe(false);
    });

    it('WRITE DMA started before its command uses the snapshot taken at START, and the image gets the bytes', async () => {
      const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 3 + 1) & 0xff);
      host.memory.set(data, 0x40000);
      writePrd(host, [[0x40000, 1024]]);
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      snapshot();
      startBm(false);
      p.lba28(100, 2);
      p.command(AtaCmd.WRITE_DMA);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(1); // the data only
      expect(p.status()).toBe(Status.DRDY | Status.DSC);
      p.command(AtaCmd.FLUSH_CACHE);
      expect(readFileSectors(imagePath, 100, 2)).toEqual(data);
    });

    it('WRITE DMA with the table and its buffers in snapshots reads no guest memory: the image gets the buffers as they were at START', async () => {
      const data = Uint8Array.from({ length: 1536 }, (_, i) => (i * 13 + 7) & 0xff);
      host.memory.set(data.subarray(0, 1024), 0x40000);
      host.memory.set(data.subarray(1024), 0x50000);
      writePrd(host, [[0x40000, 1024], [0x50000, 512]]);
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      p.lba28(500, 3);
      p.command(AtaCmd.WRITE_DMA);
      // What a vCPU sends for the hint: the table, then each region it describes.
      expect(ide.holdsMessageBytes()).toBe(false);
      snapshot();
      ide.memorySnapshot(BM, 0x40000, host.memory.slice(0x40000, 0x40400));
      expect(ide.holdsMessageBytes()).toBe(true); // kept for the START write: the service must not reuse its buffer
      ide.memorySnapshot(BM, 0x50000, host.memory.slice(0x50000, 0x50200));
      startBm(false);
      expect(ide.holdsMessageBytes()).toBe(true); // the transfer runs on them
      host.memory.fill(0xee, 0x40000, 0x40400); // changed after START: the transfer has what was there at START
      await ide.whenIdle();
      expect(ide.holdsMessageBytes()).toBe(false); // written to the image: nothing kept
      expect(host.memoryReads).toBe(0);
      expect(bmStatus() & (BmStatus.ACTIVE | BmStatus.INTERRUPT | BmStatus.ERROR)).toBe(BmStatus.INTERRUPT);
      expect(p.status()).toBe(Status.DRDY | Status.DSC);
      p.command(AtaCmd.FLUSH_CACHE);
      expect(readFileSectors(imagePath, 500, 3)).toEqual(data);
    });

    it('a buffer snapshot shorter than its PRD region, or of another address, is not used: that region is read from guest memory', async () => {
      const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 5 + 9) & 0xff);
      host.memory.set(data.subarray(0, 512), 0x40000);
      host.memory.set(data.subarray(512), 0x50000);
      writePrd(host, [[0x40000, 512], [0x50000, 512]]);
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      p.lba28(600, 2);
      p.command(AtaCmd.WRITE_DMA);
      snapshot();
      ide.memorySnapshot(BM, 0x40000, new Uint8Array(256).fill(0x11)); // too short
      ide.memorySnapshot(BM, 0x58000, new Uint8Array(512).fill(0x22)); // not a region of this table
      startBm(false);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(2);
      p.command(AtaCmd.FLUSH_CACHE);
      expect(readFileSectors(imagePath, 600, 2)).toEqual(data);
    });

    it('a snapshot of another address, or one whose write did not set START, is not used: the table is read from guest memory', async () => {
      writePrd(host, [[0x20000, 512]]);
      writePrd(host, [[0x28000, 512]], 0x2000);
      ide.ioWrite(BM + 4, 4, 0x2000, 0);
      snapshot(); // of the table at 0x2000
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0); // the guest moved the table after the hint
      p.lba28(7, 1);
      p.command(AtaCmd.READ_DMA);
      startBm(true);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(1); // the table at PRD_TABLE
      expect(host.memory.subarray(0x20000, 0x20200)).toEqual(patternSector(7));
      expect(host.memory.subarray(0x28000, 0x28200)).toEqual(new Uint8Array(512));

      ide.ioWrite(BM, 1, 0x08, 0); // stop
      snapshot();
      ide.ioWrite(BM, 1, 0x08, 0); // a command write without START: the snapshot is dropped
      p.lba28(8, 1);
      p.command(AtaCmd.READ_DMA);
      startBm(true);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(2);
      expect(host.memory.subarray(0x20000, 0x20200)).toEqual(patternSector(8));
    });

    it('a snapshot for a port that is not a command register, or too short, is ignored without a throw', async () => {
      writePrd(host, [[0x20000, 512]]);
      ide.ioWrite(BM + 4, 4, PRD_TABLE, 0);
      expect(() => ide.memorySnapshot(0x1f7, PRD_TABLE, new Uint8Array(128))).not.toThrow();
      expect(() => ide.memorySnapshot(0x9999, PRD_TABLE, new Uint8Array(128))).not.toThrow();
      ide.memorySnapshot(BM, PRD_TABLE, new Uint8Array(4));
      p.lba28(9, 1);
      p.command(AtaCmd.READ_DMA);
      startBm(true);
      await ide.whenIdle();
      expect(host.memoryReads).toBe(1);
      expect(host.memory.subarray(0x20000, 0x20200)).toEqual(patternSector(9));
    });
  });
});
