import { afterEach, describe, expect, it } from 'vitest';
import { Kvm } from '../src/index.js';
import { budgetMs, calibration } from './support/calibration.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { TestMachine } from './support/test-machine.js';

const PORT = 0x80;
const ROUNDS = 2_000;
const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

describe('pio-loop under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  const budget = budgetMs({ exits: 2 * ROUNDS + 200 });

  it('every out reaches the handler with its byte and every in returns the handler value', () => {
    machine = new TestMachine({ guest: 'pio-loop', params: { param0: ROUNDS, param1: PORT } });
    const written: number[] = [];
    let latch = 0;
    machine.onIo = (run) => {
      if (run.ioPort !== PORT || run.ioSize !== 1 || run.ioCount !== 1) return false;
      if (run.ioIsOut) written.push((latch = run.ioValue()));
      else run.setIoValue(latch);
      return true;
    };
    const start = performance.now();
    expect(machine.runSync(budget)).toBe('hlt');
    const ms = performance.now() - start;

    expect(written).toHaveLength(ROUNDS);
    expect(written.slice(0, 3)).toEqual([ROUNDS & 0xff, (ROUNDS - 1) & 0xff, (ROUNDS - 2) & 0xff]);
    let sum = 0;
    for (let i = 1; i <= ROUNDS; i++) sum += i & 0xff;
    expect(machine.lines).toEqual(['pio-loop: start', `pio-loop: rounds=${hex(ROUNDS)} sum=${hex(sum)}`]);

    const perExitMicros = (ms * 1000) / machine.ioExitCount;
    console.log(
      `port-I/O exit round trip: ${perExitMicros.toFixed(2)} us (${machine.ioExitCount} exits in ${ms.toFixed(1)} ms, ` +
        `backend ${Kvm.backendModules().join(',') || 'unknown'}; calibration ${calibration?.exitMicros.toFixed(2)} us, ` +
        `${((calibration?.instructionsPerSecond ?? 0) / 1e6).toFixed(2)} M guest instructions/s)`,
    );
  }, budget + 5_000);

  it('an unclaimed port reads all ones', () => {
    machine = new TestMachine({ guest: 'pio-loop', params: { param0: 50, param1: 0x402 } });
    expect(machine.runSync(budget)).toBe('hlt');
    expect(machine.lines[1]).toBe(`pio-loop: rounds=${hex(50)} sum=${hex(50 * 0xff)}`);
  }, budget + 5_000);
});
