import { afterEach, describe, expect, it } from 'vitest';
import { ExitReason, kickThread } from '../src/index.js';
import { budgetMs, calibration } from './support/calibration.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { busyVcpuThread } from './support/kvm-run-thread.js';
import { TestMachine } from './support/test-machine.js';

/** Spin iterations (2 instructions each) that take about two seconds on this host. */
const SPIN = Math.min(0xffff_ffff, Math.round(calibration ? calibration.instructionsPerSecond : 1e6));
const SPIN_INSTRUCTIONS = 2 * SPIN;
describe('two-lines: pause and resume between the lines', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());
  const budget = budgetMs({ instructions: SPIN_INSTRUCTIONS, exits: 200 });

  it('a vCPU not re-entered stays paused after the first line and resumes to print the second', async () => {
    machine = new TestMachine({ guest: 'two-lines', params: { param0: 1000 } });
    const m = machine;
    expect(m.runSync(budget, () => m.lines.length === 1)).toBe('until');
    const pausedAt = m.vcpu.getRegs();
    await new Promise((r) => setTimeout(r, 100));
    expect(m.vcpu.getRegs()).toEqual(pausedAt);
    expect(m.lines).toEqual(['two-lines: first']);

    expect(m.runSync(budget)).toBe('hlt');
    expect(m.lines).toEqual(['two-lines: first', 'two-lines: second']);
  }, budget + 5_000);

  it('a vCPU kicked mid-spin returns INTR, stays paused, then resumes where it was', async () => {
    machine = new TestMachine({ guest: 'two-lines', params: { param0: SPIN } });
    const m = machine;
    expect(await m.runAsync(budget, () => m.lines.length === 1)).toBe('until');

    const spinning = m.vcpu.runAsync(); // no exits until the spin ends
    kickThread(await busyVcpuThread());
    expect(await spinning).toBe(ExitReason.INTR);

    const pausedAt = m.vcpu.getRegs().rcx;
    expect(pausedAt).toBeGreaterThan(0);
    expect(pausedAt).toBeLessThan(SPIN);
    await new Promise((r) => setTimeout(r, 100));
    expect(m.vcpu.getRegs().rcx).toBe(pausedAt);
    expect(m.lines).toEqual(['two-lines: first']);

    expect(await m.runAsync(budget)).toBe('hlt');
    expect(m.lines).toEqual(['two-lines: first', 'two-lines: second']);
  }, 2 * budget + 10_000);
});
