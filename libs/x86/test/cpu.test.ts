import { describe, expect, test } from 'vitest';
import { Cpu, RamBus, StopReason } from '../src/index.js';
import { IF, TF } from '../src/flag-bits.js';
import { machineWith, setVector, CODE_SEGMENT, DATA_SEGMENT } from './support/machine.js';

const AX = 0;
const CX = 1;
const SP = 4;
const DI = 7;

describe('Cpu run loop', () => {
  test('stops at HLT and counts instructions', () => {
    const { cpu } = machineWith([0xb8, 0x34, 0x12, 0x40, 0xf4]); // mov ax,1234h; inc ax; hlt
    expect(cpu.run(100)).toBe(StopReason.Halted);
    expect(cpu.getReg(2, AX)).toBe(0x1235);
    expect(cpu.instructionCount).toBe(3);
    expect(cpu.run(100)).toBe(StopReason.Halted); // stays halted without an interrupt
    expect(cpu.instructionCount).toBe(3);
  });

  test('stops when the instruction budget is used up', () => {
    const { cpu } = machineWith([0xeb, 0xfe]); // jmp $
    expect(cpu.run(1000)).toBe(StopReason.InstructionLimit);
    expect(cpu.instructionCount).toBe(1000);
  });

  test('an external interrupt wakes HLT and goes through the IVT', () => {
    const { cpu, bus } = machineWith([0xfb, 0xf4, 0x90]); // sti; hlt; nop
    bus.ram.set([0xcf], 0x5000 * 16); // iret
    setVector(bus, 0x08, 0x5000, 0);
    expect(cpu.run(10)).toBe(StopReason.Halted);
    cpu.raiseInterrupt(0x08);
    cpu.run(1); // takes the interrupt, runs IRET
    expect(cpu.segSelector[1]).toBe(CODE_SEGMENT);
    expect(cpu.eip).toBe(2); // back after the HLT
  });

  test('interrupts wait while IF is clear and for one instruction after STI', () => {
    const { cpu, bus } = machineWith([0x90, 0xfb, 0x90, 0x90]); // nop; sti; nop; nop
    setVector(bus, 0x20, 0x5000, 0x10);
    cpu.setFlags(0, IF);
    cpu.raiseInterrupt(0x20);
    cpu.run(2); // nop, sti: not taken
    expect(cpu.segSelector[1]).toBe(CODE_SEGMENT);
    cpu.run(1); // the nop in the STI shadow runs
    expect(cpu.eip).toBe(3);
    cpu.run(1); // now taken, then the handler's first instruction runs
    expect(cpu.segSelector[1]).toBe(0x5000);
    expect(cpu.peekStack(2, 0)).toBe(3);
  });

  test('with TF set, each instruction is followed by a single-step trap, but INT n is not', () => {
    const { cpu, bus } = machineWith([0x90, 0xcd, 0x21]); // nop; int 21h
    setVector(bus, 1, 0x5000, 0);
    setVector(bus, 0x21, 0x6000, 0);
    cpu.setFlags(TF, TF);
    cpu.step();
    expect(cpu.segSelector[1]).toBe(0x5000);
    expect(cpu.peekStack(2, 0)).toBe(1);
    cpu.loadSegment(1, CODE_SEGMENT);
    cpu.eip = 1;
    cpu.setFlags(TF, TF);
    cpu.step();
    expect(cpu.segSelector[1]).toBe(0x6000);
    expect(cpu.eip).toBe(0);
  });

  test('REP STOSB completes in one step and counts each element as an instruction retired (guest time moves on)', () => {
    const { cpu, bus } = machineWith([0xf3, 0xaa]); // rep stosb
    cpu.setReg(1, AX, 0x5a);
    cpu.setReg(2, CX, 300);
    cpu.setReg(2, DI, 0x10);
    cpu.step();
    expect(cpu.instructionCount).toBe(300);
    expect(cpu.getReg(2, CX)).toBe(0);
    expect(cpu.getReg(2, DI)).toBe(0x10 + 300);
    const base = DATA_SEGMENT * 16 + 0x10;
    expect(bus.ram[base]).toBe(0x5a);
    expect(bus.ram[base + 299]).toBe(0x5a);
    expect(bus.ram[base + 300]).toBe(0);
  });

  test('two CPUs on separate buses do not share state', () => {
    const a = machineWith([0x40, 0xf4]); // inc ax; hlt
    const b = machineWith([0x48, 0xf4]); // dec ax; hlt
    a.cpu.run(10);
    b.cpu.run(10);
    expect(a.cpu.getReg(2, AX)).toBe(1);
    expect(b.cpu.getReg(2, AX)).toBe(0xffff);
  });
});

describe('Cpu bus access', () => {
  test('port I/O goes to the bus', () => {
    const { cpu, portWrites } = machineWith([0xb0, 0x42, 0xe6, 0x80, 0xe4, 0x71]); // mov al,42h; out 80h,al; in al,71h
    cpu.run(3);
    expect(portWrites).toEqual([[0x80, 1, 0x42]]);
    expect(cpu.getReg(1, AX)).toBe(0x71);
  });

  test('writes to a device window reach the MMIO handler, not RAM', () => {
    const { cpu, bus } = machineWith([0xa3, 0x00, 0x80]); // mov [8000h], ax  with DS = A000h
    const seen: Array<[number, number, number]> = [];
    bus.mapMmio(0xa0000, 0x20000, { read: () => 0, write: (a, s, v) => seen.push([a, s, v]) });
    cpu.loadSegment(3, 0xa000);
    cpu.setReg(2, AX, 0xbeef);
    cpu.step();
    expect(seen).toEqual([[0xa8000, 2, 0xbeef]]);
    expect(bus.ram[0xa8000]).toBe(0);
  });

  test('with the A20 gate closed, addresses above 1 MiB wrap', () => {
    const { cpu, bus } = machineWith([0xa2, 0x20, 0x00]); // mov [0020h], al  with DS = FFFFh
    cpu.loadSegment(3, 0xffff);
    cpu.setReg(1, AX, 0x77);
    bus.a20Mask = ~(1 << 20);
    cpu.step();
    expect(bus.ram[0x10]).toBe(0x77); // FFFF0 + 20 = 100010 -> 000010
  });
});

