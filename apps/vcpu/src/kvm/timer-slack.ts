/**
 * Linux lets a sleeping thread wake up to 50 us after its timeout ("timer slack") so it
 * can batch wake-ups; the IRQ deadline thread wants its edges on time, so it asks for 1 ns
 * (prctl PR_SET_TIMERSLACK, per thread, no privilege needed). Measured on a 2-core host:
 * median lateness of an Atomics.wait timeout ~100 us -> ~45 us. Best effort: a failure
 * only costs precision.
 */
import koffi from 'koffi';

const PR_SET_TIMERSLACK = 29;
const prctl = koffi.load('libc.so.6').func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)') as (
  option: number,
  a2: number,
  a3: number,
  a4: number,
  a5: number,
) => number;

/** Sets the calling thread's timer slack to 1 ns; returns false when the kernel refused. */
export function tightenTimerSlack(): boolean {
  return prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) === 0;
}
