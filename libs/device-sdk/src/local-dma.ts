import type { AccessSize, DmaChannelNow, DmaCommandAhead } from './model.js';
import { addPrdEntries, emptyPrdList, PRD_ENTRY_SIZE } from './prd-table.js';

/** Guest RAM as the vCPU thread holds it (LaneGuestMemory's shape); read/view/write throw outside it. */
export interface DmaGuestMemory {
  readonly bytes: number;
  read(addr: number, length: number): Uint8Array;
  view?(addr: number, length: number): Uint8Array;
  write(addr: number, data: Uint8Array): void;
}

// SFF-8038i 2.1: bus-master command (offset 0), status (2), PRD table address (4-7).
const BM_START = 0x01;
const BM_READ = 0x08;
const BM_ACTIVE = 0x01;
const BM_ERROR = 0x02;
const BM_INTERRUPT = 0x04;
const BM_CAPABLE = 0x60;
/** Most PRD entries read from guest RAM to decide a transfer (the device's snapshot holds as many). */
const MAX_ENTRIES = 16;
/** Largest transfer a command may predict: 65536 sectors (ATA-6 8.28). */
const MAX_COMMAND_BYTES = 65536 * 512;
/** Largest write carried out here: its buffers travel as snapshots, which a device keeps only up to a few MiB (proto DmaAhead). */
export const MAX_SERVED_WRITE_BYTES = 2 << 20;

/** What the vCPU posts for a command it carried out (proto MemorySnapshot x n, then DmaServed). */
export interface ServedDma {
  /** The PRD entries it read, at the table's address. */
  table: { addr: number; data: Uint8Array };
  /** Transfers to the drive: each region's bytes as guest RAM holds them (views: send before the guest runs on). */
  regions: Array<{ addr: number; data: Uint8Array }>;
  byteLength: number;
  /**
   * To memory: the read data of the reply that predicted this command, when it was the last
   * command of that reply (no prediction uses those bytes any more); else null.
   */
  dataDone: Uint8Array | null;
}

interface Predicted extends DmaCommandAhead {
  /** To memory: the reply's data that holds its bytes, and where they start there. */
  data: Uint8Array;
  dataOffset: number;
}

/**
 * Predicted DMA commands (proto CommandAhead.dma with ReadReply.dma_channel), followed and
 * carried out on the vCPU thread: the channel's bus-master registers as the guest writes them
 * (SFF-8038i), the command block writes that issue the next predicted command, and at the
 * START write the transfer itself, in guest RAM. Reads of the drive's Status and the bus
 * master's command and status are answered here. Anything it does not follow ends it (the
 * caller then drops it and the access goes to the device, which has applied everything before).
 */
export class LocalDma {
  private bmCommand: number;
  private bmStatus: number;
  private prd: number;
  /** The drive's Status now; null once the command block was written (the device knows). */
  private status: number | null;
  /** The next predicted command in `list`. */
  private at = 0;
  /** The predicted command the guest issued and has not started yet. */
  private issued: Predicted | null = null;
  /** Offsets 2-6 since the last command: the last two values written and how many writes. */
  private readonly last = [0, 0, 0, 0, 0];
  private readonly prev = [0, 0, 0, 0, 0];
  private readonly writes = [0, 0, 0, 0, 0];
  private readonly statusPort: number;

  private constructor(
    private readonly ch: DmaChannelNow,
    private list: Predicted[],
  ) {
    this.bmCommand = ch.bmCommand;
    this.bmStatus = ch.bmStatus;
    this.prd = ch.prdAddress;
    this.status = ch.status;
    this.statusPort = ch.commandBase + 7;
  }

  /** Usable predictions from a reply, or null (none, or values that make no sense: refused). */
  static from(ch: DmaChannelNow | null | undefined, commands: Array<DmaCommandAhead | null>, data: Uint8Array | null | undefined): LocalDma | null {
    if (!ch) return null;
    const port = (p: number) => Number.isInteger(p) && p >= 0 && p <= 0xffff;
    if (![ch.commandBase, ch.controlPort, ch.busMasterBase].every(port) || ch.busMasterBase + 8 > 0x10000 || ch.commandBase + 8 > 0x10000) return null;
    if (![ch.bmCommand, ch.bmStatus, ch.status].every(byte) || !Number.isInteger(ch.prdAddress) || ch.prdAddress < 0 || ch.prdAddress > 0xffff_ffff || ch.prdAddress & 3) return null;
    // The three blocks must not overlap, or a write could mean two things.
    const blocks = [[ch.commandBase, 8], [ch.controlPort, 1], [ch.busMasterBase, 8]];
    if (blocks.some(([a, n], i) => blocks.some(([b, m], j) => i !== j && a < b + m && b < a + n))) return null;
    const list = predictedList(commands, data);
    return list ? new LocalDma({ ...ch }, list) : null;
  }

