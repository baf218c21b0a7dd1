import {
  AtaCmd, ErrorBit, LBA28_MAX_SECTORS, MAX_MULTIPLE_SECTORS, PowerMode, SECTOR_SIZE, SetFeature, SIGNATURE_ATA, Status,
} from './ata-registers.js';
import type { IdeCounters } from './counters.js';
import { IdeDevice, type IdeDeviceCommonState } from './ide-device.js';
import { ataIdentifyData } from './ata-identify.js';
import { predictSequential, PREDICTABLE_COMMANDS, type IssuedCommand, type PredictedCommand } from './sequential-prediction.js';
import { bool, num, obj, str, type Json } from './state-check.js';
import { deviceWithHead } from './task-file.js';
import type { BlockDevice } from './storage/block-device.js';
import type { DmaCommandAhead } from '@quasivm/device-sdk';
import { predictDma, type IssuedDma } from './dma-prediction.js';

export interface AtaDiskOptions {
  /** 20-character serial number (IDENTIFY words 10-19). */
  serial?: string;
  /** 40-character model number (IDENTIFY words 27-46). */
  model?: string;
  /** Advertise and accept the 48-bit Address feature set (default true). */
  lba48?: boolean;
}

type AddrMode = 'chs' | 'lba28' | 'lba48';
const ADDR_MODES: readonly AddrMode[] = ['chs', 'lba28', 'lba48'];
type Power = 'active' | 'idle' | 'standby';
const POWER_MODES: readonly Power[] = ['active', 'idle', 'standby'];

/** A PIO or DMA sector transfer in progress. */
interface SectorTransfer {
  write: boolean;
  /** Next sector to move. */
  lba: number;
  /** Sectors still to move, including the current DRQ block. */
  remaining: number;
  /** Sectors per DRQ block (1, or the multiple count). */
  block: number;
  addr: AddrMode;
}

const MAX_CHS_SECTORS = 16383 * 16 * 63;

/**
 * An ATA hard disk (ATA-6 General and 48-bit Address feature sets), over an injected
 * BlockDevice. Commands complete within the port access that issues them, except DMA,
 * which the channel's bus master finishes later.
 */
export class AtaDisk extends IdeDevice {
  readonly kind = 'ata' as const;
  readonly serial: string;
  readonly model: string;
  readonly lba48: boolean;
  /** Default translation (IDENTIFY words 1, 3, 6). */
  readonly defaultHeads: number;
  readonly defaultSectors: number;
  readonly defaultCylinders: number;
  /** Current translation, changed by INITIALIZE DEVICE PARAMETERS (words 54-56). */
  heads: number;
  sectorsPerTrack: number;
  /** Sectors per READ/WRITE MULTIPLE block; 0 = multiple mode off. */
  multiple = 0;
  writeCache = true;
  lookAhead = true;
  power: Power = 'active';
  /** Transfer mode last set by SET FEATURES 03h (the Sector Count value), 0 = PIO default. */
  transferMode = 0;
  private xfer: SectorTransfer | null = null;
  /**
   * Sectors read from the image for a data-in offer (accessAhead), kept for the current read
   * command so its DRQ blocks are not read twice. Not state: a copy of image contents,
   * dropped when a command starts, on any write and on restore.
   */
  private readCache: { lba: number; data: Uint8Array } | null = null;
  /**
   * Sectors read for the commands predicted after the running one (commandsAhead): when the
   * guest issues them, their blocks come from here, not from the disk again. Not state: a
   * copy of image contents, dropped on any write, reset and restore.
   */
  private predictedReads: Array<{ lba: number; data: Uint8Array }> = [];
  /**
   * DRQ blocks of the running PIO write command that are not in the image yet: they go in
   * one write when the command ends (or every PENDING_WRITE_BYTES), not one per block (a
   * WRITE SECTORS of 128 sectors was 128 writes of 512 bytes). The guest sees the command
   * complete only after that write, so nothing it was told is done is missing. Anything
   * else that touches the medium or the state (a new command, reset, save, flush, close)
   * writes them out first.
   */
  private pendingWrite: { lba: number; blocks: Uint8Array[]; bytes: number } | null = null;
  /** Where data-out blocks are taken from (writeBlock). Not state: the blocks themselves are. */
  private writeArea: { buf: Uint8Array; used: number } | null = null;
  /**
   * The first sector of a write that failed after the guest was told it had completed (the
   * volatile write cache is on, so a PIO write completes when its data is in: see
   * statusAfterDataOut), or that failed where no command could say so: the next FLUSH CACHE
   * fails with it in the LBA registers (ATA-6 8.14, the first sector not written).
   */
  deferredWriteError: number | null = null;
  /**
   * The PIO command running, as issued, while it may be one of a sequential run (LBA28 READ/
   * WRITE SECTORS or MULTIPLE): what predictions of the next commands start from. Not state:
   * a hint, dropped by any other command, reset and restore.
   */
  private issued: IssuedCommand | null = null;
  /**
   * The READ/WRITE DMA (EXT) running, as issued (LBA addressing), and once it completed without
   * error, until predictions after it are offered (dmaAhead) or anything else happens. Not
   * state: a hint, dropped by any command, reset and restore.
   */
  private dmaIssued: IssuedDma | null = null;
  private dmaDoneLast: IssuedDma | null = null;
  /** Predictions after dmaDoneLast were offered with a read's reply (once; DmaMore asks again). */
  private dmaOffered = false;

