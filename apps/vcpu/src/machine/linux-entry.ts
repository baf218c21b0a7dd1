import type { Cpu } from '@quasivm/x86';
import type { KvmRegs, KvmSregs, KvmSegment } from '@quasivm/kvm';
import type { LinuxEntryState } from './linux-boot.js';

// Segment register numbers of the soft CPU (ES, CS, SS, DS, FS, GS) and ESI's index.
const ES = 0;
const CS = 1;
const SS = 2;
const DS = 3;
const FS = 4;
const GS = 5;
const ESI = 6;
const CR0_PE = 1;
/** Descriptor attribute bytes 5-6 as the soft CPU caches them: present, ring 0, code exec/read, G=1, D=1. */
const FLAT_CODE_ATTRS = 0xc09b;

/** Puts the soft CPU at the kernel's 32-bit entry: flat protected mode, paging off, IF clear. */
export function enterLinuxSoft(cpu: Cpu, entry: LinuxEntryState): void {
  cpu.gdtrBase = entry.gdtBase;
  cpu.gdtrLimit = entry.gdtLimit;
  cpu.setControlRegister0(cpu.cr0 | CR0_PE);
  // Loaded as a far jump would: CS straight into its cache (flat 4 GiB, 32-bit, execute/read).
  cpu.setSegmentCache(CS, entry.codeSelector, 0, 0xffffffff, FLAT_CODE_ATTRS);
  for (const seg of [ES, SS, DS, FS, GS]) cpu.loadSegment(seg, entry.dataSelector);
  cpu.reg32.fill(0);
  cpu.reg32[ESI] = entry.esi;
  cpu.setFlags(0x2, 0xffffffff);
  cpu.eip = entry.eip;
}

/** The same state for a KVM vCPU (sregs: the segment caches are set directly, as KVM needs). */
export function linuxEntryKvm(regs: KvmRegs, sregs: KvmSregs, entry: LinuxEntryState): { regs: KvmRegs; sregs: KvmSregs } {
  const flat = (selector: number, type: number): KvmSegment => ({ base: 0, limit: 0xffffffff, selector, type, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 });
  const data = flat(entry.dataSelector, 0x3);
  return {
    regs: { ...regs, rax: 0, rbx: 0, rcx: 0, rdx: 0, rdi: 0, rbp: 0, rsp: 0, rsi: entry.esi, rip: entry.eip, rflags: 0x2 },
    sregs: {
      ...sregs,
      cs: flat(entry.codeSelector, 0xb),
      ds: data,
      es: data,
      fs: data,
      gs: data,
      ss: data,
      gdt: { base: entry.gdtBase, limit: entry.gdtLimit },
      cr0: (sregs.cr0 | CR0_PE) & ~0x80000000,
    },
  };
}
