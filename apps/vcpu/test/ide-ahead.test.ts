import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RemoteDevice } from '@quasivm/device-sdk';
import { createBridgeBuffers, RemoteIoProxy } from '../src/remote-io-bridge.js';
import { IdeRig, sectorHead, SECTOR } from './support/ide-guest-harness.js';

/**
 * The vCPU's side of a PIO data phase against the real IDE service over the fast lane: the
 * reply to the status read that starts a phase carries the whole command's data (ReadAhead)
 * or says how much it takes (WriteAhead), the proxy answers the data and status reads
 * itself and reports them as Consumed, and the device ends up exactly where it would have.
 * Also: a PCI config write that moves BAR4 routes the new ports before it returns.
 */
const rig = new IdeRig();
let remote: RemoteDevice;
let proxy: RemoteIoProxy;
const SECTORS = 1024;

beforeAll(async () => {
  await rig.start();
  rig.makeImage('ahead.img', SECTORS, Array.from({ length: 64 }, (_, i) => i));
  remote = await RemoteDevice.connect(rig.service.address, 'ahead-vm', { 'primary.master': 'ahead.img', 'primary.master.mode': 'rw' });
  expect(remote.fastLanePath).not.toBe('');
  // The proxy blocks in read(2) on this thread: fine, the service is another process.
  proxy = new RemoteIoProxy(createBridgeBuffers(64, 64), 0, { path: remote.fastLanePath, sessionId: remote.sessionId });
});
afterAll(async () => {
  proxy?.close();
  await remote?.detach().catch(() => undefined);
  remote?.close();
  await rig.stop();
});

function lba28(lba: number, count: number, cmd: number): void {
  proxy.ioWrite(0x1f6, 1, 0xe0 | ((lba >>> 24) & 0x0f), 0);
  proxy.ioWrite(0x1f2, 1, count & 0xff, 0);
  proxy.ioWrite(0x1f3, 1, lba & 0xff, 0);
  proxy.ioWrite(0x1f4, 1, (lba >>> 8) & 0xff, 0);
  proxy.ioWrite(0x1f5, 1, (lba >>> 16) & 0xff, 0);
  proxy.ioWrite(0x1f7, 1, cmd, 0);
}

function waitDrq(): number {
  for (;;) {
    const s = proxy.ioRead(0x1f7, 1, 0);
    if (!(s & 0x80) && s & 0x09) return s;
  }
}

