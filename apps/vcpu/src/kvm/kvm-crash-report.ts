/**
 * What a user is told when a KVM guest cannot go on: the exit, decoded, and the vCPU's
 * registers (as the 'crashed' state's reason and register dump).
 */
import { ExitReason, exitReasonName, InternalErrorSub, type KvmRun, type KvmVcpu } from '@quasivm/kvm';

const hex = (v: number, width = 8) => `0x${v.toString(16).padStart(width, '0')}`;
const INTERNAL_SUB = new Map<number, string>([
  [InternalErrorSub.EMULATION, 'emulation failure'],
  [InternalErrorSub.SIMUL_EX, 'exception while delivering an exception'],
  [InternalErrorSub.DELIVERY_EV, 'event delivery failed'],
  [InternalErrorSub.UNEXPECTED_EXIT_REASON, 'unexpected hardware exit'],
]);
/** kvm_run.internal.emulation_failure: flags (u64) at data[0], then insn_size (u8) and insn_bytes. */
const EMULATION_INSN_SIZE = 32 + 16;
const EMULATION_FLAG_INSN_BYTES = 1n;

/** The vCPU's registers as the VM reports them ('eax': '0x...'), or an empty dump if the vCPU cannot answer. */
export function registerDump(vcpu: KvmVcpu): Record<string, string> {
  try {
    const r = vcpu.getRegs();
    const s = vcpu.getSregs();
    const regs: Record<string, string> = {};
    for (const n of ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'] as const) regs[`e${n.slice(1)}`] = hex(r[n] % 0x1_0000_0000);
    regs.eip = hex(r.rip % 0x1_0000_0000);
    regs.eflags = hex(r.rflags);
    for (const n of ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const) {
      regs[n] = hex(s[n].selector, 4);
      regs[`${n}.base`] = hex(s[n].base);
    }
    regs.cr0 = hex(s.cr0);
    regs.cr2 = hex(s.cr2);
    regs.cr3 = hex(s.cr3);
    regs.cr4 = hex(s.cr4);
    regs.efer = hex(s.efer);
    return regs;
  } catch {
    return {};
  }
}

function describeExit(reason: number, exit: KvmRun): string {
  switch (reason) {
    case ExitReason.SHUTDOWN:
      return 'KVM_EXIT_SHUTDOWN: the CPU shut down (triple fault)';
    case ExitReason.FAIL_ENTRY:
      return `KVM_EXIT_FAIL_ENTRY: the CPU refused to enter the guest (hardware entry failure reason ${hex(exit.failEntryReason)})`;
    case ExitReason.INTERNAL_ERROR: {
      const sub = exit.internalSuberror;
      let text = `KVM_EXIT_INTERNAL_ERROR: ${INTERNAL_SUB.get(sub) ?? 'suberror'} (${sub})`;
      if (sub === InternalErrorSub.EMULATION && exit.internalNdata > 0 && (exit.internalData(0) & EMULATION_FLAG_INSN_BYTES) !== 0n) {
        const size = exit.bytes[EMULATION_INSN_SIZE];
        const insn = exit.bytes.subarray(EMULATION_INSN_SIZE + 1, EMULATION_INSN_SIZE + 1 + Math.min(size, 15));
        text += `, instruction bytes fetched ${[...insn].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      }
      return text;
    }
    default:
      return `unexpected KVM exit ${exitReasonName(reason)} (${reason})`;
  }
}

/** The crash reason: the exit, where the guest was, and its general registers. */
export function crashReason(reason: number, exit: KvmRun, regs: Record<string, string>): string {
  const where = regs.cs ? ` at ${regs.cs}:${regs.eip}` : '';
  const general = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'esp', 'ebp', 'eflags', 'cr0'].filter((n) => regs[n]).map((n) => `${n}=${regs[n]}`).join(' ');
  return `${describeExit(reason, exit)}${where}${general ? `; ${general}` : ''}`;
}
