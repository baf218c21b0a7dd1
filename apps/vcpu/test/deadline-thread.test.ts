/**
 * The IRQ deadline thread of the KVM backend (DeadlineThread), without /dev/kvm: the same
 * loop as the KVM entry with a pulse that raises nothing, so what is checked is when and
 * how often it pulses, read from its lateness log. The guests under real KVM are in
 * kvm-timer-rate.test.ts.
 */
import { afterEach, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeadlineThread } from '../src/kvm/deadline-thread.js';
import { GuestClock } from '../src/kvm/guest-clock.js';

const DRY = new URL('./support/dry-deadline-worker.ts', import.meta.url);
/** 1193182 Hz / 1193: the 1000 Hz Linux programs, a fractional period in ns. */
const PERIOD_1000HZ = 1e9 / (1_193_182 / 1193);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

let thread: DeadlineThread | null = null;
afterEach(() => {
  thread?.stop();
  thread = null;
});

async function started(): Promise<{ clock: GuestClock; thread: DeadlineThread; log: Float64Array; errors: string[] }> {
  const clock = GuestClock.create();
  clock.resume();
  const lateness = new SharedArrayBuffer(8 * 8192);
  const errors: string[] = [];
  thread = new DeadlineThread(clock, (m) => errors.push(m), { lateness, entry: DRY });
  thread.start(-1);
  await thread.ready;
  return { clock, thread, log: new Float64Array(lateness), errors };
}

test('at 1000 Hz every edge of a second of guest time is pulsed or counted as skipped, most of them within a fraction of a period', async () => {
  const { clock, thread: t, log, errors } = await started();
  const first = clock.nowNs() + 5e6;
  t.set(0, first, PERIOD_1000HZ);
  await sleep(1005);
  t.stop();
  const due = Math.floor((clock.nowNs() - first) / PERIOD_1000HZ) + 1;
  const pulsed = log[0];
  const late = Array.from(log.subarray(1, 1 + pulsed), (ns) => ns / 1000);
  console.log(`1000 Hz for 1 s: ${pulsed} pulsed, ${t.skipped} skipped of ${due} due; late by p50 ${pct(late, 50).toFixed(0)} us, p99 ${pct(late, 99).toFixed(0)} us`);
  // An edge is never pulsed twice nor lost: up to maxCatchUp (4) edges may be due but not yet fired at the end.
  expect(pulsed + t.skipped).toBeGreaterThanOrEqual(due - 5);
  expect(pulsed + t.skipped).toBeLessThanOrEqual(due);
  expect(pulsed).toBeGreaterThan(0.9 * due);
  expect(Math.min(...late)).toBeGreaterThanOrEqual(0); // never early
  // The main thread's setTimeout was late by ~500 us at the median; the thread wakes on its own.
  expect(pct(late, 50)).toBeLessThan(400);
  expect(errors).toEqual([]);
});

test('a deadline moved closer wakes the sleeping thread early', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 10e9);
  await sleep(50); // the thread now sleeps toward +10 s (at most its 1 s idle bound)
  t.set(0, clock.nowNs() + 20e6);
  const t0 = performance.now();
  while (log[0] === 0 && performance.now() - t0 < 900) await sleep(2);
  expect(log[0]).toBe(1);
  expect(performance.now() - t0).toBeLessThan(900);
});

test('a cancelled deadline is not pulsed', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 30e6, 1e6);
  t.set(0, null);
  await sleep(100);
  expect(log[0]).toBe(0);
});

test('while the guest clock is paused nothing is pulsed; resumed, the edges come in guest time', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 2e6, 10e6);
  await sleep(60);
  expect(log[0]).toBeGreaterThan(0);
  clock.pause();
  t.clockChanged();
  const atPause = log[0];
  await sleep(300);
  expect(log[0]).toBe(atPause); // 30 periods of host time, no guest time
  clock.resume();
  t.clockChanged();
  await sleep(200);
  expect(log[0]).toBeGreaterThan(atPause);
  expect(t.skipped).toBe(0); // the pause is not time the guest fell behind
});

test('once stop() returns nothing is pulsed again', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs(), 1e6);
  await sleep(50);
  t.stop();
  const atStop = log[0];
  expect(atStop).toBeGreaterThan(0);
  await sleep(100);
  expect(log[0]).toBe(atStop);
});

for (const how of ['running', 'stop']) {
  test(`a process whose deadline thread is ${how === 'stop' ? 'stopped' : 'still running at 1000 Hz'} exits when its main module is done`, () => {
    const child = fileURLToPath(new URL('./fixtures/deadline-thread-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, how], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('main module done');
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(0);
  });
}
