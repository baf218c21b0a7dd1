import { DeviceStateError } from '@quasivm/device-sdk';

/** Helpers to validate a state blob field by field before anything is applied. */
export type Json = unknown;

export function obj(v: Json, where: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DeviceStateError(`${where}: expected an object`);
  return v as Record<string, Json>;
}

export function num(v: Json, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new DeviceStateError(`${where}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function bool(v: Json, where: string): boolean {
  if (typeof v !== 'boolean') throw new DeviceStateError(`${where}: expected a boolean`);
  return v;
}

export function str<T extends string>(v: Json, where: string, allowed?: readonly T[]): T {
  if (typeof v !== 'string' || (allowed && !allowed.includes(v as T))) {
    throw new DeviceStateError(`${where}: expected ${allowed ? allowed.join(' | ') : 'a string'}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

export function bytes(v: Json, where: string, maxLength: number): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new DeviceStateError(`${where}: expected base64`);
  const b = new Uint8Array(Buffer.from(v, 'base64'));
  if (b.length > maxLength) throw new DeviceStateError(`${where}: ${b.length} bytes, at most ${maxLength} allowed`);
  return b;
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
