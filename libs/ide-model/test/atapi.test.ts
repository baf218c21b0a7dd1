import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtaCmd, BmStatus, ErrorBit, Status } from '../src/ata-registers.js';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { RawImage } from '../src/storage/raw-image.js';
import { bytesToWords, FakeHost, identifyString, Ports, tempDir } from './helpers.js';

const BLOCKS = 64;

function isoBlock(b: number): Uint8Array {
  const d = new Uint8Array(2048);
  for (let i = 0; i < 2048; i++) d[i] = (b * 3 + i) & 0xff;
  if (b === 16) d.set([1, ...Buffer.from('CD001')], 0); // primary volume descriptor
  return d;
}

function makeIso(dir: string): string {
  const p = path.join(dir, 'cd.iso');
  const buf = Buffer.alloc(BLOCKS * 2048);
  for (let b = 0; b < BLOCKS; b++) buf.set(isoBlock(b), b * 2048);
  fs.writeFileSync(p, buf);
  return p;
}

describe('ATAPI CD-ROM', () => {
  let host: FakeHost;
  let ide: AtaController;
  let p: Ports;

  beforeEach(() => {
    const iso = makeIso(tempDir());
    host = new FakeHost();
    ide = new AtaController(host, {
      drives: [null, null, { kind: 'cdrom', image: new RawImage(iso, { readOnly: true }) }, null],
      busMasterBase: DEFAULT_BUS_MASTER_BASE,
    });
    p = new Ports(ide, 0x170, 0x376);
  });
  afterEach(() => ide.close());

  /** Issue PACKET with a byte count limit and the 12-byte CDB; returns nothing. */
  function packet(cdb: number[], limit = 0xfffe, dma = false): void {
    p.out8(1, dma ? 1 : 0);
    p.out8(4, limit & 0xff);
    p.out8(5, limit >> 8);
    p.select(0);
    p.command(AtaCmd.PACKET);
    expect(p.altStatus() & (Status.DRQ | Status.BSY)).toBe(Status.DRQ);
    expect(p.in8(2) & 3).toBe(1); // CoD=1, IO=0: device wants the command packet
    const c = new Uint8Array(12);
    c.set(cdb);
    p.writeData(c);
  }

  /** Read the whole data-in phase; returns the bytes and the DRQ block sizes seen. */
  function dataIn(): { data: Uint8Array; blocks: number[] } {
    const out: number[] = [];
    const blocks: number[] = [];
    while (p.status() & Status.DRQ) {
      expect(p.in8(2) & 3).toBe(2); // IO=1, CoD=0: data to host
      const n = p.in8(4) | (p.in8(5) << 8);
      blocks.push(n);
      out.push(...p.readData(n + (n & 1)).subarray(0, n));
    }
    return { data: new Uint8Array(out), blocks };
  }

  function expectCompleted(): void {
    expect(p.altStatus() & (Status.BSY | Status.DRQ | Status.ERR)).toBe(0);
    expect(p.in8(2) & 3).toBe(3);
  }

  it('answers with the ATAPI signature and aborts IDENTIFY DEVICE leaving it in place', () => {
    expect([p.in8(2), p.in8(3), p.in8(4), p.in8(5)]).toEqual([1, 1, 0x14, 0xeb]);
    p.command(AtaCmd.IDENTIFY_DEVICE);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error() & ErrorBit.ABRT).toBe(ErrorBit.ABRT);
    expect([p.in8(4), p.in8(5)]).toEqual([0x14, 0xeb]);
    p.devctl(0x04);
    p.devctl(0x00);
    expect([p.in8(2), p.in8(3), p.in8(4), p.in8(5)]).toEqual([1, 1, 0x14, 0xeb]);
    expect(p.altStatus()).toBe(0);
  });

  it('IDENTIFY PACKET DEVICE describes a removable CD-ROM', () => {
    p.command(AtaCmd.IDENTIFY_PACKET_DEVICE);
    expect(host.level(15)).toBe(true);
    const w = bytesToWords(p.readData(512));
    expect(w[0] >> 14).toBe(2); // ATAPI
    expect((w[0] >> 8) & 0x1f).toBe(5); // CD-ROM
    expect(w[0] & 0x80).toBe(0x80); // removable
    expect(w[0] & 3).toBe(0); // 12-byte packets
    expect(identifyString(w, 27, 20).trim()).toBe('QUASIVM DVD-ROM');
  });

  it('READ(10) of an ISO sector, READ CAPACITY and READ(12)', () => {
    packet([0x25]);
    const cap = dataIn().data;
    expect(Buffer.from(cap).readUInt32BE(0)).toBe(BLOCKS - 1);
    expect(Buffer.from(cap).readUInt32BE(4)).toBe(2048);
    expectCompleted();

    const before = host.raises(15);
    packet([0x28, 0, 0, 0, 0, 16, 0, 0, 1]);
    const { data, blocks } = dataIn();
    expect(blocks).toEqual([2048]);
    expect(data).toEqual(isoBlock(16));
    expect(Buffer.from(data.subarray(1, 6)).toString()).toBe('CD001');
    expectCompleted();
    expect(host.raises(15) - before).toBe(2); // data block + completion

    packet([0xa8, 0, 0, 0, 0, 20, 0, 0, 0, 2]);
    expect(dataIn().data).toEqual(new Uint8Array([...isoBlock(20), ...isoBlock(21)]));
  });

  it('splits data by the byte count limit (odd limits rounded down)', () => {
    packet([0x28, 0, 0, 0, 0, 3, 0, 0, 3], 5000);
    const r = dataIn();
    expect(r.blocks).toEqual([5000, 1144]);
    expect(r.data).toEqual(new Uint8Array([...isoBlock(3), ...isoBlock(4), ...isoBlock(5)]));
    packet([0x28, 0, 0, 0, 0, 3, 0, 0, 1], 1001);
    expect(dataIn().blocks).toEqual([1000, 1000, 48]);
  });

  it('an LBA out of range is CHECK CONDITION with ILLEGAL REQUEST sense', () => {
    packet([0x28, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 2]);
    expect(p.status() & (Status.ERR | Status.DRQ)).toBe(Status.ERR);
    expect(p.error() >> 4).toBe(5);
    expect(p.in8(2) & 3).toBe(3);
    packet([0x03, 0, 0, 0, 18]);
    const sense = dataIn().data;
    expect(sense.length).toBe(18);
    expect([sense[0], sense[2] & 0xf, sense[12]]).toEqual([0x70, 5, 0x21]);
    packet([0x03, 0, 0, 0, 18]);
    expect(dataIn().data[2]).toBe(0); // sense is cleared once reported
    packet([0xee]);
    expect(p.error() >> 4).toBe(5);
  });

  it('INQUIRY, TEST UNIT READY, READ TOC, MODE SENSE, GET CONFIGURATION', () => {
    packet([0x12, 0, 0, 0, 36]);
    const inq = dataIn().data;
    expect(inq[0]).toBe(5);
    expect(inq[1]).toBe(0x80);
    expect(Buffer.from(inq.subarray(8, 16)).toString().trim()).toBe('QUASIVM');

    packet([0x00]);
    expectCompleted();

    packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100]);
    const toc = Buffer.from(dataIn().data);
    expect(toc.readUInt16BE(0)).toBe(18);
    expect([toc[2], toc[3], toc[6], toc[14]]).toEqual([1, 1, 1, 0xaa]);
    expect(toc.readUInt32BE(16)).toBe(BLOCKS);
    packet([0x43, 2, 0, 0, 0, 0, 0, 0, 100]); // MSF
    const msf = dataIn().data;
    expect([msf[9], msf[10], msf[11]]).toEqual([0, 2, 0]); // track 1 at 00:02:00

    packet([0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64]);
    const mode = dataIn().data;
    expect(mode[8]).toBe(0x2a);
    expect(Buffer.from(mode).readUInt16BE(0)).toBe(mode.length - 2);

    packet([0x46, 0, 0, 0, 0, 0, 0, 0, 64]);
    const conf = Buffer.from(dataIn().data);
    expect(conf.readUInt16BE(6)).toBe(0x0008);
    expect(conf.readUInt32BE(0)).toBe(conf.length - 4);

    packet([0x5a, 0, 0x22, 0, 0, 0, 0, 0, 64]); // page not supported
    expect(p.error() >> 4).toBe(5);
  });

  it('allocation length truncates replies', () => {
    packet([0x12, 0, 0, 0, 5]);
    expect(dataIn().data.length).toBe(5);
    packet([0x12, 0, 0, 0, 0]);
    expectCompleted();
  });

  it('locked medium refuses eject; eject then gives NOT READY / medium not present', () => {
    packet([0x1e, 0, 0, 0, 1]);
    expectCompleted();
    packet([0x1b, 0, 0, 0, 2]);
    expect(p.error() >> 4).toBe(5);
    packet([0x1e, 0, 0, 0, 0]);
    packet([0x1b, 0, 0, 0, 2]);
    expectCompleted();
    packet([0x00]);
    expect(p.error() >> 4).toBe(2);
    packet([0x03, 0, 0, 0, 18]);
    expect(dataIn().data[12]).toBe(0x3a);
    packet([0x1b, 0, 0, 0, 3]); // load
    packet([0x12, 0, 0, 0, 36]); // INQUIRY does not report the unit attention
    dataIn();
    packet([0x00]);
    expect(p.error() >> 4).toBe(6); // UNIT ATTENTION: medium may have changed
    packet([0x03, 0, 0, 0, 18]);
    expect(dataIn().data[12]).toBe(0x28);
    packet([0x00]);
    expectCompleted();
  });

  it('READ(10) by DMA when the PACKET Features DMA bit is set', async () => {
    const bm = DEFAULT_BUS_MASTER_BASE + 8; // secondary channel's block
    const view = new DataView(host.memory.buffer);
    view.setUint32(0x2000, 0x60000, true);
    view.setUint32(0x2004, 4096 | 0x80000000, true);
    ide.ioWrite(bm + 4, 4, 0x2000, 0);
    ide.ioWrite(bm, 1, 0x09, 0);
    packet([0x28, 0, 0, 0, 0, 7, 0, 0, 2], 0xfffe, true);
    await ide.whenIdle();
    expect(host.level(15)).toBe(true);
    expect(ide.ioRead(bm + 2, 1, 0) & (BmStatus.INTERRUPT | BmStatus.ACTIVE)).toBe(BmStatus.INTERRUPT);
    expect(host.memory.subarray(0x60000, 0x60000 + 4096)).toEqual(new Uint8Array([...isoBlock(7), ...isoBlock(8)]));
    expectCompleted();
  });

  it('a drive without a medium reports NOT READY', () => {
    ide.close();
    ide = new AtaController(host, { drives: [null, null, { kind: 'cdrom', image: null }, null] });
    p = new Ports(ide, 0x170, 0x376);
    packet([0x25]);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error() >> 4).toBe(2);
  });
});
