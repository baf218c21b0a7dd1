/**
 * Helpers to point a vCPU at real-mode code. A freshly created x86 vCPU is in the reset
 * state (CS selector 0xF000, base 0xFFFF0000, IP 0xFFF0); these set a flat real-mode
 * segment whose base is selector * 16, as after a far jump.
 */
import type { KvmSegment, KvmSregs } from './sregs.js';

/** A real-mode segment register as a far jump / mov would leave it. */
export function realModeSegment(selector: number, code = false): KvmSegment {
  return {
    base: selector * 16,
    limit: 0xffff,
    selector,
    type: code ? 0xb : 0x3, // execute/read accessed, or read/write accessed
    present: 1,
    dpl: 0,
    db: 0,
    s: 1,
    l: 0,
    g: 0,
    avl: 0,
    unusable: 0,
  };
}

/** Returns `sregs` with CS = `cs` and the data segments = `ds`, real mode (CR0.PE clear). */
export function withRealModeSegments(sregs: KvmSregs, cs: number, ds = 0): KvmSregs {
  return {
    ...sregs,
    cs: realModeSegment(cs, true),
    ds: realModeSegment(ds),
    es: realModeSegment(ds),
    fs: realModeSegment(ds),
    gs: realModeSegment(ds),
    ss: realModeSegment(ds),
    cr0: sregs.cr0 & ~1,
  };
}
