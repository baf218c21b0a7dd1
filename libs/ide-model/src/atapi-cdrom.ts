import { DeviceStateError } from '@quasivm/device-sdk';
import { AtaCmd, ErrorBit, InterruptReason, PowerMode, SECTOR_SIZE, SetFeature, SIGNATURE_ATAPI, Status } from './ata-registers.js';
import { isValidTransferMode } from './ata-disk.js';
import type { IdeCounters } from './counters.js';
import { IdeDevice, type IdeDeviceCommonState } from './ide-device.js';
import { IdentifyData } from './identify.js';
import {
  Asc, be16, be32, CD_BLOCK_SIZE, eventStatusData, getConfigurationData, inquiryData, modeSenseData, NO_SENSE,
  readCapacityData, readTocData, ScsiOp, senseData, SenseKey, type Sense,
} from './mmc-commands.js';
import { bool, bytes, num, obj, str, toBase64, type Json } from './state-check.js';
import type { BlockDevice } from './storage/block-device.js';

export interface AtapiCdromOptions {
  serial?: string;
  model?: string;
}

const PACKET_SIZE = 12;
/** Features register bit 0 of PACKET: data moves by DMA (ATA-6 8.21). */
const PACKET_DMA = 0x01;
/** Byte count limit used when the host gives 0 (even, below 64 KiB). */
const DEFAULT_BYTE_COUNT = 0xfffe;

/** Data the current packet command returns: reply bytes, or a stretch of the disc. */
interface DataPhase {
  /** Small replies (INQUIRY, TOC...) as base64, or null for disc data. */
  reply: string | null;
  /** Byte offset on the disc where disc data starts. */
  discStart: number;
  total: number;
  done: number;
  /** Byte count limit from LBA Mid/High when the PACKET command was issued. */
  limit: number;
  /** Size of the DRQ block now in the buffer. */
  chunk: number;
}

/**
 * An ATAPI CD-ROM drive (ATA-6 PACKET feature set, SFF-8020i) reading a 2048-byte
 * sector ISO image through a 512-byte-sector BlockDevice.
 */
export class AtapiCdrom extends IdeDevice {
  readonly kind = 'atapi' as const;
  readonly serial: string;
  readonly model: string;
  mediumLoaded: boolean;
  locked = false;
  /** A medium was loaded: the next media command reports UNIT ATTENTION 28h (MMC-2 4.1.6). */
  unitAttention = false;
  sense: Sense = { ...NO_SENSE };
  transferMode = 0;
  /** 'packet' while the 12 command bytes are awaited; a DataPhase while data moves. */
  private phase: 'packet' | DataPhase | null = null;
  private dmaPacket = false;

  constructor(readonly image: BlockDevice | null, counters: IdeCounters, options: AtapiCdromOptions = {}) {
    super(counters);
    this.serial = options.serial ?? 'QVMCD000000000000001';
    this.model = options.model ?? 'QUASIVM DVD-ROM';
    this.mediumLoaded = image !== null;
    this.reset();
  }

  /** Capacity in 2048-byte blocks (0 without a medium). */
  get blocks(): number {
    return this.image && this.mediumLoaded ? Math.floor(this.image.sectorCount / (CD_BLOCK_SIZE / SECTOR_SIZE)) : 0;
  }

  reset(): void {
    this.tf.count = SIGNATURE_ATAPI.count;
    this.tf.lbaLow = SIGNATURE_ATAPI.lbaLow;
    this.tf.lbaMid = SIGNATURE_ATAPI.lbaMid;
    this.tf.lbaHigh = SIGNATURE_ATAPI.lbaHigh;
    this.tf.device = 0;
    this.error = 0x01;
    this.status = 0x00; // PACKET devices clear DRDY after reset (ATA-6 9.12)
    this.buffer = new Uint8Array(0);
    this.bufPos = 0;
    this.phase = null;
    this.dmaRequest = null;
  }

  private putSignature(): void {
    this.tf.count = SIGNATURE_ATAPI.count;
    this.tf.lbaLow = SIGNATURE_ATAPI.lbaLow;
    this.tf.lbaMid = SIGNATURE_ATAPI.lbaMid;
    this.tf.lbaHigh = SIGNATURE_ATAPI.lbaHigh;
  }

