import { describe, expect, test } from 'vitest';
import { AF, CF, OF, PF, SF, ZF } from '../src/flag-bits.js';
import { FlagOp, LazyFlags } from '../src/lazy-flags.js';
import { aluOperation, ADC, ADD, decrement, increment, SUB, SBB } from '../src/ops/alu.js';

const ARITH = CF | PF | AF | ZF | SF | OF;

describe('LazyFlags', () => {
  test('ADD 0xFF + 1 (byte) sets CF, ZF, AF, PF and clears SF, OF', () => {
    const flags = new LazyFlags();
    expect(aluOperation(flags, ADD, 0xff, 1, 1)).toBe(0);
    expect(flags.value & ARITH).toBe(CF | ZF | AF | PF);
  });

  test('ADD 0x7FFF + 1 (word) signals signed overflow', () => {
    const flags = new LazyFlags();
    expect(aluOperation(flags, ADD, 0x7fff, 1, 2)).toBe(0x8000);
    expect(flags.get(OF | SF | CF)).toBe(OF | SF);
  });

  test('SUB 0 - 1 (dword) borrows and is negative', () => {
    const flags = new LazyFlags();
    expect(aluOperation(flags, SUB, 0, 1, 4)).toBe(0xffffffff);
    expect(flags.get(CF | SF | ZF | OF)).toBe(CF | SF);
  });

  test('ADC and SBB use the carry of the previous operation', () => {
    const flags = new LazyFlags();
    aluOperation(flags, ADD, 0xffffffff, 1, 4); // CF = 1
    expect(aluOperation(flags, ADC, 0, 0, 4)).toBe(1);
    aluOperation(flags, SUB, 0, 1, 2); // CF = 1
    expect(aluOperation(flags, SBB, 5, 1, 2)).toBe(3);
  });

  test('INC and DEC keep the carry of an earlier lazy operation', () => {
    const flags = new LazyFlags();
    aluOperation(flags, ADD, 0xff, 1, 1); // CF = 1, still pending
    expect(increment(flags, 0x7f, 1)).toBe(0x80);
    expect(flags.get(CF | OF | SF)).toBe(CF | OF | SF);
    aluOperation(flags, ADD, 1, 1, 1); // CF = 0
    expect(decrement(flags, 0, 1)).toBe(0xff);
    expect(flags.get(CF)).toBe(0);
  });

  test('reading a mix of pending and assigned bits works', () => {
    const flags = new LazyFlags();
    flags.record(FlagOp.Logic, 0, 0, 0, 2);
    flags.assign(CF, CF);
    expect(flags.get(CF | ZF)).toBe(CF | ZF);
  });
});
