import { DeviceStateError } from '@quasivm/device-sdk';

/**
 * Reading a saved VGA state blob field by field. Every getter throws DeviceStateError
 * naming the field, so a unit can parse the whole blob into a fresh object first and the
 * adapter swaps the fresh units in only when everything parsed: a malformed blob leaves
 * the model unchanged.
 */
export class StateReader {
  private readonly s: Record<string, unknown>;

  constructor(value: unknown, private readonly path: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DeviceStateError(`vga: state${path ? ' field ' + path : ''} is not an object`);
    }
    this.s = value as Record<string, unknown>;
  }

  fail(name: string, what: string): never {
    throw new DeviceStateError(`vga: state field ${this.path}${name} ${what}`);
  }

  has(name: string): boolean {
    return this.s[name] !== undefined;
  }

  raw(name: string): unknown {
    return this.s[name];
  }

  int(name: string, min: number, max: number): number {
    const v = this.s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(name, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
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

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.s[name];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** A JSON array of exactly `length` integers in [0, max]: register files stay readable. */
  regs(name: string, length: number, max = 0xff): Uint8Array {
    const v = this.s[name];
    if (!Array.isArray(v) || v.length !== length) this.fail(name, `must be an array of ${length} integers`);
    const out = new Uint8Array(length);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) {
        this.fail(name, `[${i}] is ${JSON.stringify(x)}, not an integer in [0, ${max}]`);
      }
      out[i] = x;
    });
    return out;
  }

  bytes(name: string, exactLength: number): Uint8Array {
    return decodeBase64(this.s[name], exactLength, (what) => this.fail(name, what));
  }

  obj(name: string): StateReader {
    const v = this.s[name];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(name, 'must be an object');
    return new StateReader(v, `${this.path}${name}.`);
  }

  /** An array of at most `max` objects, each read with the same checks. */
  objArray(name: string, max: number): StateReader[] {
    const v = this.s[name];
    if (!Array.isArray(v) || v.length > max) this.fail(name, `must be an array of at most ${max} objects`);
    return v.map((x, i) => new StateReader(x, `${this.path}${name}[${i}].`));
  }

  /** Memory saved sparsely by `saveSparse`: only pages holding a non-zero byte are listed. */
  sparse(name: string, totalLength: number, pageSize: number): Uint8Array {
    const v = this.s[name];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(name, 'must be an object of page -> base64');
    const out = new Uint8Array(totalLength);
    const pages = totalLength / pageSize;
    for (const [key, data] of Object.entries(v as Record<string, unknown>)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= pages) this.fail(name, `has page ${JSON.stringify(key)}, not in [0, ${pages})`);
      const bytes = decodeBase64(data, pageSize, (what) => this.fail(`${name}.${key}`, what));
      out.set(bytes, Number(key) * pageSize);
    }
    return out;
  }
}

function decodeBase64(v: unknown, exactLength: number, fail: (what: string) => never): Uint8Array {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) fail('must be a base64 string');
  const out = new Uint8Array(Buffer.from(v, 'base64'));
  if (out.length !== exactLength) fail(`must decode to ${exactLength} bytes, got ${out.length}`);
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Saves only the pages of `mem` that hold a non-zero byte (VRAM is mostly empty). */
export function saveSparse(mem: Uint8Array | null, pageSize: number): Record<string, string> {
  const out: Record<string, string> = {};
  if (!mem) return out;
  for (let p = 0; p * pageSize < mem.length; p++) {
    const page = mem.subarray(p * pageSize, (p + 1) * pageSize);
    if (!isZero(page)) out[String(p)] = encodeBase64(page);
  }
  return out;
}

export function isZero(bytes: Uint8Array): boolean {
  // Word-wise when aligned: saving a 16 MiB VRAM must not take a byte loop per byte.
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