  constructor(readonly disk: BlockDevice, counters: IdeCounters, options: AtaDiskOptions = {}) {
    super(counters);
    this.serial = options.serial ?? 'QVM00000000000000001';
    this.model = options.model ?? 'QUASIVM HARDDISK';
    this.lba48 = options.lba48 ?? true;
    const g = defaultGeometry(disk.sectorCount);
    this.defaultCylinders = g.cylinders;
    this.defaultHeads = g.heads;
    this.defaultSectors = g.sectors;
    this.heads = g.heads;
    this.sectorsPerTrack = g.sectors;
    this.reset();
  }

  get capacity(): number {
    return this.disk.sectorCount;
  }

  /** Cylinders of the current translation (IDENTIFY word 54). */
  get currentCylinders(): number {
    return Math.min(65535, Math.floor(Math.min(this.capacity, MAX_CHS_SECTORS) / (this.heads * this.sectorsPerTrack)));
  }

  reset(): void {
    this.writeOutQuietly();
    this.tf.count = SIGNATURE_ATA.count;
    this.tf.lbaLow = SIGNATURE_ATA.lbaLow;
    this.tf.lbaMid = SIGNATURE_ATA.lbaMid;
    this.tf.lbaHigh = SIGNATURE_ATA.lbaHigh;
    this.tf.device = 0;
    this.error = 0x01;
    this.status = Status.DRDY | Status.DSC;
    this.buffer = new Uint8Array(0);
    this.bufPos = 0;
    this.xfer = null;
    this.dmaRequest = null;
    this.issued = null;
    this.dmaIssued = this.dmaDoneLast = null;
    this.predictedReads = [];
  }

