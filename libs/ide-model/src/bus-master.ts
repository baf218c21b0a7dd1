import { BmCommand, BmStatus } from './ata-registers.js';
import { num, obj, type Json } from './state-check.js';

/**
 * One channel's bus-master IDE registers (SFF-8038i 2.1; PIIX3 datasheet 2.7):
 * offset 0 command, 2 status, 4-7 PRD table address. Offsets 1 and 3 are reserved.
 * Accesses are decoded per byte so any width inside the 8-byte block works.
 */
export class BusMasterChannel {
  command = 0;
  status = 0;
  prdAddress = 0;

  get started(): boolean {
    return (this.command & BmCommand.START) !== 0;
  }

  readByte(offset: number): number {
    switch (offset) {
      case 0:
        return this.command;
      case 2:
        return this.status;
      case 4:
      case 5:
      case 6:
      case 7:
        return (this.prdAddress >>> (8 * (offset - 4))) & 0xff;
      default:
        return 0;
    }
  }

  /** Returns 'start' or 'stop' when the START bit changed, so the channel can act. */
  writeByte(offset: number, v: number): 'start' | 'stop' | null {
    switch (offset) {
      case 0: {
        const was = this.started;
        this.command = v & (BmCommand.START | BmCommand.READ);
        if (!was && this.started) {
          this.status |= BmStatus.ACTIVE;
          return 'start';
        }
        if (was && !this.started) {
          this.status &= ~BmStatus.ACTIVE;
          return 'stop';
        }
        return null;
      }
      case 2: {
        const rw = BmStatus.DRIVE0_DMA_CAPABLE | BmStatus.DRIVE1_DMA_CAPABLE;
        // ERROR and INTERRUPT are write-one-to-clear; ACTIVE and SIMPLEX are read-only.
        let s = (this.status & ~rw) | (v & rw);
        s &= ~(v & (BmStatus.ERROR | BmStatus.INTERRUPT));
        this.status = s;
        return null;
      }
      case 4:
      case 5:
      case 6:
      case 7: {
        const shift = 8 * (offset - 4);
        const mask = offset === 4 ? 0xfc : 0xff; // the table is dword aligned
        this.prdAddress = ((this.prdAddress & ~(0xff << shift)) | ((v & mask) << shift)) >>> 0;
        return null;
      }
      default:
        return null;
    }
  }

  save(): BusMasterState {
    return { command: this.command, status: this.status, prdAddress: this.prdAddress };
  }

  static check(v: Json, where: string): BusMasterState {
    const o = obj(v, where);
    return {
      command: num(o.command, `${where}.command`, 0, 0xff),
      status: num(o.status, `${where}.status`, 0, 0xff),
      prdAddress: num(o.prdAddress, `${where}.prdAddress`, 0, 0xffffffff),
    };
  }

  restore(s: BusMasterState): void {
    this.command = s.command;
    this.status = s.status;
    this.prdAddress = s.prdAddress;
  }
}

export interface BusMasterState {
  command: number;
  status: number;
  prdAddress: number;
}
