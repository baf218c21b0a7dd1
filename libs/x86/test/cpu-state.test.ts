import { describe, expect, test } from 'vitest';
import { loadCpuState, saveCpuState } from '../src/index.js';
import { machineWith } from './support/machine.js';

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
    expect(saved.version).toBe(1);
  });

  test('a state from another CPU model is refused', () => {
    const saved = saveCpuState(machineWith([0x90], '8086').cpu);
    expect(() => loadCpuState(machineWith([0x90], '386').cpu, saved)).toThrow(/8086/);
  });
});