  command(cmd: number): void {
    this.writeOutQuietly(); // a command that replaces an unfinished write: what the guest wrote is kept
    this.issued = null;
    this.dmaIssued = this.dmaDoneLast = null;
    this.writeArea = null;
    this.intPending = false;
    this.xfer = null;
    this.dmaRequest = null;
    this.error = 0;
    if (cmd >= 0x10 && cmd <= 0x1f) return this.recalibrate();
    if (cmd >= 0x70 && cmd <= 0x7f) return this.seek();
    switch (cmd) {
      case AtaCmd.READ_SECTORS:
      case AtaCmd.READ_SECTORS_NORETRY:
        return this.startSectors(cmd, false, false, 1, false);
      case AtaCmd.READ_SECTORS_EXT:
        return this.startSectors(cmd, true, false, 1, false);
      case AtaCmd.READ_MULTIPLE:
        return this.startSectors(cmd, false, false, this.multiple, false);
      case AtaCmd.READ_MULTIPLE_EXT:
        return this.startSectors(cmd, true, false, this.multiple, false);
      case AtaCmd.WRITE_SECTORS:
      case AtaCmd.WRITE_SECTORS_NORETRY:
        return this.startSectors(cmd, false, true, 1, false);
      case AtaCmd.WRITE_SECTORS_EXT:
        return this.startSectors(cmd, true, true, 1, false);
      case AtaCmd.WRITE_MULTIPLE:
        return this.startSectors(cmd, false, true, this.multiple, false);
      case AtaCmd.WRITE_MULTIPLE_EXT:
        return this.startSectors(cmd, true, true, this.multiple, false);
      case AtaCmd.READ_DMA:
      case AtaCmd.READ_DMA_NORETRY:
        return this.startSectors(cmd, false, false, 1, true);
      case AtaCmd.READ_DMA_EXT:
        return this.startSectors(cmd, true, false, 1, true);
      case AtaCmd.WRITE_DMA:
      case AtaCmd.WRITE_DMA_NORETRY:
        return this.startSectors(cmd, false, true, 1, true);
      case AtaCmd.WRITE_DMA_EXT:
        return this.startSectors(cmd, true, true, 1, true);
      case AtaCmd.READ_VERIFY_SECTORS:
      case AtaCmd.READ_VERIFY_SECTORS_NORETRY:
        return this.verify(false);
      case AtaCmd.READ_VERIFY_SECTORS_EXT:
        return this.verify(true);
      case AtaCmd.IDENTIFY_DEVICE:
        this.power = 'active';
        return this.startBlock(this.identify(), true, true);
      case AtaCmd.SET_MULTIPLE_MODE:
        return this.setMultipleMode();
      case AtaCmd.SET_FEATURES:
        return this.setFeatures();
      case AtaCmd.INITIALIZE_DEVICE_PARAMETERS:
        return this.initializeDeviceParameters();
      case AtaCmd.FLUSH_CACHE:
      case AtaCmd.FLUSH_CACHE_EXT:
        if (cmd === AtaCmd.FLUSH_CACHE_EXT && !this.lba48) return this.fail();
        return this.flushCache(cmd === AtaCmd.FLUSH_CACHE_EXT);
      case AtaCmd.IDLE:
      case AtaCmd.IDLE_IMMEDIATE:
        this.power = 'idle';
        return this.finish();
      case AtaCmd.STANDBY:
      case AtaCmd.STANDBY_IMMEDIATE:
      case AtaCmd.SLEEP: // modelled as STANDBY: the next command wakes the drive
        this.power = 'standby';
        return this.finish();
      case AtaCmd.CHECK_POWER_MODE:
        this.tf.count = this.power === 'standby' ? PowerMode.STANDBY : PowerMode.ACTIVE_OR_IDLE;
        return this.finish();
      default:
        // NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE and anything unknown (ATA-6 8.x: ABRT).
        return this.fail(ErrorBit.ABRT);
    }
  }

  /** Decode the address of the current command; null when CHS fields are out of range. */
  private target(ext: boolean): { lba: number; count: number; addr: AddrMode } | null {
    if (ext) return { lba: this.tf.lba48(), count: this.tf.count48(), addr: 'lba48' };
    const count = this.tf.count28();
    if (this.tf.isLba) return { lba: this.tf.lba28(), count, addr: 'lba28' };
    const { cylinder, head, sector } = this.tf;
    if (sector === 0 || sector > this.sectorsPerTrack || head >= this.heads) return null;
    return { lba: (cylinder * this.heads + head) * this.sectorsPerTrack + sector - 1, count, addr: 'chs' };
  }

  /** Write the address of `lba` back into the registers in the command's addressing mode. */
  private setAddress(lba: number, addr: AddrMode): void {
    if (addr === 'lba48') this.tf.setLba48(lba);
    else if (addr === 'lba28') this.tf.setLba28(lba);
    else {
      const { cylinder, head, sector } = this.chsOf(lba);
      this.tf.setChs(cylinder, head, sector);
    }
  }

  /** Where `lba` lies in this drive's CHS geometry. */
  private chsOf(lba: number): { cylinder: number; head: number; sector: number } {
    const track = Math.floor(lba / this.sectorsPerTrack);
    return { cylinder: Math.floor(track / this.heads), head: track % this.heads, sector: (lba % this.sectorsPerTrack) + 1 };
  }

