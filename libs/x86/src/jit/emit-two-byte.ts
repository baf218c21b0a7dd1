import type { CpuQuirks } from '../cpu-model.js';
import type { OperandSize } from '../registers.js';
import type { InstructionEmitter } from './instruction-emitter.js';
import type { CodeBytes, ModrmSource } from './operand-source.js';

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
    x.emit(`if ($COND) ${x.reg(x.opSize, m.reg)} = v;`);
    return true;
  }
  if (opcode === 0xb6 || opcode === 0xb7 || opcode === 0xbe || opcode === 0xbf) {
    const from: OperandSize = (opcode & 1) !== 0 ? 2 : 1;
    const m = modrm();
    const value = x.readRm(m, from);
    const extended = opcode < 0xbe ? value : from === 1 ? `((${value} << 24) >> 24)` : `((${value} << 16) >> 16)`;
    x.emit(`${x.reg(x.opSize, m.reg)} = ${extended};`);
    return true;
  }
  if (opcode === 0xaf) {
    const m = modrm();
    x.emit(`${x.reg(x.opSize, m.reg)} = MS(cpu, ${x.reg(x.opSize, m.reg)}, ${x.readRm(m, x.opSize)}, ${x.opSize});`);
    x.opaqueFlags();
    return true;
  }
  if (opcode === 0x1f) {
    modrm(); // NOP r/m: the operand is decoded, never accessed
    return true;
  }
  return false;
}
