import type { Cpu } from '../cpu.js';
import { MODE_FLAT } from '../jit/instruction-emitter.js';
import { EAX, ECX, EDI, ES, ESI, type OperandSize } from '../registers.js';

const PAGE_SIZE = 4096;

/**
 * REP MOVS and REP STOS forwards with 32-bit addresses through flat segments, a page
 * at a time: each page is translated once (faulting exactly where the element loop
 * would) and then copied or filled in RAM directly. Returns false, having done
 * nothing, when the fast path does not apply; the caller then runs the element loop,
 * which also finishes any element this one leaves (device memory, an element across
 * pages, an overlap that would replicate a pattern).
 */
export function repBulk(cpu: Cpu, movs: boolean, size: OperandSize, srcSeg: number, yieldAt = 0): boolean {
  const flat = cpu.jitMode >>> MODE_FLAT;
  if (cpu.addrSize !== 4 || (flat & (1 << ES)) === 0 || (movs && (flat & (1 << srcSeg)) === 0)) return false;
  const memory = cpu.memory;
  const ram = cpu.bus.ram;
  const regs = cpu.reg32;
  while (regs[ECX] > yieldAt) {
    const dstLinear = (cpu.segBase[ES] + regs[EDI]) >>> 0;
    const srcLinear = movs ? (cpu.segBase[srcSeg] + regs[ESI]) >>> 0 : 0;
    const room = Math.min(PAGE_SIZE - (dstLinear & 0xfff), movs ? PAGE_SIZE - (srcLinear & 0xfff) : PAGE_SIZE);
    const count = Math.min(regs[ECX] - yieldAt, Math.floor(room / size));
    if (count === 0) return true; // an element across two pages: the element loop does it
    const src = movs ? memory.ramForRead(srcLinear) : 0;
    const dst = memory.ramForWrite(dstLinear);
    const bytes = count * size;
    if (dst < 0 || src < 0) return true;
    if (movs) {
      if (dst > src && dst < src + bytes) return true; // overlapping forwards: element by element
      ram.copyWithin(dst, src, src + bytes);
      regs[ESI] = regs[ESI] + bytes;
    } else {
      fill(ram, dst, count, size, regs[EAX]);
    }
    regs[EDI] = regs[EDI] + bytes;
    regs[ECX] = regs[ECX] - count;
  }
  return true;
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