  /** IDNF with the first bad address in the registers (ATA-6 8.27 error outputs). */
  private idnf(lba: number | null, addr: AddrMode): void {
    if (lba !== null && addr !== 'chs') this.setAddress(Math.min(lba, addr === 'lba28' ? 0x0fffffff : lba), addr);
    this.fail(ErrorBit.IDNF);
  }

  private startSectors(cmd: number, ext: boolean, write: boolean, block: number, dma: boolean): void {
    if (ext && !this.lba48) return this.fail();
    if (block === 0) return this.fail(); // READ/WRITE MULTIPLE before SET MULTIPLE MODE
    const t = this.target(ext);
    if (!t) return this.idnf(null, 'chs');
    if (t.lba + t.count > this.capacity) return this.idnf(Math.max(t.lba, this.capacity), t.addr);
    if (write && this.disk.readOnly) return this.fail(ErrorBit.ABRT);
    this.power = 'active';
    this.xfer = { write, lba: t.lba, remaining: t.count, block, addr: t.addr };
    this.readCache = null;
    if (dma) {
      this.dmaRequest = { toMemory: !write, byteLength: t.count * SECTOR_SIZE };
      if (t.addr !== 'chs') {
        const count = ext ? (this.tf.hobCount << 8) | this.tf.count : this.tf.count;
        this.dmaIssued = { command: cmd, toMemory: !write, ext, count, device: this.tf.device & 0xff, lba: t.lba, sectors: t.count };
      }
      this.status = Status.DRDY | Status.DSC | Status.DRQ;
      return;
    }
    if (t.addr === 'lba28' && PREDICTABLE_COMMANDS.has(cmd)) {
      this.issued = { command: cmd, write, count: this.tf.count & 0xff, device: this.tf.device & 0xff, lba: t.lba, sectors: t.count };
    }
    this.nextBlock(!write);
  }

  /**
   * The commands a sequential PIO transfer issues after the one running, while its whole data
   * phase is what the vCPU was offered (IdeDevice.pioAhead), or after it once it completed
   * without error: see predictSequential. A driver reads Status between selecting the drive and
   * issuing the next command (SeaBIOS waits for BSY clear there); that read's reply replaces
   * what the vCPU held, so it must predict again, or every command of a sequential run (syslinux
   * loading a kernel: 127 sectors each) cost two round trips that carried the whole prediction.
   */
  override commandsAhead(maxBytes: number): PredictedCommand[] {
    const i = this.issued;
    const x = this.xfer;
    // Only for the command as issued (not one a snapshot restored halfway) and whose data phase ends the command.
    const running = x !== null && i !== null && x.write === i.write && x.lba + x.remaining === i.lba + i.sectors;
    const completed = x === null && (this.status & (Status.BSY | Status.DRQ | Status.ERR)) === 0 && this.pendingWrite === null;
    if (!i || !(running || completed)) return [];
    const next = predictSequential(i, this.disk, maxBytes, this.writeCache);
    this.predictedReads = next.flatMap((c) => (c.phase.kind === 'read' ? [{ lba: c.lba, data: c.phase.data }] : []));
    return next;
  }

  /** Load the next DRQ block. Read blocks interrupt; the first write block does not. */
  private nextBlock(interrupt: boolean): void {
    const x = this.xfer!;
    const n = Math.min(x.block, x.remaining);
    if (x.write) return this.startBlock(this.writeBlock(n * SECTOR_SIZE), false, interrupt);
    let data: Uint8Array;
    try {
      data = this.cachedRead(x.lba, n) ?? this.disk.read(x.lba, n);
    } catch {
      this.counters.mediaErrors++;
      this.setAddress(x.lba, x.addr);
      this.xfer = null;
      return this.fail(ErrorBit.UNC);
    }
    this.startBlock(data, true, interrupt);
  }

