import { afterEach, describe, expect, it } from 'vitest';
import { ExitReason, InternalErrorSub, Kvm } from '../src/index.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { TestMachine } from './support/test-machine.js';

/**
 * kvm_pvm runs real mode through KVM's instruction emulator, which cannot raise #UD for
 * ud2: instead of the architectural #UD -> #GP -> #DF -> shutdown it reports an
 * emulation failure. Hardware KVM (kvm_intel / kvm_amd) shuts the guest down.
 */
const emulatesRealMode = Kvm.backendModules().includes('kvm_pvm');
const UD2 = [0x0f, 0x0b];

describe('triple-fault under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  if (!emulatesRealMode) {
    it('ends in a SHUTDOWN exit after its line', () => {
      machine = new TestMachine({ guest: 'triple-fault' });
      const stop = machine.runSync(10_000);
      expect(machine.lines).toEqual(['triple-fault: loading an empty IDT']);
      expect(stop).toBe('shutdown');
      expect(machine.vcpu.exit.exitReason).toBe(ExitReason.SHUTDOWN);
    });
  } else {
    it('kvm_pvm: ends in an INTERNAL_ERROR emulation failure naming the ud2 (no SHUTDOWN on this backend)', () => {
      machine = new TestMachine({ guest: 'triple-fault' });
      const stop = machine.runSync(10_000);
      expect(machine.lines).toEqual(['triple-fault: loading an empty IDT']);
      expect(stop).toBe('internal-error');
      const exit = machine.vcpu.exit;
      expect(exit.exitReason).toBe(ExitReason.INTERNAL_ERROR);
      expect(exit.internalSuberror).toBe(InternalErrorSub.EMULATION);
      // emulation_failure: data[0] = flags (bit 0: instruction bytes valid), then insn_size, insn_bytes
      expect(exit.internalData(0) & 1n).toBe(1n);
      const insn = exit.bytes.subarray(32 + 16 + 1, 32 + 16 + 1 + 2);
      expect([...insn]).toEqual(UD2);
    });
  }
});
