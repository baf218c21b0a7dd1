/**
 * How fast this host runs the test guests, measured once per test file, so time budgets
 * follow the machine (kvm_pvm emulates real mode at a few million instructions per
 * second; hardware KVM is orders of magnitude faster; the CPU may be shared).
 */
import { kvmAvailable } from './kvm-available.js';
import { TestMachine } from './test-machine.js';

export interface Calibration {
  /** Wall time of one port-I/O exit round trip (KVM_RUN -> exit -> handled), microseconds. */
  exitMicros: number;
  /** Guest instructions per second in cpu-loop. */
  instructionsPerSecond: number;
}

/** cpu-loop executes exactly this many instructions per iteration. */
export const CPU_LOOP_INSTRUCTIONS_PER_ITERATION = 12;
const SAMPLE_ROUNDS = 300;
const SAMPLE_ITERATIONS = 5_000;

function withMachine<T>(guest: string, param0: number, body: (m: TestMachine) => T): T {
  const machine = new TestMachine({ guest, params: { param0 } });
  try {
    return body(machine);
  } finally {
    machine.close();
  }
}

/** Mean wall time per exit of a whole pio-loop run. */
function measureExitMicros(): number {
  return withMachine('pio-loop', SAMPLE_ROUNDS, (m) => {
    const start = performance.now();
    const stop = m.runSync(60_000);
    if (stop !== 'hlt') throw new Error(`calibration run of pio-loop stopped with ${stop}`);
    return ((performance.now() - start) * 1000) / m.exitCount;
  });
}

/** cpu-loop makes no exits between its two lines: one KVM_RUN spans exactly the loop. */
function measureInstructionsPerSecond(): number {
  return withMachine('cpu-loop', SAMPLE_ITERATIONS, (m) => {
    if (m.runSync(60_000, () => m.lines.length === 1) !== 'until') throw new Error('cpu-loop did not start');
    const start = performance.now();
    m.vcpu.run();
    const ms = Math.max(performance.now() - start, 0.001);
    return (SAMPLE_ITERATIONS * CPU_LOOP_INSTRUCTIONS_PER_ITERATION * 1000) / ms;
  });
}

function calibrate(): Calibration {
  return { exitMicros: measureExitMicros(), instructionsPerSecond: measureInstructionsPerSecond() };
}

export const calibration: Calibration | undefined = kvmAvailable ? calibrate() : undefined;

/**
 * A time budget (ms) for `exits` exits and `instructions` guest instructions: ten times
 * the calibrated cost, plus a fixed second for VM setup and scheduling noise.
 */
export function budgetMs(work: { exits?: number; instructions?: number }): number {
  const c = calibration ?? { exitMicros: 100, instructionsPerSecond: 1e6 };
  const ms = ((work.exits ?? 0) * c.exitMicros) / 1000 + ((work.instructions ?? 0) * 1000) / c.instructionsPerSecond;
  return Math.ceil(10 * ms + 1000);
}