  protected blockDone(): void {
    const x = this.xfer;
    if (!x) return this.finish(false); // IDENTIFY data read out: no further interrupt
    const n = Math.min(x.block, x.remaining);
    if (x.write) {
      this.readCache = null;
      this.predictedReads = [];
      // Each write block is a fresh buffer (nextBlock), so holding it until the write is safe.
      const p = (this.pendingWrite ??= { lba: x.lba, blocks: [], bytes: 0 });
      p.blocks.push(this.buffer.subarray(0, n * SECTOR_SIZE));
      p.bytes += n * SECTOR_SIZE;
      if (x.remaining === n || p.bytes >= PENDING_WRITE_BYTES) {
        const failedAt = this.writeOut();
        if (failedAt !== null) {
          this.counters.mediaErrors++;
          if (this.writeCache) {
            // Cached: the command completes as the guest may already have seen; FLUSH CACHE reports it.
            this.deferredWriteError ??= failedAt;
          } else {
            this.setAddress(failedAt, x.addr);
            this.xfer = null;
            return this.fail(ErrorBit.ABRT);
          }
        }
      }
    }
    this.setAddress(x.lba + n - 1, x.addr);
    x.lba += n;
    x.remaining -= n;
    if (x.remaining > 0) return this.nextBlock(true);
    this.xfer = null;
    // Read: the last block's interrupt has already been given. Write: interrupt now.
    this.finish(x.write);
  }

  protected override dataAfterBlock(maxBytes: number): { data: Uint8Array; complete: boolean; statusAfter: number; deviceAfter?: number } | null {
    const x = this.xfer;
    // IDENTIFY and other single blocks: reading it out ends the command (blockDone -> finish).
    if (!x) return { data: new Uint8Array(0), complete: true, statusAfter: Status.DRDY | Status.DSC, deviceAfter: this.tf.device };
    if (x.write) return null;
    const after = x.remaining - Math.min(x.block, x.remaining);
    // Whole DRQ blocks only, so the offer ends where a block (and its interrupt) does.
    const blockBytes = x.block * SECTOR_SIZE;
    const sectors = Math.min(after, Math.floor(maxBytes / blockBytes) * x.block);
    let data: Uint8Array;
    try {
      const first = x.lba + Math.min(x.block, x.remaining);
      data = sectors > 0 ? (this.cachedRead(first, sectors) ?? this.disk.read(first, sectors)) : new Uint8Array(0);
      if (sectors > 0) this.readCache = { lba: first, data };
    } catch {
      return null; // a media error: the device reports it when the guest gets there
    }
    const complete = sectors === after;
    return { data, complete, statusAfter: Status.DRDY | Status.DSC, deviceAfter: complete ? this.deviceAt(x.lba + x.remaining - 1, x.addr) : undefined };
  }

  /** The Device register once setAddress(lba, addr) has run (the command's last sector): LBA48 leaves it alone. */
  private deviceAt(lba: number, addr: AddrMode): number {
    if (addr === 'lba48') return this.tf.device;
    return deviceWithHead(this.tf.device, addr === 'lba28' ? lba >>> 24 : this.chsOf(lba).head);
  }

  /** `count` sectors from the read-ahead cache when it holds them all (a view: data-in blocks are only read). */
  private cachedRead(lba: number, count: number): Uint8Array | null {
    for (const c of this.readCache ? [this.readCache, ...this.predictedReads] : this.predictedReads) {
      if (lba < c.lba || (lba + count - c.lba) * SECTOR_SIZE > c.data.length) continue;
      const from = (lba - c.lba) * SECTOR_SIZE;
      return c.data.subarray(from, from + count * SECTOR_SIZE);
    }
    return null;
  }

  protected override bytesAfterBlock(): number {
    const x = this.xfer;
    return x?.write ? (x.remaining - Math.min(x.block, x.remaining)) * SECTOR_SIZE : 0;
  }

  /**
   * With the volatile write cache on, a PIO write completes once its data is in (ATA-6 allows
   * completion before the medium has it; a failed write is reported by FLUSH CACHE): a vCPU
   * may then answer the Status after the last block itself, one round trip per command.
   */
  protected override statusAfterDataOut(): number | null {
    return this.xfer?.write && this.writeCache ? Status.DRDY | Status.DSC : null;
  }

