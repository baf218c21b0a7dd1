import { expect, test } from 'vitest';
import { StopReason, Vector } from '../src/index.js';
import { protectedMachine } from './support/protected-machine.js';

/** Deterministic values that hit the edges: 0, 1, all ones, sign bits, small and large. */
function values(seed: number, n: number): number[] {
  const edges = [0, 1, 2, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0x10000, 0xffff];
  let state = seed;
  const out = [...edges];
  while (out.length < n) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(state >>> (state & 31));
  }
  return out;
}

// mul/imul/div/idiv ecx; hlt - one machine, restarted at the right instruction for each case.
const m = protectedMachine([0xf7, 0xe1, 0xf4, 0xf7, 0xe9, 0xf4, 0xf7, 0xf1, 0xf4, 0xf7, 0xf9, 0xf4, 0x0f, 0xaf, 0xc1, 0xf4]);
m.setGate(Vector.DivideError);
const start = m.cpu.eip;
const stack = m.cpu.reg32[4];

/** Runs one `op ecx` (F7 /reg) with EDX:EAX and ECX given; returns EDX, EAX, CF|OF or the #DE. */
function run(reg: number, edx: number, eax: number, ecx: number): { edx: number; eax: number; carry: boolean } | 'divide-error' {
  m.cpu.eip = start + (reg - 4) * 3;
  m.cpu.halted = false;
  m.cpu.reg32.fill(0);
  m.cpu.reg32[4] = stack;
  m.cpu.reg32[0] = eax;
  m.cpu.reg32[1] = ecx;
  m.cpu.reg32[2] = edx;
  expect(m.cpu.run(100)).toBe(StopReason.Halted);
  if (m.cpu.eip !== start + (reg - 4) * 3 + 3) return 'divide-error';
  return { edx: m.cpu.reg32[2], eax: m.cpu.reg32[0], carry: (m.cpu.getFlags() & 1) !== 0 };
}

test('IMUL r32, r/m32 keeps the low word and sets CF/OF exactly when the signed product overflows 32 bits', () => {
  for (const a of values(11, 60)) {
    for (const b of values(13, 60)) {
      m.cpu.eip = start + 12;
      m.cpu.halted = false;
      m.cpu.reg32[0] = a;
      m.cpu.reg32[1] = b;
      expect(m.cpu.run(10)).toBe(StopReason.Halted);
      const product = signed32(a) * signed32(b);
      expect(m.cpu.reg32[0], `${a} * ${b}`).toBe(Number(BigInt.asUintN(32, product)));
      expect((m.cpu.getFlags() & 0x801) !== 0, `${a} * ${b} overflow`).toBe(product !== BigInt.asIntN(32, product));
    }
  }
});

const big = (high: number, low: number): bigint => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
const signed64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const signed32 = (v: number): bigint => BigInt(v | 0);

test('MUL/IMUL/DIV/IDIV r32 match 64-bit BigInt arithmetic, edge values included', () => {
  const xs = values(7, 40);
  for (const a of xs) {
    for (const b of xs.slice(0, 20)) {
      const mul = run(4, 0, a, b);
      const product = BigInt(a) * BigInt(b);
      expect(mul, `mul ${a} ${b}`).toEqual({ edx: Number(product >> 32n), eax: Number(product & 0xffffffffn), carry: product >> 32n !== 0n });
      const imul = run(5, 0, a, b);
      const sp = BigInt.asUintN(64, signed32(a) * signed32(b));
      expect(imul, `imul ${a} ${b}`).toMatchObject({ edx: Number(sp >> 32n), eax: Number(sp & 0xffffffffn) });
      for (const high of [0, 1, 0xffffffff, a >>> 3]) {
        const div = run(6, high, a, b);
        const n = big(high, a);
        if (b === 0 || n / BigInt(b) > 0xffffffffn) expect(div, `div ${high}:${a} / ${b}`).toBe('divide-error');
        else expect(div, `div ${high}:${a} / ${b}`).toMatchObject({ eax: Number(n / BigInt(b)), edx: Number(n % BigInt(b)) });
        const idiv = run(7, high, a, b);
        const sn = signed64(n);
        const sd = signed32(b);
        if (sd === 0n || sn / sd > 0x7fffffffn || sn / sd < -0x80000000n) expect(idiv, `idiv ${high}:${a} / ${b}`).toBe('divide-error');
        else expect(idiv, `idiv ${high}:${a} / ${b}`).toMatchObject({ eax: Number(BigInt.asUintN(32, sn / sd)), edx: Number(BigInt.asUintN(32, sn % sd)) });
      }
    }
  }
});
