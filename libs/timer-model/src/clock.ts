/**
 * The PC feeds every 8254 CLK input from the 14.31818 MHz system crystal divided by 12:
 * 14 318 181.8... / 12 = 105/88 MHz = 1 193 181.818... Hz (usually quoted as 1.193182 MHz).
 *
 * 105 clock pulses take exactly 88 000 ns, so all conversions below are exact integer
 * arithmetic in doubles (no float drift) for guest times up to Number.MAX_SAFE_INTEGER ns
 * (about 104 days).
 *
 * Convention: pulse k (k = 1, 2, ...) happens at exactly k * 88000/105 ns of guest time.
 * The chip state at time t reflects every pulse at or before t.
 */

/** Clock pulses in one exact block. */
export const PULSES_PER_BLOCK = 105;
/** Nanoseconds in one exact block. */
export const NS_PER_BLOCK = 88_000;

/** The PIT input clock in Hz (exact value 105e6/88). */
export const PIT_CLOCK_HZ = (PULSES_PER_BLOCK * 1e9) / NS_PER_BLOCK;

/** Length of one PIT clock period in ns (838.095238...). */
export const PIT_PERIOD_NS = NS_PER_BLOCK / PULSES_PER_BLOCK;

/** Latest guest time the model computes with; later times are clamped (and counted). */
export const MAX_GUEST_TIME_NS = Number.MAX_SAFE_INTEGER;

/** Number of clock pulses that have happened at guest time `ns` (ns >= 0): floor(ns * 105 / 88000). */
export function pulsesAt(ns: number): number {
  let blocks = Math.floor(ns / NS_PER_BLOCK);
  let rest = ns - blocks * NS_PER_BLOCK;
  if (rest < 0) {
    blocks -= 1;
    rest += NS_PER_BLOCK;
  } else if (rest >= NS_PER_BLOCK) {
    blocks += 1;
    rest -= NS_PER_BLOCK;
  }
  return blocks * PULSES_PER_BLOCK + Math.floor((rest * PULSES_PER_BLOCK) / NS_PER_BLOCK);
}

/**
 * The first whole guest nanosecond at which pulse `pulse` has happened:
 * ceil(pulse * 88000 / 105). At most 1 ns after the exact instant; pulsesAt() of it is `pulse`.
 */
export function timeOfPulse(pulse: number): number {
  const blocks = Math.floor(pulse / PULSES_PER_BLOCK);
  const rest = pulse - blocks * PULSES_PER_BLOCK;
  return blocks * NS_PER_BLOCK + Math.ceil((rest * NS_PER_BLOCK) / PULSES_PER_BLOCK);
}

/**
 * The exact length of `pulses` clock periods in ns, as the nearest double
 * (pulses * 88000 / 105, not rounded to whole ns: a 65536-pulse period is 54 925 409.5238 ns).
 */
export function pulsesToNs(pulses: number): number {
  return (pulses * NS_PER_BLOCK) / PULSES_PER_BLOCK;
}
