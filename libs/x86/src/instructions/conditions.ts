import { CF, OF, PF, SF, ZF } from '../flag-bits.js';
import type { LazyFlags } from '../lazy-flags.js';

/** Evaluates condition code cc (low nibble of Jcc/SETcc/CMOVcc: O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G). */
export function testCondition(flags: LazyFlags, cc: number): boolean {
  let result: boolean;
  switch (cc >>> 1) {
    case 0: result = flags.get(OF) !== 0; break;
    case 1: result = flags.get(CF) !== 0; break;
    case 2: result = flags.get(ZF) !== 0; break;
    case 3: result = flags.get(CF | ZF) !== 0; break;
    case 4: result = flags.get(SF) !== 0; break;
    case 5: result = flags.get(PF) !== 0; break;
    case 6: result = (flags.get(SF) !== 0) !== (flags.get(OF) !== 0); break;
    default: result = flags.get(ZF) !== 0 || (flags.get(SF) !== 0) !== (flags.get(OF) !== 0); break;
  }
  return (cc & 1) !== 0 ? !result : result;
}