  command(cmd: number): void {
    this.intPending = false;
    this.phase = null;
    this.dmaRequest = null;
    this.error = 0;
    switch (cmd) {
      case AtaCmd.PACKET:
        this.dmaPacket = (this.tf.features & PACKET_DMA) !== 0;
        this.phase = 'packet';
        this.startBlock(new Uint8Array(PACKET_SIZE), false, false);
        this.tf.count = InterruptReason.CoD;
        return;
      case AtaCmd.IDENTIFY_PACKET_DEVICE:
        return this.startBlock(this.identify(), true, true);
      case AtaCmd.DEVICE_RESET:
        this.reset();
        return;
      case AtaCmd.CHECK_POWER_MODE:
        this.tf.count = PowerMode.ACTIVE_OR_IDLE;
        return this.finish();
      case AtaCmd.IDLE_IMMEDIATE:
      case AtaCmd.STANDBY_IMMEDIATE:
        return this.finish();
      case AtaCmd.SET_FEATURES:
        if (this.tf.features === SetFeature.SET_TRANSFER_MODE && isValidTransferMode(this.tf.count, 4, 2, 5)) {
          this.transferMode = this.tf.count;
          return this.finish();
        }
        return this.fail();
      case AtaCmd.IDENTIFY_DEVICE:
      case AtaCmd.READ_SECTORS:
      case AtaCmd.READ_SECTORS_NORETRY:
        // A PACKET device aborts these and leaves its signature (ATA-6 8.15.1, 9.12).
        this.fail();
        this.putSignature();
        return;
      default:
        return this.fail();
    }
  }

  protected blockDone(): void {
    const p = this.phase;
    if (p === null) return this.finish(false); // IDENTIFY PACKET DEVICE read out
    if (p === 'packet') return this.executePacket(this.buffer.slice(0, PACKET_SIZE));
    p.done += p.chunk;
    if (p.done < p.total) return this.nextChunk(p);
    this.complete();
  }

  /** Command completion: I/O and C/D set, DRQ clear, INTRQ (ATA-6 9.10, table 18). */
  private complete(): void {
    this.phase = null;
    this.finish();
    this.tf.count = InterruptReason.IO | InterruptReason.CoD;
  }

  /** CHECK CONDITION: sense kept for REQUEST SENSE, sense key in Error bits 7:4. */
  private checkCondition(key: SenseKey, asc: number, ascq = 0): void {
    this.phase = null;
    this.sense = { key, asc, ascq };
    this.fail((key << 4) | (key === SenseKey.ILLEGAL_REQUEST ? ErrorBit.ABRT : 0));
    this.tf.count = InterruptReason.IO | InterruptReason.CoD;
  }

  private sendReply(data: Uint8Array, allocation: number): void {
    this.startData({ reply: toBase64(data.subarray(0, Math.min(data.length, allocation))), discStart: 0 });
  }

  private startData(src: { reply: string | null; discStart: number; total?: number }): void {
    const total = src.total ?? Buffer.from(src.reply ?? '', 'base64').length;
    if (total === 0) return this.complete();
    const p: DataPhase = { reply: src.reply, discStart: src.discStart, total, done: 0, limit: this.tf.lbaMid | (this.tf.lbaHigh << 8), chunk: 0 };
    this.phase = p;
    if (this.dmaPacket) {
      this.dmaRequest = { toMemory: true, byteLength: total };
      this.tf.count = InterruptReason.IO;
      this.status = Status.DRDY | Status.DSC | Status.DRQ;
      return;
    }
    this.nextChunk(p);
  }