  /** Writes the pending blocks (and syncs when the write cache is off); the LBA where that failed, or null. */
  /**
   * A fresh region for the next data-out block: consecutive regions of one buffer sized for
   * the command (up to PENDING_WRITE_BYTES), not a buffer per block, so the blocks held for
   * writeOut are mostly one piece. A region is never handed out twice.
   */
  private writeBlock(bytes: number): Uint8Array {
    let a = this.writeArea;
    if (!a || a.used + bytes > a.buf.length) {
      const want = Math.min((this.xfer?.remaining ?? 0) * SECTOR_SIZE, PENDING_WRITE_BYTES);
      a = this.writeArea = { buf: new Uint8Array(Math.max(bytes, want)), used: 0 };
    }
    const block = a.buf.subarray(a.used, a.used + bytes);
    a.used += bytes;
    return block;
  }

  private writeOut(): number | null {
    const p = this.pendingWrite;
    if (!p) return null;
    this.pendingWrite = null;
    try {
      this.disk.write(p.lba, joinAdjacent(p.blocks));
      if (!this.writeCache) this.disk.flush(); // no volatile cache: durable on completion
      return null;
    } catch {
      return p.lba;
    }
  }

  /** writeOut() where no command can report a failure: counted, and reported by the next FLUSH CACHE. */
  private writeOutQuietly(): void {
    const failedAt = this.writeOut();
    if (failedAt === null) return;
    this.counters.mediaErrors++;
    this.deferredWriteError ??= failedAt;
  }

  dmaRead(): Uint8Array {
    const x = this.xfer!;
    return this.disk.read(x.lba, x.remaining);
  }

  dmaWrite(parts: readonly Uint8Array[], posted = false): void {
    const x = this.xfer!;
    this.readCache = null;
    this.predictedReads = [];
    // The command's sectors: the regions' bytes up to remaining * 512, written as they are.
    let left = x.remaining * SECTOR_SIZE;
    const take: Uint8Array[] = [];
    for (const p of parts) {
      if (left <= 0) break;
      take.push(p.byteLength <= left ? p : p.subarray(0, left));
      left -= Math.min(left, p.byteLength);
    }
    if (!posted) {
      this.disk.write(x.lba, take);
      if (!this.writeCache) this.disk.flush();
      return;
    }
    try {
      this.disk.write(x.lba, take);
    } catch {
      // Completed from the cache as far as the guest knows: FLUSH CACHE reports it (ATA-6 8.14).
      this.counters.mediaErrors++;
      this.deferredWriteError ??= x.lba;
    }
  }

  /**
   * After a READ/WRITE DMA (EXT) that completed: the commands a sequential transfer issues
   * next (predictDma), offered once with a read's reply; `more` (proto DmaMore): asked for again,
   * after `skip` of them, any number of times until the next command. Writes only with the
   * volatile write cache on.
   */
  override dmaAhead(maxBytes: number, skip = 0, firstBytes = 0, more = false): { commands: DmaCommandAhead[]; data: Uint8Array } | null {
    const done = this.dmaDoneLast;
    if (!done || (this.dmaOffered && !more) || this.xfer || this.dmaRequest || this.status !== (Status.DRDY | Status.DSC)) return null;
    this.dmaOffered = true;
    return predictDma(done, this.disk, maxBytes, this.writeCache, skip, firstBytes);
  }

  dmaDone(ok: boolean): void {
    const x = this.xfer;
    this.xfer = null;
    const issued = this.dmaIssued;
    this.dmaIssued = null;
    if (!x) return this.fail();
    if (!ok) {
      this.counters.dmaErrors++;
      this.setAddress(x.lba, x.addr);
      return this.fail(ErrorBit.ABRT);
    }
    this.setAddress(x.lba + x.remaining - 1, x.addr);
    this.finish();
    if (issued && issued.lba === x.lba && issued.sectors === x.remaining) this.dmaDoneLast = issued;
    this.dmaOffered = false;
  }

  flushMedia(): void {
    this.writeOutQuietly();
    if (!this.disk.readOnly) this.disk.flush();
  }

