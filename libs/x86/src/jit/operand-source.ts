import { CS, DS, EBP, ESP, NO_SEGMENT, SS, type OperandSize } from '../registers.js';

/** Reads instruction bytes inside one page; reading past its end marks an overrun. */
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

/** A memory operand: its segment (prefix applied) and its offset as a JS expression (already wrapped to the address size). */
export interface MemorySource {
  seg: number;
  offset: string;
}

/** A decoded ModRM byte: the reg field and either a register (`rm`) or a memory operand. */
export interface ModrmSource {
  reg: number;
  rm: number;
  mem: MemorySource | undefined;
}

/** Register operand as an expression: r (Uint32Array), r16 (Uint16Array), r8 (Uint8Array) share storage. */
export function registerSource(size: OperandSize, n: number): string {
  if (size === 4) return `r[${n}]`;
  if (size === 2) return `r16[${n << 1}]`;
  return `r8[${n < 4 ? n << 2 : ((n - 4) << 2) + 1}]`;
}

/** ModRM with 16- or 32-bit addressing (Intel SDM vol. 2, tables 2-1 to 2-3). */
export function decodeModrmSource(bytes: CodeBytes, addrSize: OperandSize, segOverride: number): ModrmSource {
  const modrm = bytes.next8();
  const mod = modrm >>> 6;
  const rm = modrm & 7;
  const reg = (modrm >>> 3) & 7;
  if (mod === 3) return { reg, rm, mem: undefined };
  const mem = addrSize === 2 ? address16(bytes, mod, rm) : address32(bytes, mod, rm);
  if (segOverride !== NO_SEGMENT) mem.seg = segOverride;
  return { reg, rm, mem };
}

function address32(bytes: CodeBytes, mod: number, rm: number): MemorySource {
  let seg = DS;
  let base = -1;
  let index = -1;
  let scale = 0;
  let disp = 0;
  if (rm === 4) {
    const sib = bytes.next8();
    const b = sib & 7;
    const i = (sib >>> 3) & 7;
    if (b === EBP && mod === 0) {
      disp = bytes.next32() | 0;
    } else {
      base = b;
      if (b === ESP || b === EBP) seg = SS;
    }
    if (i !== ESP) {
      index = i;
      scale = sib >>> 6;
    }
  } else if (rm === EBP && mod === 0) {
    disp = bytes.next32() | 0;
  } else {
    base = rm;
    if (rm === EBP) seg = SS;
  }
  if (mod === 1) disp = (disp + bytes.displacement8()) | 0;
  else if (mod === 2) disp = (disp + bytes.next32()) | 0;
  const terms: string[] = [];
  if (base >= 0) terms.push(`r[${base}]`);
  if (index >= 0) terms.push(scale === 0 ? `r[${index}]` : `(r[${index}] << ${scale})`);
  if (disp !== 0 || terms.length === 0) terms.push(String(disp));
  const offset = terms.length === 1 && base >= 0 ? terms[0] : terms.length === 1 && index < 0 ? String(disp >>> 0) : `((${terms.join(' + ')}) >>> 0)`;
  return { seg, offset };
}

const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

function address16(bytes: CodeBytes, mod: number, rm: number): MemorySource {
  const seg = rm === 2 || rm === 3 || (rm === 6 && mod !== 0) ? SS : DS;
  if (rm === 6 && mod === 0) return { seg, offset: String(bytes.next16()) };
  const disp = mod === 1 ? bytes.displacement8() : mod === 2 ? bytes.next16() : 0;
  const terms = [`r16[${BASE16[rm] << 1}]`];
  if (INDEX16[rm] >= 0) terms.push(`r16[${INDEX16[rm] << 1}]`);
  if (disp !== 0) terms.push(String(disp));
  return { seg, offset: `((${terms.join(' + ')}) & 0xffff)` };
}

/** Segment prefixes by byte (FS/GS exist from the 386 on). */
export const SEGMENT_PREFIXES: Record<number, number> = { 0x26: 0, 0x2e: CS, 0x36: SS, 0x3e: DS, 0x64: 4, 0x65: 5 };
