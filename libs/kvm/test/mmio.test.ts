import { afterEach, describe, expect, it } from 'vitest';
import { kvmAvailable, SKIP_NAME } from './support/kvm-available.js';
import { RAM_SIZE, RAM_SLOT, TestMachine } from './support/test-machine.js';

/** serial-hello's stack page (SS:SP = 0000:7000 grows down into 0x6000-0x6FFF). */
const HOLE = 0x6000;
const HOLE_SIZE = 0x1000;

describe('MMIO exits under KVM', () => {
  if (!kvmAvailable) {
    it.skip(SKIP_NAME, () => {});
    return;
  }
  let machine: TestMachine | undefined;
  afterEach(() => machine?.close());

  it('a guest whose stack page is not RAM still runs when JS serves the MMIO reads and writes', () => {
    machine = new TestMachine({ guest: 'serial-hello' });
    const m = machine;
    // Replace the 1 MiB slot by two slots around a one-page hole.
    m.vm.deleteUserMemoryRegion(RAM_SLOT);
    m.vm.setUserMemoryRegion({ slot: RAM_SLOT, guestPhysAddr: 0, memory: m.ram, offset: 0, size: HOLE });
    m.vm.setUserMemoryRegion({
      slot: RAM_SLOT + 1,
      guestPhysAddr: HOLE + HOLE_SIZE,
      memory: m.ram,
      offset: HOLE + HOLE_SIZE,
      size: RAM_SIZE - HOLE - HOLE_SIZE,
    });

    const page = new DataView(new ArrayBuffer(HOLE_SIZE));
    const accesses: { addr: number; len: number; write: boolean }[] = [];
    m.onMmio = (run) => {
      const addr = run.mmioPhysAddr;
      const len = run.mmioLength;
      accesses.push({ addr, len, write: run.mmioIsWrite });
      if (addr < HOLE || addr + len > HOLE + HOLE_SIZE || len !== 2) throw new Error(`unexpected MMIO ${addr.toString(16)}/${len}`);
      if (run.mmioIsWrite) page.setUint16(addr - HOLE, run.mmioValue, true);
      else run.mmioValue = page.getUint16(addr - HOLE, true);
    };

    expect(m.runSync(10_000)).toBe('hlt');
    expect(m.lines).toEqual(['serial-hello: Hello from quasivm!']);
    // 16-bit pushes and pops just below 0x7000: both directions reached JS.
    expect(accesses.some((a) => a.write && a.addr === 0x6ffe)).toBe(true);
    expect(accesses.some((a) => !a.write && a.addr === 0x6ffe)).toBe(true);
    expect(m.ram.bytes.subarray(HOLE, HOLE + HOLE_SIZE).every((b) => b === 0)).toBe(true);
  });
});
