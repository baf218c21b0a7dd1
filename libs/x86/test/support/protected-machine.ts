import type { MessagePort } from 'node:worker_threads';
import { Cpu, RamBus } from '../../src/index.js';
import { farJump } from '../../src/instructions/far-transfer.js';
import { DS, ES, ESP, SS } from '../../src/registers.js';

/** Where the protected-mode test machine keeps its tables, code and stacks (all identity-mapped, flat). */
export const GDT = 0x1000;
export const IDT = 0x2000;
export const TSS = 0x3000;
/** A second 32-bit TSS (no I/O bitmap), for task-switch tests. */
export const TSS2 = 0x3400;
/** Limit of the first TSS: the fixed part and an I/O bitmap for ports 0-0xFFFF... up to 0x1FFF. */
export const TSS_LIMIT = 0x67 + 0x2000 / 8 + 1;
export const LDT = 0x3800;
export const CODE = 0x10000;
export const STACK0_TOP = 0x20000;
/** ESP0 in the TSS: where a ring 3 -> ring 0 transfer puts the kernel stack. */
export const KERNEL_STACK_TOP = 0x28000;
export const USER_CODE = 0x30000;
export const USER_STACK_TOP = 0x40000;
/** Exception and interrupt handlers: vector n lives at HANDLERS + n * 16 (each a HLT). */
export const HANDLERS = 0x50000;

/** GDT layout. */
export const SEL = {
  code0: 0x08,
  data0: 0x10,
  code3: 0x1b,
  data3: 0x23,
  tss: 0x28,
  /** 16-bit code, base CODE, limit 64 KiB. */
  code16: 0x30,
  ldt: 0x38,
  notPresent: 0x40,
  callGate3: 0x4b,
  readOnly: 0x50,
  tss2: 0x58,
  beyondLimit: 0x100,
} as const;
const GDT_ENTRIES = 12;

/** Access bytes. */
export const CODE_RING0 = 0x9a;
export const DATA_RING0 = 0x92;
export const CODE_RING3 = 0xfa;
export const DATA_RING3 = 0xf2;
export const INTERRUPT_GATE = 0xe;
export const TRAP_GATE = 0xf;
export const CALL_GATE = 0xc;

