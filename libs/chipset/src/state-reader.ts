import { DeviceStateError, type DeviceState } from '@quasivm/device-sdk';

/**
 * Reads and validates one saved state blob field by field. Every getter throws
 * DeviceStateError naming the field, so a model can parse the whole blob into locals
 * first and only then assign them: a malformed blob leaves the model unchanged.
 */
export class StateReader {
  private readonly s: Record<string, unknown>;

  constructor(state: unknown, device: string, version: number, path = '') {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) {
      throw new DeviceStateError(`${device}: state${path} is not an object`);
    }
    this.s = state as Record<string, unknown>;
    this.device = device;
    this.path = path;
    if (path === '') {
      const st = state as Partial<DeviceState>;
      if (st.device !== device) throw new DeviceStateError(`${device}: state is for device ${JSON.stringify(st.device)}`);
      if (st.version !== version) throw new DeviceStateError(`${device}: state version ${JSON.stringify(st.version)} is not ${version}`);
    }
  }

  private readonly device: string;
  private readonly path: string;

  private fail(name: string, what: string): never {
    throw new DeviceStateError(`${this.device}: state field ${this.path}${name} ${what}`);
  }

  int(name: string, min: number, max: number): number {
    const v = this.s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(name, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }

  /** A finite number in [min, max] (guest times may be fractional nanoseconds). */
  num(name: string, min: number, max: number): number {
    const v = this.s[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(name, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }

  byte(name: string): number {
    return this.int(name, 0, 0xff);
  }

  bool(name: string): boolean {
    const v = this.s[name];
    if (typeof v !== 'boolean') this.fail(name, `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  str(name: string, maxLength = 1 << 20): string {
    const v = this.s[name];
    if (typeof v !== 'string' || v.length > maxLength) this.fail(name, `must be a string of at most ${maxLength} characters`);
    return v;
  }

  /** A JSON array of integers in [min, max] (FIFOs, small tables: readable in the blob). */
  intArray(name: string, maxLength: number, min = 0, max = 0xff, exactLength?: number): number[] {
    const v = this.s[name];
    if (!Array.isArray(v) || v.length > maxLength) this.fail(name, `must be an array of at most ${maxLength} integers`);
    if (exactLength !== undefined && v.length !== exactLength) this.fail(name, `must have exactly ${exactLength} entries`);
    for (const x of v) {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) this.fail(name, `holds ${JSON.stringify(x)}, not an integer in [${min}, ${max}]`);
    }
    return v.slice() as number[];
  }

  /** Binary data saved as base64 (model.ts: Uint8Array -> base64 string). */
  bytes(name: string, exactLength?: number, maxLength = 1 << 26): Uint8Array<ArrayBuffer> {
    const v = this.s[name];
    if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) this.fail(name, 'must be a base64 string');
    const out = Uint8Array.from(Buffer.from(v, "base64"));
    if (exactLength !== undefined && out.length !== exactLength) this.fail(name, `must decode to ${exactLength} bytes, got ${out.length}`);
    if (out.length > maxLength) this.fail(name, `must decode to at most ${maxLength} bytes`);
    return out;
  }

  /** A nested object, read with the same checks. */
  obj(name: string): StateReader {
    const v = this.s[name];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(name, 'must be an object');
    return new StateReader(v, this.device, 0, `${this.path}${name}.`);
  }

  /** An array of objects, each read with the same checks. */
  objArray(name: string, maxLength: number): StateReader[] {
    const v = this.s[name];
    if (!Array.isArray(v) || v.length > maxLength) this.fail(name, `must be an array of at most ${maxLength} objects`);
    return v.map((x, i) => new StateReader(x, this.device, 0, `${this.path}${name}[${i}].`));
  }
}

export function toBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/**
 * Per-instance access counters (DESIGN.md: a bad access width or unknown offset is a
 * no-op plus a counter, never a throw). Counters are metrics, not device state.
 */
export class AccessCounters {
  /** Accesses whose width the register does not support. */
  badWidth = 0;
  /** Accesses to an offset or register the chip does not implement. */
  unknownRegister = 0;
}
