/**
 * The IRQ deadline thread of the KVM backend (DeadlineThread), without /dev/kvm: the same
 * loop as the KVM entry with a pulse that raises nothing, so what is checked is when and
 * how often it pulses, read from its edge log. The guests under real KVM are in
 * kvm-timer-rate.test.ts.
 */
import { afterEach, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeadlineThread } from '../src/kvm/deadline-thread.js';
import { EdgeLog } from '../src/kvm/edge-log.js';
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

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = performance.now();
  while (!cond() && performance.now() - t0 < ms) await sleep(2);
  return performance.now() - t0;
};

async function started(): Promise<{ clock: GuestClock; thread: DeadlineThread; log: EdgeLog; errors: string[] }> {
  const clock = GuestClock.create();
  clock.resume();
  const log = EdgeLog.create(4096);
  const errors: string[] = [];
  thread = new DeadlineThread(clock, (m) => errors.push(m), { edges: log, entry: DRY });
  thread.start(-1);
  await thread.ready;
  return { clock, thread, log, errors };
}

test('at 1000 Hz every edge is pulsed once at or after its exact fractional time, or counted as skipped; the median edge is late by a fraction of a period', async () => {
  const { clock, thread: t, log, errors } = await started();
  const first = Math.round(clock.nowNs() + 5e6); // deadlines travel as whole ns
  t.set(0, first, PERIOD_1000HZ);
  await sleep(1005);
  t.stop();
  const due = Math.floor((clock.nowNs() - first) / PERIOD_1000HZ) + 1;
  const edges = Array.from({ length: log.count }, (_, i) => log.edge(i));
  const ks = edges.map(([at]) => Math.round((at - first) / PERIOD_1000HZ));
  edges.forEach(([at, raised], i) => {
    expect(at).toBe(Math.ceil(first + ks[i] * PERIOD_1000HZ)); // on the grid of edge k at ceil(first + k * period)
    expect(raised).toBeGreaterThanOrEqual(at); // never early
    if (i > 0) expect(ks[i]).toBeGreaterThan(ks[i - 1]); // never twice
  });
  expect(ks[0]).toBe(0);
  const missing = ks.reduce((sum, k, i) => sum + (i > 0 ? k - ks[i - 1] - 1 : 0), 0);
  const late = log.latenessMicros();
  console.log(`1000 Hz for 1 s: ${log.count} pulsed, ${t.skipped} skipped of ${due} due; late by p50 ${pct(late, 50).toFixed(0)} us, p99 ${pct(late, 99).toFixed(0)} us`);
  expect(t.skipped).toBeGreaterThanOrEqual(missing); // every edge left out between two pulses is counted
  expect(log.count + t.skipped).toBeLessThanOrEqual(due); // and none that was not due
  expect(log.count).toBeGreaterThan(due / 2);
  // The main thread's setTimeout was late by 0.5 ms or more at the median; the thread wakes on its own.
  expect(pct(late, 50)).toBeLessThan(400);
  expect(errors).toEqual([]);
});

test('a deadline moved closer wakes the sleeping thread early', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 10e9);
  await sleep(50); // the thread now sleeps toward +10 s, bounded by its 1 s idle wake-up
  t.set(0, clock.nowNs() + 20e6);
  const waited = await until(() => log.count > 0);
  expect(log.count).toBe(1);
  expect(waited).toBeLessThan(500);
});

test('a cancelled deadline is not pulsed', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 300e6, 1e6);
  t.set(0, null);
  await sleep(400);
  expect(log.count).toBe(0);
});

test('while the guest clock is paused nothing is pulsed; resumed, the edges go on in guest time, the pause not counted as falling behind', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs() + 2e6, 10e6);
  await until(() => log.count > 0);
  clock.pause();
  t.clockChanged();
  const pausedAt = clock.nowNs();
  await sleep(500); // 50 periods of host time
  expect(clock.nowNs()).toBe(pausedAt);
  for (let i = 0; i < log.count; i++) expect(log.edge(i)[0]).toBeLessThanOrEqual(pausedAt);
  const skippedBefore = t.skipped;
  clock.resume();
  t.clockChanged();
  await until(() => log.count > 0 && log.edge(log.count - 1)[0] > pausedAt);
  expect(log.edge(log.count - 1)[0]).toBeGreaterThan(pausedAt);
  expect(t.skipped - skippedBefore).toBeLessThan(25);
});

test('once stop() returns nothing is pulsed again', async () => {
  const { clock, thread: t, log } = await started();
  t.set(0, clock.nowNs(), 1e6);
  await sleep(50);
  await until(() => log.count > 0);
  t.stop();
  const atStop = log.count;
  expect(atStop).toBeGreaterThan(0);
  await sleep(100);
  expect(log.count).toBe(atStop);
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

test('the KVM entry pulses with KVM_IRQ_LINE on the fd it was given; when that fails the owner is told why', async () => {
  const clock = GuestClock.create();
  clock.resume();
  const errors: string[] = [];
  thread = new DeadlineThread(clock, (m) => errors.push(m));
  thread.start(-1); // no VM fd: the ioctl fails with EBADF
  await thread.ready;
  thread.set(0, clock.nowNs(), 1e6);
  await until(() => errors.length > 0);
  expect(errors).toEqual([expect.stringMatching(/^IRQ deadline thread failed: KVM_IRQ_LINE.*EBADF/)]);
});
