import { CS, DS, ES, FS, GS, SS, type OperandSize } from '../registers.js';

/** Segment override prefixes by byte, for the decoders (FS/GS exist from the 386 on). */
export const SEGMENT_PREFIXES: Readonly<Record<number, number>> = { 0x26: ES, 0x2e: CS, 0x36: SS, 0x3e: DS, 0x64: FS, 0x65: GS };

/** Reads instruction bytes from RAM within one page; reading past its end marks an overrun (the instruction then goes to the interpreter). */
export class CodeBytes {
  overrun = false;
  constructor(
    private readonly ram: Uint8Array,
    public position: number,
    private readonly end: number,
  ) {}

  next8(): number {
    if (this.position >= this.end) {
      this.overrun = true;
      return 0;
    }
    return this.ram[this.position++];
  }

  next16(): number {
    const low = this.next8();
    return low | (this.next8() << 8);
  }

  next32(): number {
    const low = this.next16();
    return (low | (this.next16() << 16)) >>> 0;
  }

  immediate(size: OperandSize): number {
    return size === 1 ? this.next8() : size === 2 ? this.next16() : this.next32();
  }

  /** A sign-extended byte. */
  displacement8(): number {
    return (this.next8() << 24) >> 24;
  }
}
