import type { GuestTimeNs } from '@quasivm/device-sdk';

interface Deadline {
  /** First edge and the period (fractional ns allowed); edge k is at ceil(first + k * period). */
  first: GuestTimeNs;
  period: number;
  k: number;
  at: GuestTimeNs;
}

/**
 * IRQ deadlines set by timer devices ("pulse line n at t, then every p ns"), kept by the
 * vCPU so interrupts are delivered on time without a message per tick (DESIGN.md, Time).
 */
export class IrqDeadlines {
  private readonly byLine = new Map<number, Deadline>();
  /** Periods skipped because the CPU fell behind by more than `maxCatchUp` periods. */
  skipped = 0;

  constructor(private readonly maxCatchUp = 4) {}

  set(line: number, at: GuestTimeNs | null, periodNs = 0): void {
    if (at === null) this.byLine.delete(line);
    else this.byLine.set(line, { first: at, period: periodNs > 0 ? periodNs : 0, k: 0, at: Math.ceil(at) });
  }

  /** The earliest pending deadline, or Infinity. */
  next(): GuestTimeNs {
    let min = Infinity;
    for (const d of this.byLine.values()) if (d.at < min) min = d.at;
    return min;
  }

  /** Pulses every line whose deadline has come (`due`: the edge's programmed time), re-arming periodic ones. */
  fire(now: GuestTimeNs, pulse: (line: number, due: GuestTimeNs) => void): void {
    for (const [line, d] of this.byLine) {
      if (d.at > now) continue;
      pulse(line, d.at);
      if (d.period === 0) {
        this.byLine.delete(line);
        continue;
      }
      d.k++;
      d.at = Math.ceil(d.first + d.k * d.period);
      if (d.at <= now) {
        // Far behind (e.g. the host was busy): do not fire a burst; keep the phase.
        const missed = Math.floor((now - d.at) / d.period) + 1;
        if (missed > this.maxCatchUp) {
          this.skipped += missed;
          d.k += missed;
          d.at = Math.ceil(d.first + d.k * d.period);
        }
      }
    }
  }
}

const TWO32 = 0x1_0000_0000;

/**
 * A deadline as ring words, the payload layout of Control.IrqDeadline:
 * [line, at low, at high, period as float64 (2 words), cancel].
 */
export function encodeDeadline(line: number, at: GuestTimeNs | null, periodNs = 0): number[] {
  const period = new Int32Array(new Float64Array([periodNs]).buffer);
  const t = at ?? 0;
  return [line, t % TWO32 | 0, Math.floor(t / TWO32), period[0], period[1], at === null ? 1 : 0];
}

export function decodeDeadline(w: ArrayLike<number>): { line: number; at: GuestTimeNs | null; periodNs: number } {
  const periodNs = new Float64Array(new Int32Array([w[3], w[4]]).buffer)[0];
  return { line: w[0], at: w[5] ? null : (w[1] >>> 0) + w[2] * TWO32, periodNs };
}
