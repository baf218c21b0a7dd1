import type { CounterForecast, GuestTimeNs, StatusForecast } from './model.js';

/** floor(t * num / den) for integer t >= 0, without overflowing doubles (t * num can exceed 2^53). */
export function ticksAt(t: number, num: number, den: number): number {
  const blocks = Math.floor(t / den);
  const rest = t - blocks * den;
  return blocks * num + Math.floor((rest * num) / den);
}

/** Reads of one port a device forecast, which the vCPU answers itself until it makes any other access to the device. */
export interface PortForecast {
  readonly port: number;
  /** The byte the next read of the port returns at guest time `now`. */
  read(now: GuestTimeNs): number;
}

/**
 * The reads a device forecast for one port (proto CounterForecast): a counter running down
 * with guest time. The vCPU answers them here until it makes any other access to the device.
 */
export class LocalForecast implements PortForecast {
  private reads = 0;

  private constructor(private readonly f: CounterForecast) {}

  /** A usable forecast from a reply, or null (absent, or values that make no sense). */
  static from(f: CounterForecast | null | undefined): LocalForecast | null {
    if (!f || !(f.modulus > 0) || !(f.tickNum > 0) || !(f.tickDen > 0) || f.bytes.length === 0 || f.bytes.some((b) => b !== 0 && b !== 1)) return null;
    return new LocalForecast({ ...f, tick: Number(f.tick) });
  }

  get port(): number {
    return this.f.port;
  }

  /** The byte the next read of the port returns at guest time `now`. */
  read(now: GuestTimeNs): number {
    const f = this.f;
    const elapsed = ticksAt(now, f.tickNum, f.tickDen) - f.tick;
    const count = (((f.count - elapsed) % f.modulus) + f.modulus) % f.modulus;
    const high = f.bytes[this.reads++ % f.bytes.length] === 1;
    return high ? (count >>> 8) & 0xff : count & 0xff;
  }
}

/**
 * The reads a device forecast for a status port (proto StatusForecast): fixed bits, one that
 * toggles with a period and one that rises once, all against the device's clock.
 */
export class LocalStatusForecast implements PortForecast {
  private constructor(private readonly f: StatusForecast) {}

  /** A usable forecast from a reply, or null (absent, or values that make no sense). */
  static from(f: StatusForecast | null | undefined): LocalStatusForecast | null {
    if (!f || !(f.tickNum > 0) || !(f.tickDen > 0) || (f.toggleMask !== 0 && !(Number(f.togglePeriod) > 0))) return null;
    if (((f.fixed | f.toggleMask | f.riseMask) & ~0xff) !== 0 || (f.toggleMask & f.riseMask) !== 0) return null;
    return new LocalStatusForecast({ ...f, togglePeriod: Number(f.togglePeriod), riseTick: Number(f.riseTick) });
  }

  get port(): number {
    return this.f.port;
  }

  read(now: GuestTimeNs): number {
    const f = this.f;
    const ticks = ticksAt(now, f.tickNum, f.tickDen);
    let value = f.fixed;
    if (f.toggleMask !== 0 && Math.floor(ticks / f.togglePeriod) % 2 === 1) value |= f.toggleMask;
    if (f.riseMask !== 0 && ticks >= f.riseTick) value |= f.riseMask;
    return value;
  }
}
