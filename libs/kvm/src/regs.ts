/** struct kvm_regs (asm/kvm.h, x86_64): 18 consecutive __u64, 144 bytes. */
import { readU64, writeU64 } from './u64.js';

export interface KvmRegs {
  rax: number; rbx: number; rcx: number; rdx: number;
  rsi: number; rdi: number; rsp: number; rbp: number;
  r8: number; r9: number; r10: number; r11: number;
  r12: number; r13: number; r14: number; r15: number;
  rip: number; rflags: number;
}

/** Field order of struct kvm_regs; field i is at byte 8 * i. */
export const KVM_REGS_FIELDS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'rip', 'rflags',
] as const satisfies readonly (keyof KvmRegs)[];

export const KVM_REGS_SIZE = 144;

export function decodeRegs(view: DataView, offset = 0): KvmRegs {
  const regs = {} as KvmRegs;
  KVM_REGS_FIELDS.forEach((name, i) => {
    regs[name] = readU64(view, offset + 8 * i);
  });
  return regs;
}

export function encodeRegs(view: DataView, regs: KvmRegs, offset = 0): void {
  KVM_REGS_FIELDS.forEach((name, i) => writeU64(view, offset + 8 * i, regs[name], name));
}