describe('PIO data phases served by the vCPU', () => {
  test('READ SECTORS of 32 sectors costs one round trip; the data is the image and the device state is as if every read had crossed', () => {
    const trips = proxy.roundTrips;
    lba28(8, 32, 0x20);
    const heads: number[] = [];
    for (let s = 0; s < 32; s++) {
      expect(waitDrq()).toBe(0x58);
      const data = proxy.ioReadString(0x1f0, 2, 256, 0);
      heads.push(Buffer.from(data).readUInt32LE(0));
    }
    expect(proxy.ioRead(0x3f6, 1, 0)).toBe(0x50); // alternate status, answered locally
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    expect(heads).toEqual(Array.from({ length: 32 }, (_, i) => sectorHead(8 + i)));
    expect(proxy.roundTrips - trips).toBe(1);
    // Registers the offer does not cover go to the device, which has applied all the reads:
    // LBA low holds the last sector read (ATA-6 8.27 outputs), no error.
    expect(proxy.ioRead(0x1f3, 1, 0)).toBe(8 + 31);
    expect(proxy.ioRead(0x1f1, 1, 0)).toBe(0);
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
  });

  test('single-word reads of the data register are served from the offer too', () => {
    const trips = proxy.roundTrips;
    lba28(40, 2, 0x20);
    const words: number[] = [];
    for (let s = 0; s < 2; s++) {
      waitDrq();
      for (let i = 0; i < 256; i++) words.push(proxy.ioRead(0x1f0, 2, 0));
    }
    expect(words[0] | (words[1] << 16)).toBe(sectorHead(40));
    expect((words[256] | (words[257] << 16)) >>> 0).toBe(sectorHead(41));
    expect(proxy.roundTrips - trips).toBe(1);
  });

  test('WRITE SECTORS: status polls between sectors and after the last one are local (the write cache is on: the command completes when its data is in), one round trip, and FLUSH CACHE lands the data', () => {
    const trips = proxy.roundTrips;
    lba28(100, 16, 0x30);
    for (let s = 0; s < 16; s++) {
      expect(waitDrq()).toBe(0x58);
      const data = Buffer.alloc(SECTOR, 0x40 + s);
      data.writeUInt32LE(0xabc00000 + s, 0);
      proxy.ioWriteString(0x1f0, 2, data, 0);
    }
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50); // WriteAhead.status_after
    expect(proxy.roundTrips - trips).toBe(1);
    proxy.ioWrite(0x1f7, 1, 0xe7, 0); // FLUSH CACHE
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    const written = rig.sectors('ahead.img', 100, 16);
    for (let s = 0; s < 16; s++) {
      expect(written.readUInt32LE(s * SECTOR)).toBe(0xabc00000 + s);
      expect(written[s * SECTOR + 511]).toBe(0x40 + s);
    }
  });

  test('WRITE SECTORS from one buffer the guest reuses, the phase left halfway by an access the offer does not cover: every sector reaches the image with its own bytes', () => {
    const trips = proxy.roundTrips;
    lba28(200, 6, 0x30);
    const data = Buffer.alloc(SECTOR);
    for (let s = 0; s < 6; s++) {
      expect(waitDrq()).toBe(0x58);
      data.fill(0x60 + s);
      data.writeUInt32LE(0xdef00000 + s, 0);
      proxy.ioWriteString(0x1f0, 2, data, 0); // the phase's blocks and status reads cross as one DataOut
      if (s === 2) expect(proxy.ioRead(0x1f2, 1, 0)).toBeGreaterThanOrEqual(0); // crosses: ends the offer
    }
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    expect(proxy.roundTrips - trips).toBeLessThanOrEqual(5); // no round trip per sector
    proxy.ioWrite(0x1f7, 1, 0xe7, 0); // FLUSH CACHE
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    const written = rig.sectors('ahead.img', 200, 6);
    for (let s = 0; s < 6; s++) {
      expect(written.readUInt32LE(s * SECTOR)).toBe(0xdef00000 + s);
      expect(written.subarray(s * SECTOR + 4, (s + 1) * SECTOR).every((b) => b === 0x60 + s)).toBe(true);
    }
  });

  test('an access the offer does not cover in the middle of a phase ends it, and the device carries on from there', () => {
    lba28(0, 4, 0x20);
    waitDrq();
    const first = Buffer.from(proxy.ioReadString(0x1f0, 2, 128, 0)); // half a sector from the offer
    expect(first.readUInt32LE(0)).toBe(sectorHead(0));
    expect(proxy.ioRead(0x1f2, 1, 0)).toBeGreaterThanOrEqual(0); // sector count: crosses, ends the offer
    const rest = Buffer.from(proxy.ioReadString(0x1f0, 2, 128, 0)); // second half, from the device
    expect(rest.length).toBe(256);
    waitDrq();
    expect(Buffer.from(proxy.ioReadString(0x1f0, 2, 256, 0)).readUInt32LE(0)).toBe(sectorHead(1));
    for (let s = 2; s < 4; s++) {
      waitDrq();
      proxy.ioReadString(0x1f0, 2, 256, 0);
    }
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    expect(proxy.ioRead(0x1f3, 1, 0)).toBe(3);
  });

  test('sequential READ SECTORS commands: the reply that starts the first brings the next ones (proto CommandAhead), one round trip for four commands; a command off the sequence goes to the device and reads right', () => {
    const trips = proxy.roundTrips;
    const heads: number[] = [];
    for (let c = 0; c < 4; c++) {
      lba28(c * 16, 16, 0x20);
      for (let s = 0; s < 16; s++) {
        expect(waitDrq()).toBe(0x58);
        heads.push(Buffer.from(proxy.ioReadString(0x1f0, 2, 256, 0)).readUInt32LE(0));
      }
      expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    }
    expect(heads).toEqual(Array.from({ length: 64 }, (_, i) => sectorHead(i)));
    expect(proxy.roundTrips - trips).toBe(1);
    lba28(8, 2, 0x20); // not where the sequence goes: the predictions are dropped
    waitDrq();
    expect(Buffer.from(proxy.ioReadString(0x1f0, 2, 256, 0)).readUInt32LE(0)).toBe(sectorHead(8));
    waitDrq();
    expect(Buffer.from(proxy.ioReadString(0x1f0, 2, 256, 0)).readUInt32LE(0)).toBe(sectorHead(9));
    expect(proxy.roundTrips - trips).toBe(2);
    expect(proxy.ioRead(0x1f3, 1, 0)).toBe(9); // the device ran every command: LBA low is the last sector read
  });

  test('sequential READ SECTORS the way SeaBIOS issues them (nIEN set in Device Control before each, cleared after; Status and the Device register read before selecting the drive): after the first, no round trip at all; SRST ends the predictions', () => {
    let trips = proxy.roundTrips;
    const heads: number[] = [];
    for (let c = 0; c < 5; c++) {
      proxy.ioWrite(0x3f6, 1, 0x0a, 0); // nIEN: no interrupt for this command
      expect(proxy.ioRead(0x1f7, 1, 0) & 0x80).toBe(0); // await not busy
      expect(proxy.ioRead(0x1f6, 1, 0)).toBe(0xe0); // the drive selected now (LBA mode, drive 0)
      lba28(c * 16, 16, 0x20);
      for (let s = 0; s < 16; s++) {
        expect(waitDrq()).toBe(0x58);
        heads.push(Buffer.from(proxy.ioReadString(0x1f0, 2, 256, 0)).readUInt32LE(0));
      }
      expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
      proxy.ioWrite(0x3f6, 1, 0x08, 0); // interrupts back on
      if (c === 0) trips = proxy.roundTrips; // the first: where the last test left the drive, then its own data
    }
    expect(heads).toEqual(Array.from({ length: 80 }, (_, i) => (i < 64 ? sectorHead(i) : 0)));
    expect(proxy.roundTrips - trips).toBe(0);
    // A software reset: the next read goes to the device, which ran every command.
    proxy.ioWrite(0x3f6, 1, 0x0c, 0);
    proxy.ioWrite(0x3f6, 1, 0x08, 0);
    for (let s = proxy.ioRead(0x1f7, 1, 0); s & 0x80; s = proxy.ioRead(0x1f7, 1, 0));
    expect(proxy.roundTrips - trips).toBeGreaterThan(0);
    expect(proxy.ioRead(0x1f3, 1, 0)).toBe(1); // after a reset: the signature's Sector Number
  });

  test('sequential WRITE SECTORS commands: one round trip for all of them, and FLUSH CACHE finds every sector in the image', () => {
    const trips = proxy.roundTrips;
    for (let c = 0; c < 4; c++) {
      lba28(600 + c * 8, 8, 0x30);
      for (let s = 0; s < 8; s++) {
        expect(waitDrq()).toBe(0x58);
        const data = Buffer.alloc(SECTOR, c * 8 + s);
        data.writeUInt32LE(0x5a000000 + c * 8 + s, 0);
        proxy.ioWriteString(0x1f0, 2, data, 0);
      }
      expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    }
    expect(proxy.roundTrips - trips).toBe(1);
    proxy.ioWrite(0x1f7, 1, 0xe7, 0); // FLUSH CACHE
    expect(proxy.ioRead(0x1f7, 1, 0)).toBe(0x50);
    const written = rig.sectors('ahead.img', 600, 32);
    for (let s = 0; s < 32; s++) {
      expect(written.readUInt32LE(s * SECTOR)).toBe(0x5a000000 + s);
      expect(written[s * SECTOR + 511]).toBe(s);
    }
  });

  test('DMA over the fast lane: the vCPU thread serves the PRD table and data while it waits, and the first bus-master status read sees the transfer done', () => {
    const ram = new Uint8Array(1 << 20);
    const dma = new RemoteIoProxy(createBridgeBuffers(64, 64), 0, { path: remote.fastLanePath, sessionId: remote.sessionId }, {
      bytes: ram.length,
      read: (addr, length) => ram.slice(addr, addr + length),
      write: (addr, data) => ram.set(data, addr),
    });
    try {
      const bm = 0xc000;
      const view = new DataView(ram.buffer);
      view.setUint32(0x1000, 0x20000, true); // one PRD entry: 16 sectors at 0x20000, end of table
      view.setUint32(0x1004, 0x80000000 | (16 * SECTOR), true);
      dma.ioWrite(bm + 4, 4, 0x1000, 0);
      dma.ioWrite(bm + 2, 1, 0x06, 0); // clear INTERRUPT and ERROR
      dma.ioWrite(0x1f6, 1, 0xe0, 0);
      dma.ioWrite(0x1f2, 1, 16, 0);
      dma.ioWrite(0x1f3, 1, 20, 0);
      dma.ioWrite(0x1f4, 1, 0, 0);
      dma.ioWrite(0x1f5, 1, 0, 0);
      dma.ioWrite(0x1f7, 1, 0xc8, 0); // READ DMA
      dma.ioWrite(bm, 1, 0x09, 0); // start, to memory
      const trips = dma.roundTrips;
      expect(dma.ioRead(bm + 2, 1, 0) & 0x07).toBe(0x04); // INTERRUPT, not ACTIVE, no ERROR: done
      expect(dma.roundTrips - trips).toBe(1);
      dma.ioWrite(bm, 1, 0x08, 0);
      // The bus-master poll's answer carried the idle drive's Status, and stopping the bus
      // master does not end that offer: no round trip.
      expect(dma.ioRead(0x1f7, 1, 0)).toBe(0x50);
      expect(dma.roundTrips - trips).toBe(1);
      // Bus-master writes leave that offer standing (they cannot change an idle drive's
      // Status); a command-block write ends it.
      const before = dma.roundTrips;
      dma.ioWrite(bm + 2, 1, 0x06, 0);
      dma.ioWrite(bm + 4, 4, 0x1000, 0);
      expect(dma.ioRead(0x1f7, 1, 0)).toBe(0x50);
      expect(dma.roundTrips).toBe(before);
      dma.ioWrite(0x1f2, 1, 1, 0);
      expect(dma.ioRead(0x1f7, 1, 0)).toBe(0x50);
      expect(dma.roundTrips).toBe(before + 1);
      for (let i = 0; i < 16; i++) expect(view.getUint32(0x20000 + i * SECTOR, true)).toBe(sectorHead(20 + i));
    } finally {
      dma.close();
    }
  });

  test('moving BAR4 routes the new bus-master ports before the config write returns', () => {
    const seen: Array<Array<{ base: number; length: number }>> = [];
    proxy.onClaimsChanged = (ports) => seen.push(ports);
    proxy.pciConfigWrite(0, 0x20, 4, 0xd001, 0);
    expect(seen.length).toBe(1);
    expect(seen[0]).toContainEqual({ base: 0xd000, length: 16 });
    expect(proxy.pciConfigRead(0, 0x20, 4, 0)).toBe(0xd001);
    expect(proxy.ioRead(0xd002, 1, 0)).not.toBe(0xff); // bus-master status at the new base
    proxy.pciConfigWrite(0, 0x20, 4, 0xd001, 0); // no move: no claims in the answer
    expect(seen.length).toBe(1);
  });
});