/** Descriptor dwords for a segment; `flags` is the G/D/L/AVL nibble (default: 4 KiB granular, 32-bit). */
export function segment(base: number, limit: number, access: number, flags = 0xc): [number, number] {
  const low = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const high = (((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000)) >>> 0;
  return [low, high];
}

/** Descriptor dwords for an interrupt/trap/call gate (present). */
export function gate(selector: number, offset: number, type: number, dpl: number, parameters = 0): [number, number] {
  const low = ((offset & 0xffff) | (selector << 16)) >>> 0;
  const high = ((offset & 0xffff0000) | ((0x80 | (dpl << 5) | type) << 8) | parameters) >>> 0;
  return [low, high];
}

export function put32(ram: Uint8Array, address: number, value: number): void {
  new DataView(ram.buffer, ram.byteOffset).setUint32(address, value >>> 0, true);
}

export function get32(ram: Uint8Array, address: number): number {
  return new DataView(ram.buffer, ram.byteOffset).getUint32(address, true);
}

export function putDescriptor(ram: Uint8Array, table: number, selector: number, [low, high]: [number, number]): void {
  put32(ram, table + (selector & 0xfff8), low);
  put32(ram, table + (selector & 0xfff8) + 4, high);
}

export interface ProtectedMachine {
  cpu: Cpu;
  bus: RamBus;
  ram: Uint8Array;
  portWrites: Array<[number, number, number]>;
  /** Points IDT entry `vector` at a gate (default: ring-0 32-bit interrupt gate to its HLT stub, DPL 0). */
  setGate(vector: number, type?: number, dpl?: number, offset?: number): void;
  /** Which handler stub the CPU is in (vector), or -1. */
  handlerVector(): number;
}

/**
 * A CPU already in 32-bit protected mode at ring 0 (flat code/data, a TSS
 * loaded with ESP0 = KERNEL_STACK_TOP, an empty IDT of 256 not-present
 * entries), `code` at CODE, the stack at STACK0_TOP.
 */
export function protectedMachine(code: number[], options: { userCode?: number[]; model?: 'i686' | '386'; decodedCache?: boolean; jitThreshold?: number; wasmJit?: boolean; wasmCompileService?: MessagePort } = {}): ProtectedMachine {
  const portWrites: Array<[number, number, number]> = [];
  const bus = new RamBus(8 << 20, {
    ioRead: (port) => port & 0xff,
    ioWrite: (port, size, value) => portWrites.push([port, size, value]),
  }, { wasm: options.wasmJit === true });
  const ram = bus.ram;
  putDescriptor(ram, GDT, SEL.code0, segment(0, 0xfffff, CODE_RING0));
  putDescriptor(ram, GDT, SEL.data0, segment(0, 0xfffff, DATA_RING0));
  putDescriptor(ram, GDT, SEL.code3, segment(0, 0xfffff, CODE_RING3));
  putDescriptor(ram, GDT, SEL.data3, segment(0, 0xfffff, DATA_RING3));
  putDescriptor(ram, GDT, SEL.tss, segment(TSS, TSS_LIMIT, 0x8b, 0)); // busy: it is the loaded TR
  putDescriptor(ram, GDT, SEL.tss2, segment(TSS2, 0x67, 0x89, 0));
  putDescriptor(ram, GDT, SEL.code16, segment(CODE, 0xffff, CODE_RING0, 0));
  putDescriptor(ram, GDT, SEL.ldt, segment(LDT, 0x17, 0x82, 0));
  putDescriptor(ram, GDT, SEL.notPresent, segment(0, 0xfffff, DATA_RING0 & 0x7f));
  putDescriptor(ram, GDT, SEL.readOnly, segment(0x60000, 0xfff, 0x90, 0));
  put32(ram, TSS + 4, KERNEL_STACK_TOP); // ESP0
  put32(ram, TSS + 8, SEL.data0); // SS0
  ram[TSS + 0x66] = 0x68; // I/O bitmap right after the fixed part: ports 0-0xffff, all allowed (zeros)
  for (let v = 0; v < 256; v++) ram[HANDLERS + v * 16] = 0xf4; // hlt
  ram.set(code, CODE);
  if (options.userCode) ram.set(options.userCode, USER_CODE);

  const cpu = new Cpu({ bus, model: options.model ?? 'i686', decodedCache: options.decodedCache, jitThreshold: options.jitThreshold, wasmJit: options.wasmJit, wasmCompileService: options.wasmCompileService });
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = GDT_ENTRIES * 8 - 1;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 256 * 8 - 1;
  cpu.setControlRegister0(cpu.cr0 | 1);
  farJump(cpu, SEL.code0, CODE);
  cpu.loadSegment(SS, SEL.data0);
  cpu.loadSegment(DS, SEL.data0);
  cpu.loadSegment(ES, SEL.data0);
  cpu.reg32[ESP] = STACK0_TOP;
  cpu.tr.set(SEL.tss, TSS, TSS_LIMIT, 0x8b);

  const setGate = (vector: number, type = INTERRUPT_GATE, dpl = 0, offset = HANDLERS + vector * 16): void => {
    putDescriptor(ram, IDT, vector * 8, gate(SEL.code0, offset, type, dpl));
  };
  const handlerVector = (): number => {
    const at = cpu.segBase[1] + cpu.eip - HANDLERS;
    return at > 0 && at <= 256 * 16 && cpu.halted ? Math.floor((at - 1) / 16) : -1;
  };
  return { cpu, bus, ram, portWrites, setGate, handlerVector };
}

/** Bytes that IRET from ring 0 to USER_CODE at ring 3 (pushes SS, ESP, EFLAGS, CS, EIP; then iretd). */
export function enterRing3(eflags = 0x202): number[] {
  const push32 = (v: number) => [0x68, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  return [...push32(SEL.data3), ...push32(USER_STACK_TOP), ...push32(eflags), ...push32(SEL.code3), ...push32(USER_CODE), 0xcf];
}