  /**
   * Appends the commands a DmaMore reply predicts after those held (their data in `data`);
   * false when there are none or they make no sense (nothing changes then).
   */
  extend(commands: Array<DmaCommandAhead | null>, data: Uint8Array | null | undefined): boolean {
    const more = predictedList(commands, data);
    if (!more) return false;
    this.list = this.at < this.list.length ? this.list.slice(this.at).concat(more) : more;
    this.at = 0;
    return true;
  }

  /** A read answered here (`consumed`: it has a side effect the device must apply), or null: ask the device. */
  read(port: number, size: AccessSize): { value: number; consumed: boolean } | null {
    if (size !== 1) return null;
    if (port === this.statusPort || port === this.ch.controlPort) {
      // Status clears the drive's pending interrupt; Alternate Status has no effect (ATA-6 7.15, 7.2).
      const s = this.issued ? this.issued.statusDuring : this.status;
      return s === null ? null : { value: s, consumed: port === this.statusPort };
    }
    if (port === this.ch.busMasterBase) return { value: this.bmCommand, consumed: false };
    if (port === this.ch.busMasterBase + 2) return { value: this.bmStatus, consumed: false };
    return null;
  }

  /**
   * A write the guest made: 'post' (followed; the write goes to the device as usual), 'drop'
   * (not followed: forget the predictions) or 'start' (it starts the issued predicted command:
   * serve() it, or drop).
   */
  write(port: number, size: AccessSize, value: number): 'post' | 'drop' | 'start' {
    const ch = this.ch;
    if (port === ch.controlPort) return 'drop'; // SRST, nIEN, HOB
    const bm = port - ch.busMasterBase;
    if (bm >= 0 && bm < 8) return this.busMasterWrite(bm, size, value);
    const offset = port - ch.commandBase;
    if (offset < 0 || offset >= 8) return 'post'; // another channel's or device's ports
    if (offset === 0 || size !== 1 || this.issued) return 'drop';
    const v = value & 0xff;
    this.status = null;
    if (offset === 1) return 'post'; // Features: no part of a DMA command
    if (offset < 7) {
      const i = offset - 2;
      this.prev[i] = this.last[i];
      this.last[i] = v;
      this.writes[i]++;
      return 'post';
    }
    const next = this.list[this.at];
    // With START already set the device would start the transfer at this write: not followed.
    if (!next || next.command !== v || !this.registersMatch(next.registers) || this.bmCommand & BM_START) return 'drop';
    this.at++;
    this.issued = next;
    this.writes.fill(0);
    return 'post';
  }

  private registersMatch(r: number[]): boolean {
    for (let i = 0; i < 5; i++) if (this.writes[i] < 1 || this.last[i] !== r[i]) return false;
    // 48-bit: each of Sector Count and LBA Low/Mid/High written twice, the first value its "previous content" (ATA-6 6.20).
    if (r.length === 9) for (let i = 0; i < 4; i++) if (this.writes[i] < 2 || this.prev[i] !== r[5 + i]) return false;
    return true;
  }

