import type { CpuQuirks } from '../cpu-model.js';
import { FlagOp } from '../lazy-flags.js';
import type { OperandSize } from '../registers.js';
import type { InstructionEmitter } from './instruction-emitter.js';
import type { CodeBytes } from '../decoded/code-bytes.js';
import type { ModrmSource } from './operand-source.js';

/** 0F xx: Jcc near, SETcc, CMOVcc, MOVZX/MOVSX, IMUL r, r/m, multi-byte NOP. */
export function emitTwoByte(x: InstructionEmitter, quirks: CpuQuirks, opcode: number, bytes: CodeBytes, modrm: () => ModrmSource): boolean {
  if (opcode >= 0x80 && opcode <= 0x8f) {
    const displacement = x.opSize === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    x.condition = opcode & 0xf;
    x.branch('$COND', displacement);
    return true;
  }
  if (opcode >= 0x90 && opcode <= 0x9f) {
    const m = modrm();
    x.condition = opcode & 0xf;
    if (m.mem !== undefined) x.at(m.mem);
    x.writeRm(m, 1, '($COND ? 1 : 0)');
    return true;
  }
  if (opcode >= 0x40 && opcode <= 0x4f && quirks.hasI686) {
    const m = modrm();
    x.condition = opcode & 0xf;
    x.emit(`v = ${x.readRm(m, x.opSize)};`); // the source is read even when the condition fails
    x.emit('if ($COND) {');
    x.setReg(x.opSize, m.reg, 'v');
    x.emit('}');
    return true;
  }
  if (opcode === 0xb6 || opcode === 0xb7 || opcode === 0xbe || opcode === 0xbf) {
    const from: OperandSize = (opcode & 1) !== 0 ? 2 : 1;
    const m = modrm();
    const value = x.readRm(m, from);
    const extended = opcode < 0xbe ? value : from === 1 ? `((${value} << 24) >> 24)` : `((${value} << 16) >> 16)`;
    x.setReg(x.opSize, m.reg, extended);
    return true;
  }
  if (opcode === 0xaf && x.opSize === 4) {
    const m = modrm();
    x.multiplySigned32(m.reg, x.readRm(m, 4), x.reg(4, m.reg));
    return true;
  }
  if (opcode === 0xaf) {
    const m = modrm();
    x.setReg(x.opSize, m.reg, `MS(cpu, ${x.reg(x.opSize, m.reg)}, ${x.readRm(m, x.opSize)}, ${x.opSize})`);
    x.helperSetsFlags();
    return true;
  }
  if (opcode === 0xb0 || opcode === 0xb1) {
    // CMPXCHG r/m, reg: flags as CMP accumulator, r/m; the destination is written either way.
    const size: OperandSize = opcode === 0xb0 ? 1 : x.opSize;
    const m = modrm();
    const accumulator = x.reg(size, 0);
    x.emit(`${x.b} = ${x.readRm(m, size)};`);
    x.emit(`${x.a} = ${accumulator};`);
    x.emit(`${x.s} = ${x.a} - ${x.b};`);
    x.emit(`if (${x.a} === ${x.b}) {`);
    x.writeRm(m, size, x.reg(size, m.reg));
    x.emit('} else {');
    if (m.mem !== undefined) x.write(m.mem.seg, size, x.b);
    x.setReg(size, 0, x.b);
    x.emit('}');
    x.flagsFrom(FlagOp.Sub, size);
    return true;
  }
  if (opcode === 0xc0 || opcode === 0xc1) {
    // XADD r/m, reg: reg = old r/m, r/m = sum (in that order, for XADD r, r with one register).
    const size: OperandSize = opcode === 0xc0 ? 1 : x.opSize;
    const m = modrm();
    x.emit(`${x.a} = ${x.readRm(m, size)};`);
    x.emit(`${x.b} = ${x.reg(size, m.reg)};`);
    x.emit(`${x.s} = ${x.a} + ${x.b};`);
    x.setReg(size, m.reg, x.a);
    x.writeRm(m, size, x.s);
    x.flagsFrom(FlagOp.Add, size);
    return true;
  }
  if (opcode >= 0xc8 && opcode <= 0xcf && x.opSize === 4) {
    x.emit(`t = ${x.reg(4, opcode & 7)};`);
    x.setReg(4, opcode & 7, '(t << 24) | ((t & 0xff00) << 8) | ((t >>> 8) & 0xff00) | (t >>> 24)');
    return true;
  }
  if (opcode === 0x1f) {
    modrm(); // NOP r/m: the operand is decoded, never accessed
    return true;
  }
  return false;
}
