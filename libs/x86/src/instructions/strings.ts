import { REP_NONE, REPNE, type Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { checkIoPermission } from '../protected/task-state.js';
import { DF, ZF } from '../flag-bits.js';
import { aluOperation, CMP } from '../ops/alu.js';
import { DS, EAX, ECX, EDI, EDX, ES, ESI, type OperandSize } from '../registers.js';
import { setRange, type OpcodeTable } from './opcode-table.js';
import { repBulk } from './rep-bulk.js';

/*
 * String instructions. Each performs one element; with a REP prefix the loop runs
 * here, to completion or until it yields after Cpu.repElementLimit elements.
 */

const enum StringKind {
  Movs,
  Cmps,
  Stos,
  Lods,
  Scas,
  Ins,
  Outs,
}

function kindOf(opcode: number): StringKind {
  switch (opcode & 0xfe) {
    case 0xa4: return StringKind.Movs;
    case 0xa6: return StringKind.Cmps;
    case 0xaa: return StringKind.Stos;
    case 0xac: return StringKind.Lods;
    case 0xae: return StringKind.Scas;
    case 0x6c: return StringKind.Ins;
    default: return StringKind.Outs;
  }
}

function stringInstruction(cpu: Cpu, opcode: number): void {
  const kind = kindOf(opcode);
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  const addrSize = cpu.addrSize;
  const addrMask = addrSize === 2 ? 0xffff : 0xffffffff;
  const step = cpu.flags.get(DF) !== 0 ? -size : size;
  const srcSeg = cpu.dataSegment(DS);
  const compares = kind === StringKind.Cmps || kind === StringKind.Scas;
  if (kind === StringKind.Ins || kind === StringKind.Outs) checkIoPermission(cpu, cpu.reg16[EDX << 1], size);

  if (cpu.repPrefix === REP_NONE) {
    stringElement(cpu, kind, size, srcSeg, step, addrMask);
    return;
  }
  // Each element counts as an instruction retired (the CPU spends about a cycle or more
  // on each), so guest time moves on during a long REP and the slice ends on time.
  const countBefore = cpu.getReg(addrSize, ECX);
  try {
    repeat(cpu, kind, size, srcSeg, step, addrMask, compares);
  } finally {
    const elements = (countBefore - cpu.getReg(addrSize, ECX)) & addrMask;
    if (elements > 1) cpu.instructionCount += elements - 1;
  }
}

function repeat(cpu: Cpu, kind: StringKind, size: OperandSize, srcSeg: number, step: number, addrMask: number, compares: boolean): void {
  const addrSize = cpu.addrSize;
  if (kind === StringKind.Ins && step > 0 && cpu.bus.ioReadString) return repInsBlocks(cpu, size, addrMask);
  if (kind === StringKind.Outs && step > 0 && cpu.bus.ioWriteString) return repOutsBlocks(cpu, size, srcSeg, addrMask);
  // Down to this count the REP runs now; below it, it yields (see Cpu.repElementLimit).
  const yieldAt = Math.max(0, cpu.getReg(addrSize, ECX) - cpu.repElementLimit);
  if (kind === StringKind.Movs || kind === StringKind.Stos) repBulk(cpu, kind === StringKind.Movs, size, srcSeg, yieldAt, step < 0);
  const stopWhenZero = cpu.repPrefix === REPNE;
  while (cpu.getReg(addrSize, ECX) !== 0) {
    if (cpu.getReg(addrSize, ECX) <= yieldAt) {
      cpu.eip = cpu.instructionStart; // resumed by the next run, prefixes and all
      return;
    }
    stringElement(cpu, kind, size, srcSeg, step, addrMask);
    cpu.setReg(addrSize, ECX, cpu.getReg(addrSize, ECX) - 1);
    if (compares && (cpu.flags.get(ZF) !== 0) === stopWhenZero) break;
  }
}

function stringElement(cpu: Cpu, kind: StringKind, size: OperandSize, srcSeg: number, step: number, addrMask: number): void {
  const addrSize = cpu.addrSize;
  const si = cpu.getReg(addrSize, ESI);
  const di = cpu.getReg(addrSize, EDI);
  const port = cpu.reg16[EDX << 1];
  switch (kind) {
    case StringKind.Movs:
      cpu.writeMemory(ES, di, size, cpu.readMemory(srcSeg, si, size));
      break;
    case StringKind.Cmps:
      aluOperation(cpu.flags, CMP, cpu.readMemory(srcSeg, si, size), cpu.readMemory(ES, di, size), size);
      break;
    case StringKind.Stos:
      cpu.writeMemory(ES, di, size, cpu.getReg(size, EAX));
      break;
    case StringKind.Lods:
      cpu.setReg(size, EAX, cpu.readMemory(srcSeg, si, size));
      break;
    case StringKind.Scas:
      aluOperation(cpu.flags, CMP, cpu.getReg(size, EAX), cpu.readMemory(ES, di, size), size);
      break;
    case StringKind.Ins:
      cpu.writeMemory(ES, di, size, cpu.bus.ioRead(port, size));
      break;
    default:
      cpu.bus.ioWrite(port, size, cpu.readMemory(srcSeg, si, size));
      break;
  }
  if (kind !== StringKind.Stos && kind !== StringKind.Scas && kind !== StringKind.Ins) {
    cpu.setReg(addrSize, ESI, ((si + step) & addrMask) >>> 0);
  }
  if (kind !== StringKind.Lods && kind !== StringKind.Outs) {
    cpu.setReg(addrSize, EDI, ((di + step) & addrMask) >>> 0);
  }
}

const PAGE_SIZE = 4096;

/** Elements from `offset` in segment `seg` up to the end of its page (at least 1). */
function elementsToPageEnd(cpu: Cpu, seg: number, offset: number, size: OperandSize, left: number): number {
  const linear = (cpu.segBase[seg] + offset) >>> 0;
  return Math.max(1, Math.min(left, Math.floor((PAGE_SIZE - (linear % PAGE_SIZE)) / size)));
}

/**
 * Where a block of `n` elements at seg:offset (all in one page, see elementsToPageEnd)
 * lies in RAM, or -1 when it must go element by element (device memory, an offset that
 * wraps). Faults come before any device data moves: the page's from the first element
 * (checked by the caller for INS, here for OUTS), the segment limit's from the last one.
 * Translating for a write drops decoded code on the page.
 */
function blockInRam(cpu: Cpu, seg: number, offset: number, size: OperandSize, n: number, addrMask: number, write: boolean): number {
  const last = offset + (n - 1) * size;
  if (last + size - 1 > addrMask) return -1;
  if (!write) cpu.readMemory(seg, offset, size); // the page's fault, as the first element would take it
  const linear = (cpu.segBase[seg] + offset) >>> 0;
  const ram = write ? cpu.memory.ramForWrite(linear, n * size) : cpu.memory.ramForRead(linear);
  if (ram < 0) return -1;
  // The segment limit, on the last element (RAM: accessing it has no side effect).
  if (write) cpu.writeMemory(seg, last, size, cpu.readMemory(seg, last, size));
  else cpu.readMemory(seg, last, size);
  return ram;
}

/**
 * REP INS in page-sized blocks, each fetched from the device in one transfer. The first
 * element's destination is written first (with its old value) so a fault is taken before
 * any device data is consumed; the rest of the block lies in the same page.
 */
function repInsBlocks(cpu: Cpu, size: OperandSize, addrMask: number): void {
  const addrSize = cpu.addrSize;
  const port = cpu.reg16[EDX << 1];
  for (let left = cpu.getReg(addrSize, ECX); left !== 0; left = cpu.getReg(addrSize, ECX)) {
    const di = cpu.getReg(addrSize, EDI);
    const n = elementsToPageEnd(cpu, ES, di, size, left);
    cpu.writeMemory(ES, di, size, cpu.readMemory(ES, di, size));
    const ram = blockInRam(cpu, ES, di, size, n, addrMask, true);
    const data = cpu.bus.ioReadString!(port, size, n);
    if (ram >= 0) {
      cpu.bus.ram.set(data.subarray(0, n * size), ram);
    } else {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < n; i++) {
        const v = size === 1 ? view.getUint8(i) : size === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
        cpu.writeMemory(ES, ((di + i * size) & addrMask) >>> 0, size, v);
      }
    }
    cpu.setReg(addrSize, EDI, ((di + n * size) & addrMask) >>> 0);
    cpu.setReg(addrSize, ECX, left - n);
  }
}

