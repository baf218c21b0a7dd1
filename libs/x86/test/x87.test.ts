import { describe, expect, test } from 'vitest';
import { loadCpuState, saveCpuState } from '../src/index.js';
import { CF, ZF } from '../src/flag-bits.js';
import { machineWith } from './support/machine.js';

/** Data segment 3000h; operands at DS:0, DS:8, results at DS:10h. */
const DATA = 0x30000;

function machine(code: number[]) {
  const m = machineWith(code, 'i686');
  const view = new DataView(m.bus.ram.buffer);
  return { ...m, view };
}

describe('x87 arithmetic (double precision)', () => {
  test('FLD m64 twice, FSUBP and FDIVRP operand order, FSTP m64', () => {
    // fld qword [0]; fld qword [8]; fsubp st1, st0; fstp qword [10h]
    const sub = machine([0xdd, 0x06, 0, 0, 0xdd, 0x06, 8, 0, 0xde, 0xe9, 0xdd, 0x1e, 0x10, 0]);
    sub.view.setFloat64(DATA, 10, true);
    sub.view.setFloat64(DATA + 8, 4, true);
    sub.cpu.run(4);
    expect(sub.view.getFloat64(DATA + 0x10, true)).toBe(6);
    // same with fdivrp st1, st0: ST(1) = ST(0) / ST(1)
    const div = machine([0xdd, 0x06, 0, 0, 0xdd, 0x06, 8, 0, 0xde, 0xf1, 0xdd, 0x1e, 0x10, 0]);
    div.view.setFloat64(DATA, 10, true);
    div.view.setFloat64(DATA + 8, 4, true);
    div.cpu.run(4);
    expect(div.view.getFloat64(DATA + 0x10, true)).toBe(0.4);
    expect(div.cpu.fpu.tagWord).toBe(0xffff); // everything popped again
  });

  test('FIST rounds by the control word: 3.5 stores 4 to nearest-even, 3 when truncating', () => {
    // fild dword [0]; fild dword [4]; fdivp st1, st0; fistp dword [10h]
    const code = [0xdb, 0x06, 0, 0, 0xdb, 0x06, 4, 0, 0xde, 0xf9, 0xdb, 0x1e, 0x10, 0];
    for (const [control, expected] of [[0x037f, 4], [0x0f7f, 3]] as const) {
      const m = machine(code);
      m.view.setInt32(DATA, 7, true);
      m.view.setInt32(DATA + 4, 2, true);
      m.cpu.fpu.controlWord = control;
      m.cpu.run(4);
      expect(m.view.getInt32(DATA + 0x10, true)).toBe(expected);
    }
  });

  test('FCOM + FNSTSW AX + SAHF and FCOMIP report the comparison', () => {
    // fld1; fldz; fcom st1; fnstsw ax; sahf; fcomip st1
    const m = machine([0xd9, 0xe8, 0xd9, 0xee, 0xd8, 0xd1, 0xdf, 0xe0, 0x9e, 0xdf, 0xf1]);
    m.cpu.run(5);
    expect(m.cpu.flags.get(CF)).toBe(CF); // 0 < 1: C0 -> CF
    expect(m.cpu.flags.get(ZF)).toBe(0);
    m.cpu.flags.assign(CF | ZF, ZF);
    m.cpu.step();
    expect(m.cpu.flags.get(CF | ZF)).toBe(CF);
    expect(m.cpu.fpu.get(0)).toBe(1);
  });

  test('constants, FSQRT, FXCH, FCHS', () => {
    // fldpi; fld1; fadd st0, st0; fsqrt; fxch st1; fchs
    const m = machine([0xd9, 0xeb, 0xd9, 0xe8, 0xd8, 0xc0, 0xd9, 0xfa, 0xd9, 0xc9, 0xd9, 0xe0]);
    m.cpu.run(6);
    expect(m.cpu.fpu.get(0)).toBe(-Math.PI);
    expect(m.cpu.fpu.get(1)).toBe(Math.SQRT2);
  });

  test('FLD m80 and FSTP m80 round-trip the extended format', () => {
    const m = machine([0xdb, 0x2e, 0, 0, 0xdb, 0x3e, 0x10, 0]); // fld tword [0]; fstp tword [10h]
    const bytes = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xbf]; // -1.5
    m.bus.ram.set(bytes, DATA);
    m.cpu.step();
    expect(m.cpu.fpu.get(0)).toBe(-1.5);
    m.cpu.step();
    expect(Array.from(m.bus.ram.subarray(DATA + 0x10, DATA + 0x1a))).toEqual(bytes);
  });

  test('FNSAVE empties the FPU and FRSTOR brings the registers back', () => {
    // fld1; fldpi; fnsave [20h]; frstor [20h]
    const m = machine([0xd9, 0xe8, 0xd9, 0xeb, 0xdd, 0x36, 0x20, 0, 0xdd, 0x26, 0x20, 0]);
    m.cpu.run(3);
    expect(m.cpu.fpu.tagWord).toBe(0xffff);
    m.cpu.step();
    expect(m.cpu.fpu.get(0)).toBe(Math.PI);
    expect(m.cpu.fpu.get(1)).toBe(1);
  });

  test('the register file survives save/restore as JSON, NaN and -0 included', () => {
    const a = machine([0xd9, 0xee, 0xd9, 0xe0, 0xd9, 0xe8]); // fldz; fchs; fld1
    a.cpu.run(3);
    a.cpu.fpu.set(2, NaN);
    const saved = JSON.parse(JSON.stringify(saveCpuState(a.cpu)));
    const b = machine([]);
    loadCpuState(b.cpu, saved);
    expect(b.cpu.fpu.get(0)).toBe(1);
    expect(Object.is(b.cpu.fpu.get(1), -0)).toBe(true);
    expect(b.cpu.fpu.get(2)).toBeNaN();
    expect(b.cpu.fpu.statusWord).toBe(a.cpu.fpu.statusWord);
  });
});
