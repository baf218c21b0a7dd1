import { allOnes, type AccessSize, type GuestTimeNs } from '@quasivm/device-sdk';

/**
 * What the bus forwards a port access to: a local device model (answers at once) or a
 * remote device client (answers a read with a promise). Writes never wait.
 */
export interface IoHandler {
  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number | Promise<number>;
  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void;
  ioReadString?(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array | Promise<Uint8Array>;
  ioWriteString?(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void;
}

interface Range {
  base: number;
  end: number; // exclusive
  name: string;
  handler: IoHandler;
}

/** The largest port number + 1: x86 has a 64 KiB I/O space. */
export const IO_SPACE_SIZE = 0x10000;

/**
 * The vCPU's I/O bus (DESIGN.md): sorted, non-overlapping port ranges mapped to handlers.
 * Unclaimed ports read as all ones and ignore writes, and are counted per port so a user
 * can see what the guest probed. A direct 64K lookup table keeps dispatch O(1).
 */
export class IoBus {
  private ranges: Range[] = [];
  private readonly lookup = new Array<Range | undefined>(IO_SPACE_SIZE);
  readonly unclaimedReads = new Map<number, number>();
  readonly unclaimedWrites = new Map<number, number>();
  readonly accessCounts = new Map<string, { reads: number; writes: number }>();
  /** Devices whose accesses go to `tracer` ('*' = all); empty most of the time, so the check is one boolean. */
  private traced = new Set<string>();
  private tracing = false;
  tracer: ((device: string, dir: 'in' | 'out', port: number, size: number, value: number, now: GuestTimeNs) => void) | null = null;

  /** Which devices to report to `tracer` (names as inserted, '*' = every device). */
  setTraced(names: string[]): void {
    this.traced = new Set(names);
    this.tracing = this.traced.size > 0;
  }

  private isTraced(name: string): boolean {
    return this.tracing && this.tracer !== null && (this.traced.has(name) || this.traced.has('*'));
  }

  /** Maps [base, base + length) to `handler`. Zero-length, overflowing and overlapping ranges are refused. */
  insert(handler: IoHandler, base: number, length: number, name: string): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || length <= 0)
      throw new RangeError(`${name}: port range 0x${base.toString(16)}+${length} must have a positive integer length`);
    if (base < 0 || base + length > IO_SPACE_SIZE)
      throw new RangeError(`${name}: port range 0x${base.toString(16)}+0x${length.toString(16)} overflows the 64K I/O space`);
    const clash = this.ranges.find((r) => base < r.end && r.base < base + length);
    if (clash)
      throw new RangeError(`${name}: ports 0x${base.toString(16)}-0x${(base + length - 1).toString(16)} overlap ${clash.name} (0x${clash.base.toString(16)}-0x${(clash.end - 1).toString(16)})`);
    const range: Range = { base, end: base + length, name, handler };
    this.ranges.push(range);
    this.ranges.sort((a, b) => a.base - b.base);
    for (let p = base; p < base + length; p++) this.lookup[p] = range;
    if (!this.accessCounts.has(name)) this.accessCounts.set(name, { reads: 0, writes: 0 });
  }

  /** Removes every range served by `name` (e.g. to swap a device to another endpoint). */
  remove(name: string): void {
    for (const r of this.ranges.filter((x) => x.name === name)) for (let p = r.base; p < r.end; p++) this.lookup[p] = undefined;
    this.ranges = this.ranges.filter((x) => x.name !== name);
  }

  /** The handler's name for a port, or undefined when unclaimed. */
  owner(port: number): string | undefined {
    return this.lookup[port & 0xffff]?.name;
  }

  read(port: number, size: AccessSize, now: GuestTimeNs): number | Promise<number> {
    const r = this.lookup[port & 0xffff];
    if (!r) {
      this.unclaimedReads.set(port, (this.unclaimedReads.get(port) ?? 0) + 1);
      return allOnes(size);
    }
    this.accessCounts.get(r.name)!.reads++;
    const value = r.handler.ioRead(port, size, now);
    if (this.isTraced(r.name)) {
      if (typeof value === 'number') this.tracer!(r.name, 'in', port, size, value, now);
      else void value.then((v) => this.tracer?.(r.name, 'in', port, size, v, now), () => undefined);
    }
    return value;
  }

  write(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    const r = this.lookup[port & 0xffff];
    if (!r) {
      this.unclaimedWrites.set(port, (this.unclaimedWrites.get(port) ?? 0) + 1);
      return;
    }
    this.accessCounts.get(r.name)!.writes++;
    if (this.isTraced(r.name)) this.tracer!(r.name, 'out', port, size, value, now);
    r.handler.ioWrite(port, size, value, now);
  }

  /** `rep ins*`: the whole transfer in one handler call when the handler can, else unrolled here once. */
  readString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array | Promise<Uint8Array> {
    const r = this.lookup[port & 0xffff];
    if (r?.handler.ioReadString) {
      this.accessCounts.get(r.name)!.reads += count;
      return r.handler.ioReadString(port, size, count, now);
    }
    const out = new Uint8Array(count * size);
    const view = new DataView(out.buffer);
    const values: Array<number | Promise<number>> = [];
    for (let i = 0; i < count; i++) values.push(this.read(port, size, now));
    const store = (vals: number[]) => {
      vals.forEach((v, i) => (size === 1 ? view.setUint8(i, v) : size === 2 ? view.setUint16(i * 2, v, true) : view.setUint32(i * 4, v >>> 0, true)));
      return out;
    };
    return values.some((v) => typeof v !== 'number') ? Promise.all(values).then(store) : store(values as number[]);
  }

  writeString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    const r = this.lookup[port & 0xffff];
    if (r?.handler.ioWriteString) {
      this.accessCounts.get(r.name)!.writes += data.byteLength / size;
      r.handler.ioWriteString(port, size, data, now);
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i + size <= data.byteLength; i += size)
      this.write(port, size, size === 1 ? view.getUint8(i) : size === 2 ? view.getUint16(i, true) : view.getUint32(i, true), now);
  }

  /** Claimed ranges, sorted, for display. */
  describe(): Array<{ name: string; base: number; length: number }> {
    return this.ranges.map((r) => ({ name: r.name, base: r.base, length: r.end - r.base }));
  }
}
