import { describe, expect, test } from 'vitest';
import { ZF } from '../src/flag-bits.js';
import { CPUID_FEATURES, FEATURE_CMOV, FEATURE_CX8, FEATURE_FPU, FEATURE_PGE, FEATURE_PSE, FEATURE_TSC } from '../src/instructions/two-byte/processor-info.js';
import { machineWith } from './support/machine.js';
import { protectedMachine } from './support/protected-machine.js';

const EAX = 0;
const ECX = 1;
const EDX = 2;
const EBX = 3;

describe('i686 instructions', () => {
  test('CPUID: GenuineIntel, family 6, FPU/PSE/TSC/PAE/CX8/PGE/CMOV and no APIC', () => {
    const { cpu } = machineWith([0x0f, 0xa2, 0x66, 0xb8, 1, 0, 0, 0, 0x0f, 0xa2], 'i686');
    cpu.step();
    const vendor = [cpu.reg32[EBX], cpu.reg32[EDX], cpu.reg32[ECX]].map((w) => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24)).join('');
    expect(vendor).toBe('GenuineIntel');
    expect(cpu.reg32[EAX]).toBe(1);
    cpu.run(2);
    expect((cpu.reg32[EAX] >>> 8) & 0xf).toBe(6);
    const features = FEATURE_FPU | FEATURE_PSE | FEATURE_TSC | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV;
    expect(cpu.reg32[EDX] & features).toBe(features);
    expect(cpu.reg32[EDX] & (1 << 6)).toBe(1 << 6); // PAE
    expect(cpu.reg32[EDX] & (1 << 9)).toBe(0); // no local APIC
    expect(CPUID_FEATURES & (1 << 9)).toBe(0);
  });

  test('the 386 model has no CPUID (#UD) and cannot toggle EFLAGS.ID; the i686 can', () => {
    // pushfd; pop eax; xor eax, 200000h; push eax; popfd; pushfd; pop ebx
    const code = [0x66, 0x9c, 0x66, 0x58, 0x66, 0x35, 0, 0, 0x20, 0, 0x66, 0x50, 0x66, 0x9d, 0x66, 0x9c, 0x66, 0x5b];
    for (const [model, toggles] of [['386', false], ['i686', true]] as const) {
      const { cpu } = machineWith(code, model);
      cpu.run(7);
      expect((cpu.reg32[EBX] & 0x200000) !== 0).toBe(toggles);
    }
  });

  test('CMPXCHG stores on equal and loads the accumulator otherwise; XADD exchanges and adds', () => {
    // cmpxchg ecx, edx (0F B1 D1) twice; xadd ecx, edx (0F C1 D1)
    const { cpu } = machineWith([0x66, 0x0f, 0xb1, 0xd1, 0x66, 0x0f, 0xb1, 0xd1, 0x66, 0x0f, 0xc1, 0xd1], 'i686');
    cpu.reg32[EAX] = 5;
    cpu.reg32[ECX] = 5;
    cpu.reg32[EDX] = 9;
    cpu.step();
    expect(cpu.reg32[ECX]).toBe(9);
    expect(cpu.flags.get(ZF)).toBe(ZF);
    cpu.step();
    expect(cpu.reg32[EAX]).toBe(9);
    expect(cpu.flags.get(ZF)).toBe(0);
    cpu.step();
    expect(cpu.reg32[EDX]).toBe(9);
    expect(cpu.reg32[ECX]).toBe(18);
  });

  test('CMPXCHG8B compares EDX:EAX with memory', () => {
    const { cpu, bus } = machineWith([0x0f, 0xc7, 0x0e, 0x00, 0x01, 0x0f, 0xc7, 0x0e, 0x00, 0x01], 'i686'); // cmpxchg8b [0100h] x2
    const at = 0x30000 + 0x100;
    bus.ram.set([1, 0, 0, 0, 2, 0, 0, 0], at);
    cpu.reg32[EAX] = 1;
    cpu.reg32[EDX] = 2;
    cpu.reg32[EBX] = 0xdddddddd;
    cpu.reg32[ECX] = 0xcccccccc;
    cpu.step();
    expect(cpu.flags.get(ZF)).toBe(ZF);
    expect(Array.from(bus.ram.subarray(at, at + 8))).toEqual([0xdd, 0xdd, 0xdd, 0xdd, 0xcc, 0xcc, 0xcc, 0xcc]);
    cpu.step();
    expect(cpu.flags.get(ZF)).toBe(0);
    expect(cpu.reg32[EAX]).toBe(0xdddddddd);
    expect(cpu.reg32[EDX]).toBe(0xcccccccc);
  });

  test('BSWAP and CMOVcc', () => {
    // bswap eax; cmp eax, eax; cmove ebx, eax; cmovne ecx, eax
    const { cpu } = machineWith([0x66, 0x0f, 0xc8, 0x66, 0x39, 0xc0, 0x66, 0x0f, 0x44, 0xd8, 0x66, 0x0f, 0x45, 0xc8], 'i686');
    cpu.reg32[EAX] = 0x11223344;
    cpu.run(4);
    expect(cpu.reg32[EAX]).toBe(0x44332211);
    expect(cpu.reg32[EBX]).toBe(0x44332211);
    expect(cpu.reg32[ECX]).toBe(0);
  });

  test('RDTSC counts retired instructions (or what timeStampSource says); WRMSR to the TSC moves it; an unknown MSR is #GP', () => {
    const { cpu } = machineWith([0x90, 0x90, 0x0f, 0x31, 0x0f, 0x30, 0x0f, 0x31], 'i686');
    cpu.run(3);
    expect(cpu.reg32[EAX]).toBe(2);
    cpu.reg32[ECX] = 0x10;
    cpu.reg32[EAX] = 1000;
    cpu.reg32[EDX] = 0;
    cpu.run(2); // wrmsr at count 3, rdtsc at 4
    expect(cpu.reg32[EAX]).toBe(1001);
    const clocked = machineWith([0x0f, 0x31], 'i686');
    clocked.cpu.timeStampSource = () => 5_000_000_123;
    clocked.cpu.step();
    expect([clocked.cpu.reg32[EDX], clocked.cpu.reg32[EAX]]).toEqual([1, 5_000_000_123 - 2 ** 32]);
    const m = protectedMachine([0x0f, 0x32]); // rdmsr with ECX = 0xdeadbeef
    m.cpu.reg32[ECX] = 0xdeadbeef;
    m.setGate(13);
    m.cpu.run(3);
    expect(m.handlerVector()).toBe(13);
  });

  test('x87 detection: FNINIT, FNSTSW AX gives 0, FNSTCW gives 037Fh, FLDCW changes it', () => {
    // fninit; fnstsw ax; fnstcw [0]; fldcw [2]; fnstcw [4]
    const { cpu, bus } = machineWith([0xdb, 0xe3, 0xdf, 0xe0, 0xd9, 0x3e, 0, 0, 0xd9, 0x2e, 2, 0, 0xd9, 0x3e, 4, 0], 'i686');
    const data = 0x30000;
    bus.ram.set([0x7f, 0x12], data + 2);
    cpu.reg32[EAX] = 0xffff;
    cpu.fpu.statusWord = 0x3800;
    cpu.run(5);
    expect(cpu.reg32[EAX] & 0xffff).toBe(0);
    expect(bus.ram[data] | (bus.ram[data + 1] << 8)).toBe(0x37f);
    expect(bus.ram[data + 4] | (bus.ram[data + 5] << 8)).toBe(0x127f);
  });

  test('an x87 escape with CR0.TS set raises #NM', () => {
    const m = protectedMachine([0xdb, 0xe3]);
    m.cpu.setControlRegister0(m.cpu.cr0 | 8);
    m.setGate(7);
    m.cpu.run(3);
    expect(m.handlerVector()).toBe(7);
  });
});
