import type { Cpu } from '../cpu.js';
import { signExtend } from '../decode/operands.js';
import { testCondition } from '../instructions/conditions.js';
import { changeBit, doubleShiftValue } from '../instructions/two-byte/bit-operations.js';
import { swapBytes32 } from '../instructions/two-byte/atomic.js';
import { readTimeStamp } from '../instructions/two-byte/processor-info.js';
import { multiplySigned } from '../ops/multiply-divide.js';
import { sizeMask, type OperandSize } from '../registers.js';
import { INTERPRET, type DecodedInstruction } from './code-cache.js';
import type { CodeBytes } from './code-bytes.js';
import { decodeModrm, jumpIf, rmReader, rmUpdater, rmWriter, type Prefixes } from './operand-closures.js';

/** The 0F map as closures (386+): what the interpreter's 0F handlers do, operands decoded once. */
export function twoByte(cpu: Cpu, opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction | typeof INTERPRET {
  if (opcode === 0xaf) {
    const size = p.opSize;
    const m = decodeModrm(bytes, p);
    const read = rmReader(m, size);
    const reg = m.reg;
    return (c) => c.setReg(size, reg, multiplySigned(c, c.getReg(size, reg), read(c), size));
  }
  if (opcode >= 0x90 && opcode <= 0x9f) {
    const cc = opcode & 0xf;
    return rmWriter(decodeModrm(bytes, p), 1, (c) => (testCondition(c.flags, cc) ? 1 : 0));
  }
  if (opcode >= 0x40 && opcode <= 0x4f && cpu.quirks.hasI686) {
    const cc = opcode & 0xf;
    const size = p.opSize;
    const m = decodeModrm(bytes, p);
    const read = rmReader(m, size);
    const reg = m.reg;
    return (c) => {
      const value = read(c); // read even when the condition is false
      if (testCondition(c.flags, cc)) c.setReg(size, reg, value);
    };
  }
  if (opcode >= 0x80 && opcode <= 0x8f) {
    const displacement = p.opSize === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    return jumpIf(opcode & 0xf, displacement, p.opSize);
  }
  // RDTSC: delay loops (Linux's delay_tsc) spin on it; as an interpreted instruction it ended
  // every block and cost two block lookups per pass.
  if (opcode === 0x31) return readTimeStamp;
  if (opcode === 0xba || opcode === 0xa3 || opcode === 0xab || opcode === 0xb3 || opcode === 0xbb) return bitTest(opcode, bytes, p);
  if (opcode === 0xa4 || opcode === 0xa5 || opcode === 0xac || opcode === 0xad) {
    const size = p.opSize;
    const m = decodeModrm(bytes, p);
    const byCl = (opcode & 1) !== 0;
    const immediate = byCl ? 0 : bytes.next8() & 31;
    const left = opcode < 0xac;
    const reg = m.reg;
    const countOf = (c: Cpu): number => (byCl ? c.reg8[1 << 2] & 31 : immediate);
    const update = rmUpdater(m, size, (c, dest) => doubleShiftValue(c.flags, dest, c.getReg(size, reg), countOf(c), size, left));
    return (c) => {
      if (countOf(c) !== 0) update(c); // a zero count touches nothing, not even memory
    };
  }
  if (opcode >= 0xc8 && opcode <= 0xcf) {
    const r = opcode & 7;
    // BSWAP of a 16-bit register is undefined; like the interpreter, it clears it.
    if (p.opSize === 2) return (c) => (c.reg16[r << 1] = 0);
    return (c) => (c.reg32[r] = swapBytes32(c.reg32[r]));
  }
  if (opcode === 0xb6 || opcode === 0xb7 || opcode === 0xbe || opcode === 0xbf) {
    const from: OperandSize = (opcode & 1) !== 0 ? 2 : 1;
    const size = p.opSize;
    const m = decodeModrm(bytes, p);
    const read = rmReader(m, from);
    const reg = m.reg;
    if (opcode < 0xbe) return (c) => c.setReg(size, reg, read(c));
    const mask = sizeMask(size);
    return (c) => c.setReg(size, reg, (signExtend(read(c), from) & mask) >>> 0);
  }
  return INTERPRET;
}

/**
 * 0F BA /4-7 BT/BTS/BTR/BTC r/m, imm8 and 0F A3/AB/B3/BB the same with the bit offset in
 * a register, which with a memory operand may select another word or dword relative to
 * the address (signed offset / operand bits). CF gets the bit; the others change it.
 */
function bitTest(opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction | typeof INTERPRET {
  const size = p.opSize;
  const bits = size * 8;
  const m = decodeModrm(bytes, p);
  const fromRegister = opcode !== 0xba;
  if (!fromRegister && m.reg < 4) return INTERPRET; // #UD, as the interpreter raises it
  const action = fromRegister ? (opcode >>> 3) & 3 : m.reg - 4;
  const immediate = fromRegister ? 0 : bytes.next8();
  const reg = m.reg;
  const mem = m.memory;
  const addrMask = p.addrSize === 2 ? 0xffff : 0xffffffff;
  if (mem === undefined) {
    const r = m.rm;
    return (c) => {
      const bit = (fromRegister ? c.getReg(size, reg) : immediate) & (bits - 1);
      const result = changeBit(c.flags, action, c.getReg(size, r), bit, size);
      if (action !== 0) c.setReg(size, r, result);
    };
  }
  const seg = mem.segment;
  const offset = mem.offset;
  return (c) => {
    let at = offset(c);
    let bitOffset = immediate;
    if (fromRegister) {
      bitOffset = c.getReg(size, reg);
      at = ((at + Math.floor(signExtend(bitOffset, size) / bits) * size) & addrMask) >>> 0;
    }
    const bit = bitOffset & (bits - 1);
    const result = changeBit(c.flags, action, c.readMemory(seg, at, size), bit, size);
    if (action !== 0) c.writeMemory(seg, at, size, result);
  };
}
