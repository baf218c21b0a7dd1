import { NO_SEGMENT, type OperandSize } from '../registers.js';
import { addressFields16, addressFields32 } from '../decoded/address-fields.js';
import type { CodeBytes } from '../decoded/code-bytes.js';

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

/**
 * A compiled block keeps the general registers in locals R0..R7 (each an unsigned
 * 32-bit value), loaded on entry and written back to cpu.reg32 on every way out
 * (see compile-block.ts). A register operand read, as an expression.
 */
export function registerSource(size: OperandSize, n: number): string {
  if (size === 4) return `R${n}`;
  if (size === 2) return `(R${n} & 0xffff)`;
  return n < 4 ? `(R${n} & 0xff)` : `((R${n - 4} >>> 8) & 0xff)`;
}

/** A statement writing `value` (wrapped to the operand size) into a register operand; AH..BH are bits 8-15 of EAX..EBX. */
export function registerWrite(size: OperandSize, n: number, value: string): string {
  if (size === 4) return `R${n} = (${value}) >>> 0;`;
  if (size === 2) return `R${n} = ((R${n} & 0xffff0000) | ((${value}) & 0xffff)) >>> 0;`;
  if (n < 4) return `R${n} = ((R${n} & 0xffffff00) | ((${value}) & 0xff)) >>> 0;`;
  return `R${n - 4} = ((R${n - 4} & 0xffff00ff) | (((${value}) & 0xff) << 8)) >>> 0;`;
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
  const { seg, base, index, scale, disp } = addressFields32(bytes, mod, rm);
  const terms: string[] = [];
  if (base >= 0) terms.push(`R${base}`);
  if (index >= 0) terms.push(scale === 0 ? `R${index}` : `(R${index} << ${scale})`);
  if (disp !== 0 || terms.length === 0) terms.push(String(disp));
  const offset = terms.length === 1 && base >= 0 ? terms[0] : terms.length === 1 && index < 0 ? String(disp >>> 0) : `((${terms.join(' + ')}) >>> 0)`;
  return { seg, offset };
}

function address16(bytes: CodeBytes, mod: number, rm: number): MemorySource {
  const { seg, base, index, disp } = addressFields16(bytes, mod, rm);
  if (base < 0) return { seg, offset: String(disp) };
  const terms = [registerSource(2, base)];
  if (index >= 0) terms.push(registerSource(2, index));
  if (disp !== 0) terms.push(String(disp));
  return { seg, offset: `((${terms.join(' + ')}) & 0xffff)` };
}
