import type { Cpu } from './cpu.js';
import { CpuFault, Vector } from './cpu-fault.js';
import { InterruptKind } from './interrupt-kind.js';
import { TripleFault } from './triple-fault.js';

/** #DE, #TS, #NP, #SS, #GP (Intel SDM vol. 3, table 6-4). */
function isContributory(vector: number): boolean {
  return vector === Vector.DivideError || (vector >= Vector.InvalidTss && vector <= Vector.GeneralProtection);
}

/** Whether a second exception raised while delivering the first turns into #DF (table 6-5). */
export function becomesDoubleFault(first: number, second: number): boolean {
  if (isContributory(first)) return isContributory(second);
  if (first === Vector.PageFault) return isContributory(second) || second === Vector.PageFault;
  return false;
}

const NAMES: Record<number, string> = { 0: '#DE', 6: '#UD', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF' };
const name = (vector: number) => NAMES[vector] ?? `vector ${vector}`;

/**
 * Delivers an exception or interrupt, escalating faults raised during the
 * delivery itself: a second fault either becomes #DF or is handled in turn
 * (benign pairs), and a fault while delivering #DF is a triple fault.
 */
export function deliverException(cpu: Cpu, vector: number, errorCode: number | undefined, returnEip: number, kind: InterruptKind, address?: number): void {
  if (vector === Vector.PageFault && address !== undefined) cpu.cr2 = address >>> 0;
  let current = vector;
  let code = errorCode;
  let currentKind = kind;
  for (let attempt = 0; ; attempt++) {
    try {
      cpu.interrupt(current, returnEip, currentKind, code);
      return;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      if (e.vector === Vector.PageFault && e.address !== undefined) cpu.cr2 = e.address >>> 0;
      if (current === Vector.DoubleFault || attempt >= 3) {
        throw new TripleFault(`${name(e.vector)} while delivering ${name(current)}`);
      }
      if (becomesDoubleFault(current, e.vector)) {
        current = Vector.DoubleFault;
        code = 0;
      } else {
        current = e.vector;
        code = e.errorCode;
      }
      currentKind = InterruptKind.Exception;
    }
  }
}
