import type { Cpu } from '../cpu.js';
import { MODE_FLAT } from '../jit/instruction-emitter.js';
import { EAX, ECX, EDI, ES, ESI, type OperandSize } from '../registers.js';

const PAGE_SIZE = 4096;

/**
 * REP MOVS and REP STOS with 32-bit addresses through flat segments, a page at a time,
 * forwards or (DF set) backwards: each page is translated once (faulting exactly where the
 * element loop would) and then copied or filled in RAM directly. Returns false, having done
 * nothing, when the fast path does not apply; the caller then runs the element loop,
 * which also finishes any element this one leaves (device memory, an element across
 * pages, an overlap that would replicate a pattern). Linux's decompressor moves the
 * compressed kernel (~6 MB) up with `std; rep movsl` before it starts.
 */
export function repBulk(cpu: Cpu, movs: boolean, size: OperandSize, srcSeg: number, yieldAt = 0, backwards = false): boolean {
  const flat = cpu.jitMode >>> MODE_FLAT;
  if (cpu.addrSize !== 4 || (flat & (1 << ES)) === 0 || (movs && (flat & (1 << srcSeg)) === 0)) return false;
  const memory = cpu.memory;
  const ram = cpu.bus.ram;
  const regs = cpu.reg32;
  while (regs[ECX] > yieldAt) {
    const dstLinear = (cpu.segBase[ES] + regs[EDI]) >>> 0;
    const srcLinear = movs ? (cpu.segBase[srcSeg] + regs[ESI]) >>> 0 : 0;
    const room = Math.min(roomIn(dstLinear, size, backwards), movs ? roomIn(srcLinear, size, backwards) : PAGE_SIZE);
    const count = Math.min(regs[ECX] - yieldAt, Math.floor(room / size));
    if (count === 0) return true; // an element across two pages: the element loop does it
    const bytes = count * size;
    // The chunk's lowest byte: backwards, the first element is the chunk's highest.
    const below = backwards ? bytes - size : 0;
    const src = movs ? memory.ramForRead(srcLinear) : 0;
    const dstLow = memory.ramForWrite((dstLinear - below) >>> 0, bytes); // in the first element's page (roomIn)
    if (dstLow < 0 || src < 0) return true;
    if (movs) {
      const srcLow = src - below;
      // Element order replicates a pattern where the destination overlaps the source ahead of
      // it (forwards: above it; backwards: below it): that is left to the element loop.
      if (backwards ? dstLow < srcLow && dstLow + bytes > srcLow : dstLow > srcLow && dstLow < srcLow + bytes) return true;
      ram.copyWithin(dstLow, srcLow, srcLow + bytes);
      regs[ESI] = backwards ? regs[ESI] - bytes : regs[ESI] + bytes;
    } else {
      fill(ram, dstLow, count, size, regs[EAX]);
    }
    regs[EDI] = backwards ? regs[EDI] - bytes : regs[EDI] + bytes;
    regs[ECX] = regs[ECX] - count;
  }
  return true;
}

/** Bytes from the element at `linear` to its page's end (forwards) or start (backwards, the element's own bytes included). */
function roomIn(linear: number, size: OperandSize, backwards: boolean): number {
  const offset = linear & 0xfff;
  if (!backwards) return PAGE_SIZE - offset;
  return offset + size <= PAGE_SIZE ? offset + size : 0;
}

function fill(ram: Uint8Array, at: number, count: number, size: OperandSize, value: number): void {
  if (size === 1 || (size === 2 && ((value ^ (value >>> 8)) & 0xff) === 0) || (size === 4 && (value >>> 0) % 0x01010101 === 0)) {
    ram.fill(value & 0xff, at, at + count * size);
    return;
  }
  const view = new DataView(ram.buffer, ram.byteOffset + at, count * size);
  for (let i = 0; i < count; i++) {
    if (size === 2) view.setUint16(i * 2, value, true);
    else view.setUint32(i * 4, value, true);
  }
}
