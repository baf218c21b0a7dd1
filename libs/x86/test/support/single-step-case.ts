import { Cpu, RamBus } from '../../src/index.js';

/** One test of the SingleStepTests suite (bus-cycle and queue fields are dropped upstream). */
export interface SingleStepCase {
  name: string;
  bytes: number[];
  initial: { regs: RegisterSet; ram: Array<[number, number]> };
  final: { regs: Partial<RegisterSet>; ram: Array<[number, number]> };
}

export interface RegisterSet {
  ax: number;
  bx: number;
  cx: number;
  dx: number;
  cs: number;
  ss: number;
  ds: number;
  es: number;
  sp: number;
  bp: number;
  si: number;
  di: number;
  ip: number;
  flags: number;
}

/** General registers in ModRM order, as named by the suite. */
const GENERAL = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
/** Segment registers in Sreg order. */
const SEGMENTS = ['es', 'cs', 'ss', 'ds'] as const;
const ALL_REGISTERS = [...GENERAL, ...SEGMENTS, 'ip', 'flags'] as const;

const MEMORY_BYTES = 1 << 20;

/**
 * Runs suite cases one after another on a single 8086 with 1 MiB of RAM.
 * RAM touched by a case is cleared afterwards so cases stay independent.
 */
export class SingleStepRunner {
  private readonly bus = new RamBus(MEMORY_BYTES);
  private readonly cpu = new Cpu({ bus: this.bus, model: '8086' });

  /** Returns undefined when the case passes, otherwise a description of the differences. */
  run(testCase: SingleStepCase, flagsMask: number): string | undefined {
    const { cpu, bus } = this;
    const ram = bus.ram;
    try {
      for (const [address, value] of testCase.initial.ram) {
        ram[address] = value;
        cpu.invalidateCode(address, 1); // written behind the CPU's back, like DMA
      }
      this.loadRegisters(testCase.initial.regs);
      cpu.step();
      return this.compare(testCase, flagsMask);
    } finally {
      for (const [address] of testCase.initial.ram) ram[address] = 0;
      for (const [address] of testCase.final.ram) ram[address] = 0;
    }
  }

  private loadRegisters(regs: RegisterSet): void {
    const cpu = this.cpu;
    cpu.reset();
    GENERAL.forEach((name, r) => cpu.setReg(2, r, regs[name]));
    SEGMENTS.forEach((name, seg) => cpu.loadSegment(seg, regs[name]));
    cpu.eip = regs.ip;
    cpu.setFlags(regs.flags, 0xffff);
  }

  private actualRegisters(): RegisterSet {
    const cpu = this.cpu;
    const out = { ip: cpu.eip, flags: cpu.getFlags() } as RegisterSet;
    GENERAL.forEach((name, r) => (out[name] = cpu.getReg(2, r)));
    SEGMENTS.forEach((name, seg) => (out[name] = cpu.segSelector[seg]));
    return out;
  }

  private compare(testCase: SingleStepCase, flagsMask: number): string | undefined {
    const expected: RegisterSet = { ...testCase.initial.regs, ...testCase.final.regs };
    const actual = this.actualRegisters();
    const problems: string[] = [];
    for (const name of ALL_REGISTERS) {
      const mask = name === 'flags' ? flagsMask : 0xffff;
      if ((expected[name] & mask) !== (actual[name] & mask)) {
        problems.push(`${name}: expected ${hex(expected[name] & mask)} got ${hex(actual[name] & mask)}`);
      }
    }
    const flagsImage = pushedFlagsAddresses(testCase, expected);
    const ram = this.bus.ram;
    for (const [address, value] of testCase.final.ram) {
      const imageByte = flagsImage.indexOf(address);
      const mask = imageByte < 0 ? 0xff : (flagsMask >>> (imageByte * 8)) & 0xff;
      if ((ram[address] & mask) !== (value & mask)) {
        problems.push(`ram[${hex(address)}]: expected ${hex(value & mask)} got ${hex(ram[address] & mask)}`);
      }
    }
    return problems.length === 0 ? undefined : `${testCase.name} [${testCase.bytes.map(hex).join(' ')}]: ${problems.join(', ')}`;
  }
}

/**
 * An instruction that ends in an interrupt (INT, or a divide error) pushes
 * FLAGS, CS and IP: SP drops by 6. The pushed FLAGS image holds the same
 * undefined bits that the flags mask hides in the register, so those two
 * stack bytes are compared under the mask too (a no-op for opcodes whose
 * mask is 0xFFFF). Returns [low byte address, high byte address] or [].
 */
function pushedFlagsAddresses(testCase: SingleStepCase, expected: RegisterSet): number[] {
  if (((testCase.initial.regs.sp - 6) & 0xffff) !== expected.sp) return [];
  const flagsOffset = (expected.sp + 4) & 0xffff;
  const low = (expected.ss * 16 + flagsOffset) & 0xfffff;
  const high = (expected.ss * 16 + ((flagsOffset + 1) & 0xffff)) & 0xfffff;
  return [low, high];
}

function hex(n: number): string {
  return n.toString(16).toUpperCase();
}
