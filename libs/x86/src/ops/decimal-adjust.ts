import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { AF, CF } from '../flag-bits.js';
import { setLogicFlags } from './alu.js';

/** AL is reg8[0], AH is reg8[1]. */
const AL = 0;
const AH = 1;

/** DAA: adjust AL after adding two packed BCD bytes. */
export function decimalAdjustAdd(cpu: Cpu): void {
  const flags = cpu.flags;
  const oldAl = cpu.reg8[AL];
  const oldCf = flags.get(CF) !== 0;
  const oldAf = flags.get(AF) !== 0;
  let al = oldAl;
  let af = false;
  let cf = false;
  if ((al & 0x0f) > 9 || oldAf) {
    al = (al + 6) & 0xff;
    af = true;
  }
  if (oldAl > (oldAf && cpu.quirks.decimalAdjustHighLimit9FWithAf ? 0x9f : 0x99) || oldCf) {
    al = (al + 0x60) & 0xff;
    cf = true;
  }
  cpu.reg8[AL] = al;
  setLogicFlags(flags, al, 1);
  flags.assign(AF | CF, (af ? AF : 0) | (cf ? CF : 0));
}

/** DAS: adjust AL after subtracting two packed BCD bytes. */
export function decimalAdjustSubtract(cpu: Cpu): void {
  const flags = cpu.flags;
  const oldAl = cpu.reg8[AL];
  const oldCf = flags.get(CF) !== 0;
  const oldAf = flags.get(AF) !== 0;
  let al = oldAl;
  let af = false;
  let cf = false;
  if ((al & 0x0f) > 9 || oldAf) {
    al = (al - 6) & 0xff;
    af = true;
  }
  if (oldAl > (oldAf && cpu.quirks.decimalAdjustHighLimit9FWithAf ? 0x9f : 0x99) || oldCf) {
    al = (al - 0x60) & 0xff;
    cf = true;
  }
  cpu.reg8[AL] = al;
  setLogicFlags(flags, al, 1);
  flags.assign(AF | CF, (af ? AF : 0) | (cf ? CF : 0));
}

/** AAA (add) and AAS (subtract): adjust AL/AH after unpacked BCD arithmetic. */
export function asciiAdjust(cpu: Cpu, subtract: boolean): void {
  const flags = cpu.flags;
  const al = cpu.reg8[AL];
  const adjust = (al & 0x0f) > 9 || flags.get(AF) !== 0;
  if (adjust) {
    if (cpu.quirks.bcdAdjustAlOnly) {
      cpu.reg8[AL] = subtract ? al - 6 : al + 6;
      cpu.reg8[AH] += subtract ? -1 : 1;
    } else {
      cpu.reg16[0] += subtract ? -6 : 0x106;
      if (subtract) cpu.reg8[AH] -= 1;
    }
  }
  cpu.reg8[AL] &= 0x0f;
  setLogicFlags(flags, cpu.reg8[AL], 1);
  flags.assign(AF | CF, adjust ? AF | CF : 0);
}

/** AAM imm8: AH = AL / base, AL = AL % base. */
export function asciiAdjustMultiply(cpu: Cpu, base: number): void {
  if (base === 0) {
    if (cpu.quirks.aamZeroSetsFlags) setLogicFlags(cpu.flags, 0, 1);
    throw new CpuFault(Vector.DivideError);
  }
  const al = cpu.reg8[AL];
  cpu.reg8[AH] = Math.floor(al / base);
  cpu.reg8[AL] = al % base;
  setLogicFlags(cpu.flags, cpu.reg8[AL], 1);
}

/** AAD imm8: AL = AL + AH * base, AH = 0. */
export function asciiAdjustDivide(cpu: Cpu, base: number): void {
  const al = (cpu.reg8[AL] + cpu.reg8[AH] * base) & 0xff;
  cpu.reg16[0] = al;
  setLogicFlags(cpu.flags, al, 1);
}