/** REP OUTS in page-sized blocks: the elements are read (faults first), then sent in one transfer. */
function repOutsBlocks(cpu: Cpu, size: OperandSize, srcSeg: number, addrMask: number): void {
  const addrSize = cpu.addrSize;
  const port = cpu.reg16[EDX << 1];
  for (let left = cpu.getReg(addrSize, ECX); left !== 0; left = cpu.getReg(addrSize, ECX)) {
    const si = cpu.getReg(addrSize, ESI);
    const n = elementsToPageEnd(cpu, srcSeg, si, size, left);
    const ram = blockInRam(cpu, srcSeg, si, size, n, addrMask, false);
    let data: Uint8Array;
    if (ram >= 0) {
      data = cpu.bus.ram.slice(ram, ram + n * size);
    } else {
      data = new Uint8Array(n * size);
      const view = new DataView(data.buffer);
      for (let i = 0; i < n; i++) {
        const v = cpu.readMemory(srcSeg, ((si + i * size) & addrMask) >>> 0, size);
        if (size === 1) view.setUint8(i, v);
        else if (size === 2) view.setUint16(i * 2, v, true);
        else view.setUint32(i * 4, v >>> 0, true);
      }
    }
    cpu.bus.ioWriteString!(port, size, data);
    cpu.setReg(addrSize, ESI, ((si + n * size) & addrMask) >>> 0);
    cpu.setReg(addrSize, ECX, left - n);
  }
}

export function installStrings(table: OpcodeTable, quirks: CpuQuirks): void {
  setRange(table, 0xa4, 0xa7, stringInstruction);
  setRange(table, 0xaa, 0xaf, stringInstruction);
  if (!quirks.opcodeAliases8086) setRange(table, 0x6c, 0x6f, stringInstruction);
}