  private busMasterWrite(offset: number, size: AccessSize, value: number): 'post' | 'drop' | 'start' {
    if (offset + size > 8) return 'drop';
    if (offset === 0) {
      if (size !== 1) return 'drop';
      const starts = !(this.bmCommand & BM_START) && value & BM_START;
      if (starts) return this.issued && ((value & BM_READ) !== 0) === this.issued.toMemory ? 'start' : 'drop';
      this.writeCommand(value);
      return 'post';
    }
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o === 2) {
        // Bits 5-6 are written; ERROR and INTERRUPT are cleared by writing 1 (SFF-8038i 2.1.2).
        this.bmStatus = ((this.bmStatus & ~BM_CAPABLE) | (b & BM_CAPABLE)) & ~(b & (BM_ERROR | BM_INTERRUPT));
      } else if (o >= 4) {
        const shift = 8 * (o - 4);
        const mask = o === 4 ? 0xfc : 0xff; // the table is dword aligned
        this.prd = ((this.prd & ~(0xff << shift)) | ((b & mask) << shift)) >>> 0;
      }
    }
    return 'post';
  }

  /** START or READ bits only; stopping clears ACTIVE (SFF-8038i 2.1.1). */
  private writeCommand(value: number): void {
    const was = this.bmCommand & BM_START;
    this.bmCommand = value & (BM_START | BM_READ);
    if (was && !(this.bmCommand & BM_START)) this.bmStatus &= ~BM_ACTIVE;
  }

  /**
   * Carries out the issued command the START write `value` starts, in `memory`, when its PRD
   * table decides the transfer within MAX_ENTRIES entries of its 4 KiB page and every region
   * it uses is in RAM; then the registers read as the device's would. Null: it cannot (nothing
   * was changed; drop the predictions and send the write to the device).
   */
  serve(memory: DmaGuestMemory, value: number): ServedDma | null {
    const c = this.issued;
    if (!c) return null;
    const need = c.byteLength;
    const fits = (addr: number, n: number) => addr + n <= memory.bytes;
    const room = Math.min(MAX_ENTRIES, Math.floor((0x1000 - (this.prd & 0xfff)) / PRD_ENTRY_SIZE));
    if (room === 0 || !fits(this.prd, room * PRD_ENTRY_SIZE)) return null;
    let table: Uint8Array;
    try {
      table = memory.read(this.prd, room * PRD_ENTRY_SIZE);
    } catch {
      return null;
    }
    const entries = emptyPrdList();
    addPrdEntries(entries, table, need, room);
    // Undecided within the entries read, or too short (the device then fails it): the device's to do.
    if (!(entries.eot || entries.total > need) || entries.total < need) return null;
    const total = entries.total;
    const regions: Array<{ addr: number; length: number; at: number }> = [];
    for (let i = 0, at = 0; at < need; i++) {
      const n = Math.min(entries[i].length, need - at);
      if (!fits(entries[i].address, n)) return null;
      regions.push({ addr: entries[i].address, length: n, at });
      at += n;
    }
    const last = c.toMemory && c.dataOffset + c.byteLength === c.data.byteLength;
    const served: ServedDma = { table: { addr: this.prd, data: table.slice(0, entries.length * PRD_ENTRY_SIZE) }, regions: [], byteLength: need, dataDone: last ? c.data : null };
    try {
      if (c.toMemory) {
        for (const r of regions) memory.write(r.addr, c.data.subarray(c.dataOffset + r.at, c.dataOffset + r.at + r.length));
      } else {
        for (const r of regions) served.regions.push({ addr: r.addr, data: memory.view ? memory.view(r.addr, r.length) : memory.read(r.addr, r.length) });
      }
    } catch {
      return null; // checked above: RAM does not end inside a region
    }
    // START sets ACTIVE; the end sets INTERRUPT and clears ACTIVE unless the table described more (SFF-8038i 2.1.2).
    this.bmCommand = value & (BM_START | BM_READ);
    this.bmStatus |= BM_ACTIVE | BM_INTERRUPT;
    if (total <= need) this.bmStatus &= ~BM_ACTIVE;
    this.status = c.statusAfter;
    this.issued = null;
    return served;
  }

  /** Predicted commands not issued yet. */
  get pending(): number {
    return this.list.length - this.at + (this.issued ? 1 : 0);
  }

  /** Predicted commands not issued yet after the issued one (what a DmaMore skips). */
  get queued(): number {
    return this.list.length - this.at;
  }
}

const byte = (b: number) => Number.isInteger(b) && b >= 0 && b <= 0xff;

/** Checked predictions with their data (the reads', back to back, exactly), or null. */
function predictedList(commands: Array<DmaCommandAhead | null>, data: Uint8Array | null | undefined): Predicted[] | null {
  if (commands.length === 0 || commands.some((c) => !c)) return null;
  const bytes = data ?? new Uint8Array(0);
  const list: Predicted[] = [];
  let at = 0;
  for (const c of commands as DmaCommandAhead[]) {
    if (!byte(c.command) || (c.registers.length !== 5 && c.registers.length !== 9) || !c.registers.every(byte)) return null;
    if (!byte(c.statusDuring) || !byte(c.statusAfter) || !Number.isInteger(c.byteLength) || c.byteLength <= 0 || c.byteLength > MAX_COMMAND_BYTES) return null;
    if (!c.toMemory && c.byteLength > MAX_SERVED_WRITE_BYTES) return null;
    list.push({ command: c.command, registers: [...c.registers], toMemory: c.toMemory, byteLength: c.byteLength, statusDuring: c.statusDuring, statusAfter: c.statusAfter, data: bytes, dataOffset: at });
    if (c.toMemory) at += c.byteLength;
  }
  return at === bytes.byteLength ? list : null; // the data must be exactly the reads'
}