  closeMedia(): void {
    this.writeOutQuietly();
    this.disk.close();
  }

  private verify(ext: boolean): void {
    if (ext && !this.lba48) return this.fail();
    const t = this.target(ext);
    if (!t) return this.idnf(null, 'chs');
    if (t.lba + t.count > this.capacity) return this.idnf(Math.max(t.lba, this.capacity), t.addr);
    this.power = 'active';
    this.setAddress(t.lba + t.count - 1, t.addr);
    this.finish();
  }

  private recalibrate(): void {
    if (!this.tf.isLba) this.tf.setChs(0, this.tf.head, this.tf.sector);
    this.finish();
  }

  private seek(): void {
    const t = this.target(false);
    if (!t || t.lba >= this.capacity) return this.idnf(t ? t.lba : null, t ? t.addr : 'chs');
    this.finish();
  }

  private setMultipleMode(): void {
    const n = this.tf.count;
    // 0 disables multiple mode; otherwise a power of two up to word 47 (ATA-6 8.39).
    if (n > MAX_MULTIPLE_SECTORS || (n & (n - 1)) !== 0) return this.fail();
    this.multiple = n;
    this.finish();
  }

  private setFeatures(): void {
    switch (this.tf.features) {
      case SetFeature.ENABLE_WRITE_CACHE:
        this.writeCache = true;
        break;
      case SetFeature.DISABLE_WRITE_CACHE:
        this.writeCache = false;
        try {
          this.disk.flush();
        } catch {
          this.counters.mediaErrors++;
        }
        break;
      case SetFeature.ENABLE_READ_LOOKAHEAD:
        this.lookAhead = true;
        break;
      case SetFeature.DISABLE_READ_LOOKAHEAD:
        this.lookAhead = false;
        break;
      case SetFeature.ENABLE_REVERTING_TO_DEFAULTS:
      case SetFeature.DISABLE_REVERTING_TO_DEFAULTS:
        break;
      case SetFeature.SET_TRANSFER_MODE: {
        const mode = this.tf.count;
        if (!isValidTransferMode(mode, 4, 2, 5)) return this.fail();
        this.transferMode = mode;
        break;
      }
      default:
        return this.fail();
    }
    this.finish();
  }

  private initializeDeviceParameters(): void {
    const sectors = this.tf.count;
    const heads = this.tf.head + 1;
    if (sectors === 0) return this.fail();
    this.sectorsPerTrack = sectors;
    this.heads = heads;
    this.finish();
  }

  private flushCache(ext: boolean): void {
    let failed = false;
    try {
      this.disk.flush();
    } catch {
      this.counters.mediaErrors++;
      failed = true;
    }
    const lost = this.deferredWriteError;
    this.deferredWriteError = null;
    // A write completed from the cache that did not reach the medium: the first sector of it (ATA-6 8.14 outputs).
    if (lost !== null) this.setAddress(lost, ext ? 'lba48' : 'lba28');
    if (failed || lost !== null) return this.fail(ErrorBit.ABRT);
    this.finish();
  }

  /** IDENTIFY DEVICE data (ATA-6 8.15, table 11). */
  identify(): Uint8Array {
    return ataIdentifyData(this);
  }

  saveState(): Record<string, unknown> {
    this.writeOutQuietly(); // blocks the guest wrote belong to the image, not to the snapshot
    return {
      kind: this.kind,
      ...this.saveCommon(),
      transfer: this.xfer ? { ...this.xfer } : null,
      heads: this.heads,
      sectorsPerTrack: this.sectorsPerTrack,
      multiple: this.multiple,
      writeCache: this.writeCache,
      lookAhead: this.lookAhead,
      power: this.power,
      transferMode: this.transferMode,
      deferredWriteError: this.deferredWriteError,
    };
  }

