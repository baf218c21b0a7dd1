import { afterEach, describe, expect, it } from 'vitest';
import { KvmError } from '../src/index.js';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { RAM_SLOT, TestMachine } from './support/test-machine.js';

/** serial-hello's stack sits below 0000:7000, so its calls write page 6. */
const STACK_PAGE = 6;
/** The image at 0xF0000 is only read and fetched by the guest. */
const IMAGE_PAGE = 0xf0;

describe('dirty page log under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  it('reports the stack page the guest wrote, not the pages it only read, then clears', () => {
    machine = new TestMachine({ guest: 'serial-hello', dirtyLog: true });
    const before = machine.vm.getDirtyLog(RAM_SLOT);
    expect(before.dirtyPages()).toEqual([]);

    expect(machine.runSync(10_000)).toBe('hlt');
    const after = machine.vm.getDirtyLog(RAM_SLOT);
    expect(after.pageCount).toBe(256);
    expect(after.isDirty(STACK_PAGE)).toBe(true);
    expect(after.isDirty(IMAGE_PAGE)).toBe(false);
    expect(after.dirtyPages()).toEqual([STACK_PAGE]);

    expect(machine.vm.getDirtyLog(RAM_SLOT).dirtyPages()).toEqual([]);
  });

  it('fails with a KvmError naming the ioctl on a slot without dirty logging', () => {
    machine = new TestMachine({ guest: 'serial-hello', dirtyLog: false });
    let error: unknown;
    try {
      machine.vm.getDirtyLog(RAM_SLOT);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KvmError);
    expect((error as KvmError).call).toBe('KVM_GET_DIRTY_LOG');
    expect((error as KvmError).code).toBe('ENOENT');
    expect((error as KvmError).message).toMatch(/^KVM_GET_DIRTY_LOG failed: ENOENT/);
  });
});
