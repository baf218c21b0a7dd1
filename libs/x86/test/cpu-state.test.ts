import { describe, expect, test } from 'vitest';
import { loadCpuState, saveCpuState } from '../src/index.js';
import { machineWith } from './support/machine.js';
import { enterRing3, protectedMachine, put32 } from './support/protected-machine.js';

describe('CPU state save/restore', () => {
  test('snapshot, change, restore: the two snapshots are equal and execution resumes identically', () => {
    // inc ax; add bx, ax; shl bx, 1; jmp 0
    const code = [0x40, 0x01, 0xc3, 0xd1, 0xe3, 0xeb, 0xf9];
    const { cpu } = machineWith(code);
    cpu.run(5);
    cpu.raiseInterrupt(0x30); // queued: IF is clear
    const saved = saveCpuState(cpu);
    cpu.run(7);
    cpu.loadSegment(3, 0x4444);
    expect(saveCpuState(cpu)).not.toEqual(saved);
    loadCpuState(cpu, saved);
    expect(saveCpuState(cpu)).toEqual(saved);
    cpu.run(7);
    const again = machineWith(code).cpu;
    loadCpuState(again, saved);
    again.run(7);
    expect(saveCpuState(again)).toEqual(saveCpuState(cpu));
  });

  test('the saved state is plain JSON and names its version', () => {
    const { cpu } = machineWith([0x90]);
    const saved = saveCpuState(cpu);
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
    expect(saved.version).toBe(2);
  });

  test('a state from another CPU model is refused', () => {
    const saved = saveCpuState(machineWith([0x90], '8086').cpu);
    expect(() => loadCpuState(machineWith([0x90], '386').cpu, saved)).toThrow(/8086/);
  });

  test('protected mode at ring 3 with paging on: restore into a fresh CPU resumes identically', () => {
    const user = [0x40, 0x01, 0xc3, 0xeb, 0xfb]; // inc eax; add ebx, eax; jmp -5
    const a = protectedMachine(enterRing3(), { userCode: user });
    const pd = 0x80000;
    for (let page = 0; page < 1024; page++) put32(a.ram, 0x81000 + page * 4, (page << 12) | 7); // first 4 MiB identity, user r/w
    put32(a.ram, pd, 0x81000 | 7);
    a.cpu.setControlRegister3(pd);
    a.cpu.setControlRegister0((a.cpu.cr0 | 0x80000000) >>> 0);
    a.cpu.run(20);
    const saved = saveCpuState(a.cpu);
    expect(saved.cpl).toBe(3);
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
    const b = protectedMachine([], { userCode: user });
    b.ram.set(a.ram);
    loadCpuState(b.cpu, saved);
    expect(saveCpuState(b.cpu)).toEqual(saved);
    a.cpu.run(50);
    b.cpu.run(50);
    expect(saveCpuState(b.cpu)).toEqual(saveCpuState(a.cpu));
    expect(b.cpu.codeSize).toBe(4);
  });
});
