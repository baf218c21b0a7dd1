import { afterEach, describe, expect, it } from 'vitest';
import { budgetMs, CPU_LOOP_INSTRUCTIONS_PER_ITERATION } from './support/calibration.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { TestMachine } from './support/test-machine.js';

const ITERATIONS = 50_000;
const SEED = 0x2545f491;
const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** The guest's computation, in JS: xorshift32 steps and their sum mod 2^32. */
function expected(iterations: number, seed: number): { x: number; sum: number } {
  let x = seed >>> 0;
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    sum = (sum + x) >>> 0;
  }
  return { x, sum };
}

describe('cpu-loop under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  const budget = budgetMs({ instructions: ITERATIONS * CPU_LOOP_INSTRUCTIONS_PER_ITERATION, exits: 300 });

  it('computes the same xorshift32 checksum as JavaScript', () => {
    machine = new TestMachine({ guest: 'cpu-loop', params: { param0: ITERATIONS, param1: SEED } });
    expect(machine.runSync(budget)).toBe('hlt');
    const { x, sum } = expected(ITERATIONS, SEED);
    expect(machine.lines).toEqual(['cpu-loop: start', `cpu-loop: iterations=${hex(ITERATIONS)} x=${hex(x)} sum=${hex(sum)}`]);
  }, budget + 5_000);
});