  checkState(v: Json, where: string): AtaDiskChecked {
    const o = obj(v, where);
    str(o.kind, `${where}.kind`, ['ata']);
    let transfer: SectorTransfer | null = null;
    if (o.transfer !== null) {
      const t = obj(o.transfer, `${where}.transfer`);
      const lba = num(t.lba, `${where}.transfer.lba`, 0, this.capacity);
      transfer = {
        write: bool(t.write, `${where}.transfer.write`),
        lba,
        remaining: num(t.remaining, `${where}.transfer.remaining`, 1, this.capacity - lba),
        block: num(t.block, `${where}.transfer.block`, 1, MAX_MULTIPLE_SECTORS),
        addr: str(t.addr, `${where}.transfer.addr`, ADDR_MODES),
      };
    }
    return {
      common: IdeDevice.checkCommon(o, where),
      transfer,
      heads: num(o.heads, `${where}.heads`, 1, 16),
      sectorsPerTrack: num(o.sectorsPerTrack, `${where}.sectorsPerTrack`, 1, 255),
      multiple: num(o.multiple, `${where}.multiple`, 0, MAX_MULTIPLE_SECTORS),
      writeCache: bool(o.writeCache, `${where}.writeCache`),
      lookAhead: bool(o.lookAhead, `${where}.lookAhead`),
      power: str(o.power, `${where}.power`, POWER_MODES),
      transferMode: num(o.transferMode, `${where}.transferMode`, 0, 0xff),
      // Absent in states saved before it existed: nothing to report.
      deferredWriteError: o.deferredWriteError === undefined || o.deferredWriteError === null ? null : num(o.deferredWriteError, `${where}.deferredWriteError`, 0, this.capacity - 1),
    };
  }

  restoreState(checked: unknown): void {
    const c = checked as AtaDiskChecked;
    this.writeOutQuietly();
    this.restoreCommon(c.common);
    this.xfer = c.transfer ? { ...c.transfer } : null;
    this.readCache = null;
    this.predictedReads = [];
    this.dmaIssued = this.dmaDoneLast = null;
    this.issued = null;
    this.heads = c.heads;
    this.sectorsPerTrack = c.sectorsPerTrack;
    this.multiple = c.multiple;
    this.writeCache = c.writeCache;
    this.lookAhead = c.lookAhead;
    this.power = c.power;
    this.transferMode = c.transferMode;
    this.deferredWriteError = c.deferredWriteError;
  }
}

interface AtaDiskChecked {
  common: IdeDeviceCommonState;
  transfer: SectorTransfer | null;
  heads: number;
  sectorsPerTrack: number;
  multiple: number;
  writeCache: boolean;
  lookAhead: boolean;
  power: Power;
  transferMode: number;
  deferredWriteError: number | null;
}

/** Blocks that follow each other in one buffer as one view: what writeOut hands the disk. */
function joinAdjacent(blocks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of blocks) {
    const last = out[out.length - 1];
    if (last && last.buffer === b.buffer && last.byteOffset + last.byteLength === b.byteOffset) out[out.length - 1] = new Uint8Array(b.buffer, last.byteOffset, last.byteLength + b.byteLength);
    else out.push(b);
  }
  return out;
}

/** Most bytes of a PIO write command held before they go to the image (see AtaDisk.pendingWrite). */
const PENDING_WRITE_BYTES = 256 * 1024;

/** SET FEATURES 03h values (ATA-6 8.37.10 table 46): PIO default, PIO n, MWDMA n, UDMA n. */
export function isValidTransferMode(mode: number, maxPio: number, maxMwdma: number, maxUdma: number): boolean {
  const n = mode & 7;
  switch (mode & 0xf8) {
    case 0x00:
      return mode <= 1;
    case 0x08:
      return n <= maxPio;
    case 0x20:
      return n <= maxMwdma;
    case 0x40:
      return n <= maxUdma;
    default:
      return false;
  }
}

/** The usual default translation: 16 heads, 63 sectors per track, at most 16383 cylinders. */
export function defaultGeometry(sectors: number): { cylinders: number; heads: number; sectors: number } {
  let heads = 16;
  let spt = 63;
  if (sectors < heads * spt) {
    heads = Math.max(1, Math.floor(sectors / spt));
    if (sectors < spt) spt = Math.max(1, sectors);
  }
  const cylinders = Math.max(1, Math.min(16383, Math.floor(sectors / (heads * spt))));
  return { cylinders, heads, sectors: spt };
}
