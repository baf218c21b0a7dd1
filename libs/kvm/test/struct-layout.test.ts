import { describe, expect, it } from 'vitest';
import {
  decodeRegs,
  decodeSregs,
  encodeRegs,
  encodeSregs,
  KVM_REGS_SIZE,
  KVM_SREGS_SIZE,
  realModeSegment,
  type KvmRegs,
  type KvmSregs,
} from '../src/index.js';

function sampleSregs(): KvmSregs {
  const seg = (n: number) => ({ ...realModeSegment(0x1000 + n), limit: 0xffff0 + n, g: n & 1, avl: 1, unusable: 0 });
  return {
    cs: { ...seg(0), type: 0xb }, ds: seg(1), es: seg(2), fs: seg(3), gs: seg(4), ss: seg(5), tr: seg(6), ldt: seg(7),
    gdt: { base: 0x12345, limit: 0x27 },
    idt: { base: 0xabcdef01, limit: 0x7ff },
    cr0: 0x60000011, cr2: 0xdead000, cr3: 0x1000, cr4: 0x20, cr8: 3, efer: 0x500, apicBase: 0xfee00900,
    interruptBitmap: [1n, 0n, 1n << 63n, 0x8000n],
  };
}

describe('struct kvm_regs', () => {
  it('is 18 little-endian u64 with rip at 128 and rflags at 136', () => {
    const view = new DataView(new ArrayBuffer(KVM_REGS_SIZE));
    const regs = Object.fromEntries(
      ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'].map(
        (name, i) => [name, (i + 1) * 0x1_0000_0101],
      ),
    ) as unknown as KvmRegs;
    encodeRegs(view, regs);
    expect(view.getUint32(128, true)).toBe((17 * 0x1_0000_0101) % 2 ** 32);
    expect(view.getUint32(132, true)).toBe(17);
    expect(view.getUint32(136 + 4, true)).toBe(18);
    expect(decodeRegs(view)).toEqual(regs);
  });

  it('rejects values that a JS number cannot carry exactly', () => {
    const view = new DataView(new ArrayBuffer(KVM_REGS_SIZE));
    const regs = decodeRegs(view);
    expect(() => encodeRegs(view, { ...regs, rip: 2 ** 53 })).toThrow(/rip/);
    expect(() => encodeRegs(view, { ...regs, rax: -1 })).toThrow(/rax/);
  });
});

describe('struct kvm_sregs', () => {
  it('places segments, tables and control registers at the linux/kvm.h offsets', () => {
    const view = new DataView(new ArrayBuffer(KVM_SREGS_SIZE));
    encodeSregs(view, sampleSregs());
    // cs @0: base u64, limit u32 @8, selector u16 @12, type @14, present @15 ... unusable @22
    expect(view.getUint32(0, true)).toBe(0x10000);
    expect(view.getUint32(8, true)).toBe(0xffff0);
    expect(view.getUint16(12, true)).toBe(0x1000);
    expect(view.getUint8(14)).toBe(0xb); // code segment type
    expect(view.getUint8(15)).toBe(1); // present
    expect(view.getUint8(21)).toBe(1); // avl
    // ss is the 6th segment
    expect(view.getUint16(5 * 24 + 12, true)).toBe(0x1005);
    // gdt @192, idt @208: base u64, limit u16
    expect(view.getUint32(192, true)).toBe(0x12345);
    expect(view.getUint16(200, true)).toBe(0x27);
    expect(view.getUint32(208, true)).toBe(0xabcdef01);
    expect(view.getUint16(216, true)).toBe(0x7ff);
    // cr0 @224, efer @264, apic_base @272, interrupt_bitmap @280
    expect(view.getUint32(224, true)).toBe(0x60000011);
    expect(view.getUint32(264, true)).toBe(0x500);
    expect(view.getUint32(272, true)).toBe(0xfee00900);
    expect(view.getBigUint64(280 + 16, true)).toBe(1n << 63n);
  });

  it('decodes what it encodes', () => {
    const view = new DataView(new ArrayBuffer(KVM_SREGS_SIZE));
    encodeSregs(view, sampleSregs());
    expect(decodeSregs(view)).toEqual(sampleSregs());
  });
});
