import { afterEach, describe, expect, it } from 'vitest';
import { kickThread } from '../src/index.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { waitForThreadInKvmRun } from './support/kvm-run-thread.js';
import { TestMachine } from './support/test-machine.js';

const IRQ = 0;
const WANTED = 10;

describe('interrupts through the in-kernel PIC', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  let pulser: NodeJS.Timeout | undefined;
  afterEach(() => {
    clearInterval(pulser);
    machine?.close();
  });

  it('the guest programs the PIC and counts IRQ 0 pulses injected with KVM_IRQ_LINE while it halts', async () => {
    machine = new TestMachine({ guest: 'interrupts', params: { param0: WANTED, param1: IRQ }, irqchip: true });
    const m = machine;
    const waiting = () => m.lines.includes('interrupts: waiting');
    expect(await m.runAsync(10_000, waiting)).toBe('until');

    // The guest now loops sti; hlt inside KVM_RUN (the in-kernel irqchip handles HLT).
    const run = m.runAsync(20_000, () => m.lines.length >= 2);
    let pulses = 0;
    pulser = setInterval(() => {
      m.vm.pulseIrq(IRQ);
      pulses++;
    }, 2);
    expect(await run).toBe('until');
    clearInterval(pulser);

    expect(m.lines).toEqual(['interrupts: waiting', `interrupts: received=0x${WANTED.toString(16).padStart(8, '0')}`]);
    expect(pulses).toBeGreaterThanOrEqual(WANTED);
  });

  it('a halted vCPU is kicked out of KVM_RUN by a signal to its thread (EINTR -> INTR)', async () => {
    machine = new TestMachine({ guest: 'interrupts', params: { param0: 1, param1: IRQ }, irqchip: true });
    const m = machine;
    expect(await m.runAsync(10_000, () => m.lines.includes('interrupts: waiting'))).toBe('until');

    const halted = m.vcpu.runAsync();
    const tid = await waitForThreadInKvmRun(m.vcpu.fd, 5_000);
    kickThread(tid);
    expect(await halted).toBe(10 /* ExitReason.INTR */);

    // Resume: one interrupt completes the guest.
    const rest = m.runAsync(10_000, () => m.lines.length >= 2);
    await waitForThreadInKvmRun(m.vcpu.fd, 5_000);
    m.vm.pulseIrq(IRQ);
    expect(await rest).toBe('until');
    expect(m.lines[1]).toBe('interrupts: received=0x00000001');
  });
});
