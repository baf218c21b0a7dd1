/**
 * A bus master's Physical Region Descriptor table (SFF-8038i 1.2): 8-byte entries, a base
 * address (bit 0 ignored), a byte count in bits 1-15 of the second dword (0 means 64 KiB) and
 * end-of-table in its bit 31. The device model walks it, and so does a vCPU carrying out a
 * predicted DMA command itself (LocalDma).
 */
export const PRD_ENTRY_SIZE = 8;
export const PRD_EOT = 0x80000000;
/** Byte count 0 in a PRD means 64 KiB. */
export const PRD_MAX_BYTES = 0x10000;

export interface PrdEntry {
  address: number;
  length: number;
}

/** The entries walked so far, the bytes they describe, and whether one ended the table. */
export type PrdList = PrdEntry[] & { eot: boolean; total: number };

export function emptyPrdList(): PrdList {
  return Object.assign([], { eot: false, total: 0 });
}

/**
 * Adds the entries in `raw` to `list` until end-of-table, more than `needed` bytes, or
 * `maxEntries` entries; true when the walk ends there.
 */
export function addPrdEntries(list: PrdList, raw: Uint8Array, needed: number, maxEntries: number): boolean {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i + PRD_ENTRY_SIZE <= raw.length && list.length < maxEntries; i += PRD_ENTRY_SIZE) {
    const base = view.getUint32(i, true) & ~1;
    const flags = view.getUint32(i + 4, true);
    const count = flags & 0xfffe;
    const length = count === 0 ? PRD_MAX_BYTES : count;
    list.push({ address: base >>> 0, length });
    list.total += length;
    if (flags & PRD_EOT) {
      list.eot = true;
      return true;
    }
    if (list.total > needed) return true;
  }
  return list.length >= maxEntries;
}
