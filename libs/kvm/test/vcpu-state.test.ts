import { afterEach, describe, expect, it } from 'vitest';
import { Cap, cpuidVendor, ExitReason, Kvm, KvmError } from '../src/index.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { TestMachine } from './support/test-machine.js';

describe('KVM system, VM and vCPU state', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  it('reports API version 12, the capabilities the binding relies on, and a CPUID vendor', () => {
    const kvm = Kvm.open();
    try {
      expect(kvm.apiVersion).toBe(12);
      expect(kvm.vcpuMmapSize).toBeGreaterThanOrEqual(4096);
      expect(kvm.checkExtension(Cap.USER_MEMORY)).toBeGreaterThan(0);
      expect(kvm.checkExtension(Cap.IRQCHIP)).toBeGreaterThan(0);
      expect(kvm.checkExtension(Cap.NR_MEMSLOTS)).toBeGreaterThan(0);
      expect(() => kvm.requireExtensions({ USER_MEMORY: Cap.USER_MEMORY, SET_TSS_ADDR: Cap.SET_TSS_ADDR })).not.toThrow();
      const cpuid = kvm.getSupportedCpuid();
      expect(cpuid.length).toBeGreaterThan(1);
      expect(cpuidVendor(cpuid)).toMatch(/^[\x20-\x7e]{12}$/);
    } finally {
      kvm.close();
    }
  });

  it('names the failing call and errno when /dev/kvm cannot be opened', () => {
    expect(() => Kvm.open('/nonexistent/kvm')).toThrow(KvmError);
    expect(() => Kvm.open('/nonexistent/kvm')).toThrow(/^open failed: ENOENT/);
    expect(Kvm.isAvailable('/nonexistent/kvm')).toBe(false);
  });

  it('sets registers and reads them back', () => {
    machine = new TestMachine({ guest: 'serial-hello' });
    const regs = { ...machine.vcpu.getRegs(), rax: 0x12345678, rbx: 0xcafe, rsi: 0x0101_0000_0002, rip: 0xfff0 };
    machine.vcpu.setRegs(regs);
    expect(machine.vcpu.getRegs()).toEqual(regs);
  });

  it('starts at F000:FFF0 in real mode and halts with the guest state the program leaves', () => {
    machine = new TestMachine({ guest: 'serial-hello' });
    const sregs = machine.vcpu.getSregs();
    expect([sregs.cs.selector, sregs.cs.base, sregs.cr0 & 1]).toEqual([0xf000, 0xf0000, 0]);

    expect(machine.runSync(10_000)).toBe('hlt');
    const after = machine.vcpu.getSregs();
    const regs = machine.vcpu.getRegs();
    expect([after.ss.selector, after.ds.selector, after.cs.selector]).toEqual([0, 0, 0xf000]);
    expect(regs.rsp & 0xffff).toBe(0x7000); // guest_init's stack, calls balanced
    expect(regs.rflags & 0x200).toBe(0); // halted with interrupts off
  });

  it('immediate_exit makes KVM_RUN return INTR before the guest executes anything', () => {
    machine = new TestMachine({ guest: 'serial-hello' });
    const before = machine.vcpu.getRegs();
    machine.vcpu.exit.immediateExit = true;
    expect(machine.vcpu.run()).toBe(ExitReason.INTR);
    expect(machine.vcpu.getRegs()).toEqual(before);
    machine.vcpu.exit.immediateExit = false;
    expect(machine.runSync(10_000)).toBe('hlt');
    expect(machine.lines).toEqual(['serial-hello: Hello from quasivm!']);
  });
});