describe('model differences', () => {
  test('PUSH SP: the 8086 pushes the decremented value, the 386 the original', () => {
    for (const [model, expected] of [['8086', 0xfffc], ['386', 0xfffe]] as const) {
      const { cpu } = machineWith([0x54], model);
      cpu.step();
      expect(cpu.getReg(2, SP)).toBe(0xfffc);
      expect(cpu.peekStack(2, 0)).toBe(expected);
    }
  });

  test('shift counts are masked to 5 bits on the 386 only', () => {
    for (const [model, expected] of [['8086', 0], ['386', 2]] as const) {
      const { cpu } = machineWith([0xd3, 0xe0], model); // shl ax, cl
      cpu.setReg(2, AX, 1);
      cpu.setReg(1, CX, 33);
      cpu.step();
      expect(cpu.getReg(2, AX)).toBe(expected);
    }
  });

  test('divide error: the 8086 returns past DIV, the 386 to the DIV itself', () => {
    for (const [model, expected] of [['8086', 2], ['386', 0]] as const) {
      const { cpu, bus } = machineWith([0xf6, 0xf1], model); // div cl, with CL = 0
      setVector(bus, 0, 0x5000, 0);
      cpu.step();
      expect(cpu.segSelector[1]).toBe(0x5000);
      expect(cpu.peekStack(2, 0)).toBe(expected);
    }
  });

  test('IDIV giving -128: divide error on the 8086, a valid quotient on the 386', () => {
    for (const [model, faults] of [['8086', true], ['386', false]] as const) {
      const { cpu, bus } = machineWith([0xf6, 0xf9], model); // idiv cl
      setVector(bus, 0, 0x5000, 0);
      cpu.setReg(2, AX, 0xff00); // -256
      cpu.setReg(1, CX, 2);
      cpu.step();
      expect(cpu.segSelector[1] === 0x5000).toBe(faults);
      if (!faults) expect(cpu.getReg(1, AX)).toBe(0x80);
    }
  });

  test('386: BOUND raises #BR with the faulting instruction as return address', () => {
    const { cpu, bus } = machineWith([0x62, 0x06, 0x00, 0x00, 0x62, 0x06, 0x00, 0x00]); // bound ax, [0000h] twice
    setVector(bus, 5, 0x5000, 0);
    bus.ram.set([0xfe, 0xff, 0x10, 0x00], DATA_SEGMENT * 16); // bounds -2 .. 16
    cpu.setReg(2, AX, 0xfffe);
    cpu.step();
    expect(cpu.eip).toBe(4);
    cpu.setReg(2, AX, 17);
    cpu.step();
    expect(cpu.segSelector[1]).toBe(0x5000);
    expect(cpu.peekStack(2, 0)).toBe(4);
  });

  test('POPF cannot set VM or RF on the 386', () => {
    const { cpu } = machineWith([0x66, 0x9d]); // popfd
    cpu.push(4, 0x30000 | 0x0001);
    cpu.step();
    expect(cpu.getFlags() & 0x30001).toBe(0x0001);
  });

  test('386: operand-size prefix and 32-bit SIB addressing', () => {
    // mov eax, 12345678h; mov [ebx+ecx*4+8], eax  (67 66 89 44 8B 08)
    const { cpu, bus } = machineWith([0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x67, 0x66, 0x89, 0x44, 0x8b, 0x08]);
    cpu.setReg(4, 3, 0x100);
    cpu.setReg(4, CX, 2);
    cpu.run(2);
    expect(cpu.getReg(4, AX)).toBe(0x12345678);
    const at = DATA_SEGMENT * 16 + 0x100 + 8 + 8;
    expect(Array.from(bus.ram.subarray(at, at + 4))).toEqual([0x78, 0x56, 0x34, 0x12]);
  });

  test('the 386 faults on a word access at offset FFFFh, the 8086 wraps', () => {
    const code = [0xa1, 0xff, 0xff]; // mov ax, [FFFFh]
    const old = machineWith(code, '8086');
    old.bus.ram[DATA_SEGMENT * 16 + 0xffff] = 0x34;
    old.bus.ram[DATA_SEGMENT * 16] = 0x12;
    old.cpu.step();
    expect(old.cpu.getReg(2, AX)).toBe(0x1234);
    const newer = machineWith(code, '386');
    setVector(newer.bus, 13, 0x5000, 0);
    newer.cpu.step();
    expect(newer.cpu.segSelector[1]).toBe(0x5000);
  });
});

test('a fresh 386 starts at the reset vector', () => {
  const cpu = new Cpu({ bus: new RamBus(1 << 20) });
  expect(cpu.segSelector[1]).toBe(0xf000);
  expect(cpu.segBase[1]).toBe(0xffff0000);
  expect(cpu.eip).toBe(0xfff0);
});
