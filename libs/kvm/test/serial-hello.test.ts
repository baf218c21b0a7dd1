import { afterEach, describe, expect, it } from 'vitest';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { TestMachine } from './support/test-machine.js';

describe('serial-hello under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  it('prints its line on COM1 and halts', () => {
    machine = new TestMachine({ guest: 'serial-hello' });
    const stop = machine.runSync(10_000);
    expect(stop).toBe('hlt');
    expect(machine.lines).toEqual(['serial-hello: Hello from quasivm!']);
  });
});