  /** One PIO DRQ block, at most the byte count limit (ATA-6 9.10 "PACKET PIO data-in"). */
  private nextChunk(p: DataPhase): void {
    const remaining = p.total - p.done;
    let limit = p.limit === 0 ? DEFAULT_BYTE_COUNT : p.limit;
    if (remaining > limit && limit & 1) limit -= 1;
    const chunk = Math.min(remaining, limit);
    let data: Uint8Array;
    try {
      data = this.dataBytes(p, p.done, chunk);
    } catch {
      this.counters.mediaErrors++;
      return this.checkCondition(SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    }
    p.chunk = chunk;
    const buf = new Uint8Array(chunk + (chunk & 1));
    buf.set(data);
    this.tf.lbaMid = chunk & 0xff;
    this.tf.lbaHigh = (chunk >>> 8) & 0xff;
    this.startBlock(buf, true, true);
    this.tf.count = InterruptReason.IO;
  }

  private dataBytes(p: DataPhase, offset: number, length: number): Uint8Array {
    if (p.reply !== null) return new Uint8Array(Buffer.from(p.reply, 'base64')).subarray(offset, offset + length);
    if (!this.image) throw new Error('no medium');
    const start = p.discStart + offset;
    const first = Math.floor(start / SECTOR_SIZE);
    const last = Math.ceil((start + length) / SECTOR_SIZE);
    const raw = this.image.read(first, last - first);
    return raw.subarray(start - first * SECTOR_SIZE, start - first * SECTOR_SIZE + length);
  }

  dmaRead(): Uint8Array {
    const p = this.phase as DataPhase;
    return this.dataBytes(p, 0, p.total);
  }

  dmaWrite(): void {
    throw new Error('the CD-ROM has no data-out commands');
  }

  dmaDone(ok: boolean): void {
    if (!ok || typeof this.phase !== 'object' || this.phase === null) {
      this.counters.dmaErrors++;
      return this.checkCondition(SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    }
    this.complete();
  }

  flushMedia(): void {}

  closeMedia(): void {
    this.image?.close();
  }

  private executePacket(cdb: Uint8Array): void {
    const op = cdb[0];
    const needsMedium = [ScsiOp.READ_10, ScsiOp.READ_12, ScsiOp.READ_CAPACITY, ScsiOp.READ_TOC, ScsiOp.TEST_UNIT_READY, ScsiOp.SEEK_10];
    if (needsMedium.includes(op) && this.blocks === 0) return this.checkCondition(SenseKey.NOT_READY, Asc.MEDIUM_NOT_PRESENT);
    const reportsUnitAttention = ![ScsiOp.INQUIRY, ScsiOp.REQUEST_SENSE, ScsiOp.GET_CONFIGURATION, ScsiOp.GET_EVENT_STATUS_NOTIFICATION].includes(op);
    if (this.unitAttention && reportsUnitAttention) {
      this.unitAttention = false;
      return this.checkCondition(SenseKey.UNIT_ATTENTION, Asc.MEDIUM_MAY_HAVE_CHANGED);
    }
    if (op !== ScsiOp.REQUEST_SENSE) this.sense = { ...NO_SENSE };
    switch (op) {
      case ScsiOp.TEST_UNIT_READY:
      case ScsiOp.SEEK_10:
      case ScsiOp.SET_CD_SPEED:
        return this.complete();
      case ScsiOp.REQUEST_SENSE: {
        const data = senseData(this.sense);
        this.sense = { ...NO_SENSE };
        return this.sendReply(data, cdb[4]);
      }
      case ScsiOp.INQUIRY:
        return this.sendReply(inquiryData('QUASIVM', this.model.replace(/^QUASIVM /, ''), '0.1'), be16(cdb, 3));
      case ScsiOp.READ_CAPACITY:
        return this.sendReply(readCapacityData(this.blocks), 8);
      case ScsiOp.READ_10:
        return this.read(be32(cdb, 2), be16(cdb, 7));
      case ScsiOp.READ_12:
        return this.read(be32(cdb, 2), be32(cdb, 6));
      case ScsiOp.READ_TOC: {
        let format = cdb[2] & 0x0f;
        if (format === 0 && cdb[9] >> 6) format = cdb[9] >> 6; // SFF-8020i format field
        const data = readTocData(format, (cdb[1] & 0x02) !== 0, cdb[6], this.blocks);
        if (!data) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
        return this.sendReply(data, be16(cdb, 7));
      }
      case ScsiOp.MODE_SENSE_10: {
        if (cdb[2] >> 6 === 3) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.SAVING_PARAMETERS_NOT_SUPPORTED);
        const data = modeSenseData(cdb[2] & 0x3f, this.blocks > 0, this.locked);
        if (!data) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
        return this.sendReply(data, be16(cdb, 7));
      }
      case ScsiOp.GET_CONFIGURATION:
        return this.sendReply(getConfigurationData(cdb[1] & 3, be16(cdb, 2), this.blocks > 0), be16(cdb, 7));
      case ScsiOp.GET_EVENT_STATUS_NOTIFICATION:
        if (!(cdb[1] & 1)) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
        return this.sendReply(eventStatusData(cdb[4], this.blocks > 0), be16(cdb, 7));
      case ScsiOp.START_STOP_UNIT: {
        const loej = (cdb[4] & 0x02) !== 0;
        const start = (cdb[4] & 0x01) !== 0;
        if (loej && !start) {
          if (this.locked) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.MEDIUM_REMOVAL_PREVENTED, 0x02);
          this.mediumLoaded = false;
        } else if (loej && start && !this.mediumLoaded && this.image) {
          this.mediumLoaded = true;
          this.unitAttention = true;
        }
        return this.complete();
      }
      case ScsiOp.PREVENT_ALLOW_MEDIUM_REMOVAL:
        this.locked = (cdb[4] & 0x01) !== 0;
        return this.complete();
      default:
        return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE);
    }
  }

  private read(lba: number, count: number): void {
    if (lba + count > this.blocks) return this.checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    this.startData({ reply: null, discStart: lba * CD_BLOCK_SIZE, total: count * CD_BLOCK_SIZE });
  }

  /** IDENTIFY PACKET DEVICE data (ATA-6 8.16, table 12). */
  identify(): Uint8Array {
    const id = new IdentifyData();
    id.set(0, 0x85c0) // ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets
      .setString(10, 10, this.serial)
      .setString(23, 4, 'QVM 0.1')
      .setString(27, 20, this.model)
      .set(49, 0x0300) // LBA, DMA
      .set(50, 0x4000)
      .set(53, 0x0006)
      .set(63, 0x0007 | ((this.transferMode & 0xf8) === 0x20 ? 0x100 << (this.transferMode & 7) : 0))
      .set(64, 0x0003)
      .set(65, 120)
      .set(66, 120)
      .set(67, 120)
      .set(68, 120)
      .set(80, 0x007e)
      .set(82, 0x4000 | (1 << 9) | (1 << 4)) // DEVICE RESET, PACKET
      .set(83, 0x4000)
      .set(84, 0x4000)
      .set(85, (1 << 9) | (1 << 4))
      .set(87, 0x4000)
      .set(88, 0x003f | ((this.transferMode & 0xf8) === 0x40 ? 0x100 << (this.transferMode & 7) : 0))
      .set(93, 0x4001);
    return id.toBytes(true);
  }

  saveState(): Record<string, unknown> {
    return {
      kind: this.kind,
      ...this.saveCommon(),
      phase: this.phase === null || this.phase === 'packet' ? this.phase : { ...this.phase },
      dmaPacket: this.dmaPacket,
      mediumLoaded: this.mediumLoaded,
      locked: this.locked,
      unitAttention: this.unitAttention,
      sense: { ...this.sense },
      transferMode: this.transferMode,
    };
  }

  checkState(v: Json, where: string): AtapiChecked {
    const o = obj(v, where);
    str(o.kind, `${where}.kind`, ['atapi']);
    let phase: AtapiChecked['phase'] = null;
    if (o.phase === 'packet') phase = 'packet';
    else if (o.phase !== null) {
      const p = obj(o.phase, `${where}.phase`);
      const w = `${where}.phase`;
      const reply = p.reply === null ? null : toBase64(bytes(p.reply, `${w}.reply`, 0x10000));
      const total = num(p.total, `${w}.total`, 0, 0xffffffff * CD_BLOCK_SIZE);
      phase = {
        reply,
        discStart: num(p.discStart, `${w}.discStart`, 0, Math.max(0, this.blocks * CD_BLOCK_SIZE - total)),
        total,
        done: num(p.done, `${w}.done`, 0, total),
        limit: num(p.limit, `${w}.limit`, 0, 0xffff),
        chunk: num(p.chunk, `${w}.chunk`, 0, 0xffff),
      };
    }
    const s = obj(o.sense, `${where}.sense`);
    const mediumLoaded = bool(o.mediumLoaded, `${where}.mediumLoaded`);
    if (mediumLoaded && !this.image) throw new DeviceStateError(`${where}.mediumLoaded: this drive has no image`);
    return {
      common: IdeDevice.checkCommon(o, where),
      phase,
      dmaPacket: bool(o.dmaPacket, `${where}.dmaPacket`),
      mediumLoaded,
      locked: bool(o.locked, `${where}.locked`),
      unitAttention: bool(o.unitAttention, `${where}.unitAttention`),
      sense: { key: num(s.key, `${where}.sense.key`, 0, 15), asc: num(s.asc, `${where}.sense.asc`, 0, 255), ascq: num(s.ascq, `${where}.sense.ascq`, 0, 255) },
      transferMode: num(o.transferMode, `${where}.transferMode`, 0, 0xff),
    };
  }

  restoreState(checked: unknown): void {
    const c = checked as AtapiChecked;
    this.restoreCommon(c.common);
    this.phase = c.phase === null || c.phase === 'packet' ? c.phase : { ...c.phase };
    this.dmaPacket = c.dmaPacket;
    this.mediumLoaded = c.mediumLoaded;
    this.locked = c.locked;
    this.unitAttention = c.unitAttention;
    this.sense = { ...c.sense };
    this.transferMode = c.transferMode;
  }
}

interface AtapiChecked {
  common: IdeDeviceCommonState;
  phase: 'packet' | DataPhase | null;
  dmaPacket: boolean;
  mediumLoaded: boolean;
  locked: boolean;
  unitAttention: boolean;
  sense: Sense;
  transferMode: number;
}

