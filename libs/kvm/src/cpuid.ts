/**
 * struct kvm_cpuid2 (asm/kvm.h): u32 nent, u32 padding, then nent x kvm_cpuid_entry2
 * (function, index, flags, eax, ebx, ecx, edx: u32 each, then 3 u32 padding = 40 bytes).
 */
import { StructSize } from './ioctl-numbers.js';

export interface CpuidEntry {
  function: number;
  index: number;
  /** KVM_CPUID_FLAG_* (bit 0: the leaf has sub-leaves selected by index). */
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

const ENTRY = StructSize.kvm_cpuid_entry2;
const HEADER = StructSize.kvm_cpuid2;
const FIELDS = ['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx'] as const;

/** Bytes needed for a kvm_cpuid2 holding `entries` entries. */
export function cpuid2Size(entries: number): number {
  return HEADER + entries * ENTRY;
}

export function decodeCpuid2(view: DataView): CpuidEntry[] {
  const nent = view.getUint32(0, true);
  const entries: CpuidEntry[] = [];
  for (let e = 0; e < nent; e++) {
    const at = HEADER + e * ENTRY;
    const entry = {} as CpuidEntry;
    FIELDS.forEach((name, i) => {
      entry[name] = view.getUint32(at + 4 * i, true);
    });
    entries.push(entry);
  }
  return entries;
}

/** Writes the header with room for `capacity` entries (used before KVM_GET_SUPPORTED_CPUID). */
export function encodeCpuid2Capacity(view: DataView, capacity: number): void {
  view.setUint32(0, capacity, true);
  view.setUint32(4, 0, true);
}

export function encodeCpuid2(view: DataView, entries: readonly CpuidEntry[]): void {
  encodeCpuid2Capacity(view, entries.length);
  entries.forEach((entry, e) => {
    const at = HEADER + e * ENTRY;
    FIELDS.forEach((name, i) => view.setUint32(at + 4 * i, entry[name] >>> 0, true));
    for (let p = 28; p < ENTRY; p += 4) view.setUint32(at + p, 0, true);
  });
}

/** The 12-character vendor string of leaf 0 ("AuthenticAMD", "GenuineIntel", ...). */
export function cpuidVendor(entries: readonly CpuidEntry[]): string | undefined {
  const leaf0 = entries.find((e) => e.function === 0);
  if (!leaf0) return undefined;
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32LE(leaf0.ebx, 0);
  bytes.writeUInt32LE(leaf0.edx, 4);
  bytes.writeUInt32LE(leaf0.ecx, 8);
  return bytes.toString('latin1');
}
