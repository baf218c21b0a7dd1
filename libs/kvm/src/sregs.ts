/**
 * struct kvm_sregs (asm/kvm.h, x86_64), 312 bytes:
 *   kvm_segment cs, ds, es, fs, gs, ss, tr, ldt   8 x 24 bytes  @0
 *   kvm_dtable gdt, idt                          2 x 16 bytes  @192
 *   __u64 cr0, cr2, cr3, cr4, cr8, efer, apic_base             @224
 *   __u64 interrupt_bitmap[4]                                  @280
 */
import { readU64, writeU64 } from './u64.js';

/** struct kvm_segment: base u64, limit u32, selector u16, then 8 u8 flags and 1 pad. */
export interface KvmSegment {
  base: number;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** struct kvm_dtable: base u64, limit u16, 3 x u16 padding. */
export interface KvmDtable {
  base: number;
  limit: number;
}

export interface KvmSregs {
  cs: KvmSegment; ds: KvmSegment; es: KvmSegment; fs: KvmSegment;
  gs: KvmSegment; ss: KvmSegment; tr: KvmSegment; ldt: KvmSegment;
  gdt: KvmDtable; idt: KvmDtable;
  cr0: number; cr2: number; cr3: number; cr4: number; cr8: number;
  efer: number;
  apicBase: number;
  /** 256 bits, one per vector: the pending external interrupt (at most one set). */
  interruptBitmap: [bigint, bigint, bigint, bigint];
}

export const KVM_SREGS_SIZE = 312;
const SEGMENT_SIZE = 24;
const DTABLE_SIZE = 16;
const SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
const DTABLES_AT = SEGMENTS.length * SEGMENT_SIZE; // 192
const CONTROL_AT = DTABLES_AT + 2 * DTABLE_SIZE; // 224
const CONTROL = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apicBase'] as const;
const BITMAP_AT = CONTROL_AT + CONTROL.length * 8; // 280
/** The u8 flags after selector, in struct order, starting at segment byte 14. */
const SEGMENT_FLAGS = ['type', 'present', 'dpl', 'db', 's', 'l', 'g', 'avl', 'unusable'] as const;

function decodeSegment(view: DataView, at: number): KvmSegment {
  const seg = {
    base: readU64(view, at),
    limit: view.getUint32(at + 8, true),
    selector: view.getUint16(at + 12, true),
  } as KvmSegment;
  SEGMENT_FLAGS.forEach((name, i) => {
    seg[name] = view.getUint8(at + 14 + i);
  });
  return seg;
}

function encodeSegment(view: DataView, at: number, seg: KvmSegment, name: string): void {
  writeU64(view, at, seg.base, `${name}.base`);
  view.setUint32(at + 8, seg.limit >>> 0, true);
  view.setUint16(at + 12, seg.selector, true);
  SEGMENT_FLAGS.forEach((flag, i) => view.setUint8(at + 14 + i, seg[flag]));
  view.setUint8(at + 23, 0);
}

export function decodeSregs(view: DataView, offset = 0): KvmSregs {
  const sregs = {} as KvmSregs;
  SEGMENTS.forEach((name, i) => {
    sregs[name] = decodeSegment(view, offset + i * SEGMENT_SIZE);
  });
  for (const [i, name] of (['gdt', 'idt'] as const).entries()) {
    const at = offset + DTABLES_AT + i * DTABLE_SIZE;
    sregs[name] = { base: readU64(view, at), limit: view.getUint16(at + 8, true) };
  }
  CONTROL.forEach((name, i) => {
    sregs[name] = readU64(view, offset + CONTROL_AT + 8 * i);
  });
  const bitmap = [0, 1, 2, 3].map((i) => view.getBigUint64(offset + BITMAP_AT + 8 * i, true));
  sregs.interruptBitmap = bitmap as KvmSregs['interruptBitmap'];
  return sregs;
}

export function encodeSregs(view: DataView, sregs: KvmSregs, offset = 0): void {
  SEGMENTS.forEach((name, i) => encodeSegment(view, offset + i * SEGMENT_SIZE, sregs[name], name));
  for (const [i, name] of (['gdt', 'idt'] as const).entries()) {
    const at = offset + DTABLES_AT + i * DTABLE_SIZE;
    writeU64(view, at, sregs[name].base, `${name}.base`);
    view.setUint16(at + 8, sregs[name].limit, true);
    for (let p = 10; p < DTABLE_SIZE; p += 2) view.setUint16(at + p, 0, true);
  }
  CONTROL.forEach((name, i) => writeU64(view, offset + CONTROL_AT + 8 * i, sregs[name], name));
  sregs.interruptBitmap.forEach((word, i) => view.setBigUint64(offset + BITMAP_AT + 8 * i, word, true));
}
