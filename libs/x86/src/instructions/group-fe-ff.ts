import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import type { CpuQuirks } from '../cpu-model.js';
import { decodeModrm } from '../decode/modrm.js';
import { readRm, writeRm } from '../decode/operands.js';
import { decrement, increment } from '../ops/alu.js';
import { ESP } from '../registers.js';
import { farCall, farJump } from './far-transfer.js';
import type { OpcodeTable } from './opcode-table.js';

/** FE: INC/DEC r/m8. */
function group4(cpu: Cpu): void {
  decodeModrm(cpu);
  const reg = cpu.modrmReg;
  if (reg > 1 && cpu.quirks.has32Bit) throw new CpuFault(Vector.InvalidOpcode);
  const value = readRm(cpu, 1);
  writeRm(cpu, 1, (reg & 1) === 0 ? increment(cpu.flags, value, 1) : decrement(cpu.flags, value, 1));
}

/** FF: INC, DEC, CALL near, CALL far, JMP near, JMP far, PUSH on r/m. */
function group5(cpu: Cpu): void {
  decodeModrm(cpu);
  const size = cpu.opSize;
  switch (cpu.modrmReg) {
    case 0:
      writeRm(cpu, size, increment(cpu.flags, readRm(cpu, size), size));
      break;
    case 1:
      writeRm(cpu, size, decrement(cpu.flags, readRm(cpu, size), size));
      break;
    case 2: {
      const target = readRm(cpu, size);
      cpu.push(size, cpu.eip);
      cpu.eip = target;
      break;
    }
    case 4:
      cpu.eip = readRm(cpu, size);
      break;
    case 3:
    case 5: {
      const [selector, offset] = readFarPointer(cpu);
      if (cpu.modrmReg === 3) farCall(cpu, selector, offset, size);
      else farJump(cpu, selector, offset);
      break;
    }
    case 6:
      pushRm(cpu);
      break;
    default:
      if (cpu.quirks.has32Bit) throw new CpuFault(Vector.InvalidOpcode);
      pushRm(cpu); // the 8086 decodes FF /7 as another PUSH
      break;
  }
}

function pushRm(cpu: Cpu): void {
  const size = cpu.opSize;
  if (cpu.modrmMod === 3 && cpu.modrmRm === ESP && cpu.quirks.pushSpAfterDecrement) {
    cpu.push(size, (cpu.reg16[ESP << 1] - 2) & 0xffff);
    return;
  }
  cpu.push(size, readRm(cpu, size));
}

/** The m16:16/32 operand of a far CALL/JMP: offset then selector. */
function readFarPointer(cpu: Cpu): [number, number] {
  if (cpu.modrmMod === 3) throw new CpuFault(Vector.InvalidOpcode);
  const size = cpu.opSize;
  const offset = cpu.readMemory(cpu.eaSegment, cpu.eaOffset, size);
  const selectorOffset = (cpu.eaOffset + size) & (cpu.addrSize === 2 ? 0xffff : -1);
  const selector = cpu.readMemory(cpu.eaSegment, selectorOffset >>> 0, 2);
  return [selector, offset];
}

export function installGroupFeFf(table: OpcodeTable, _quirks: CpuQuirks): void {
  table[0xfe] = group4;
  table[0xff] = group5;
}
