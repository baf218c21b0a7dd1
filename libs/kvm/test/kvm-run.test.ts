import { describe, expect, it } from 'vitest';
import { ExitReason, exitReasonName, KvmRun } from '../src/index.js';

/** A fake kvm_run area: one page of struct plus one page of PIO data, as KVM maps it. */
function fakeRun(): { run: KvmRun; view: DataView } {
  const bytes = new Uint8Array(8192);
  return { run: new KvmRun(bytes), view: new DataView(bytes.buffer) };
}

describe('kvm_run exit decoding', () => {
  it('decodes an IO exit and its data at data_offset', () => {
    const { run, view } = fakeRun();
    view.setUint32(8, ExitReason.IO, true);
    view.setUint8(32, 1); // out
    view.setUint8(33, 2); // word
    view.setUint16(34, 0x1f0, true);
    view.setUint32(36, 3, true); // rep outsw of 3 words
    view.setBigUint64(40, 4096n, true);
    [0x1111, 0x2222, 0xbeef].forEach((w, i) => view.setUint16(4096 + 2 * i, w, true));

    expect(run.exitReason).toBe(ExitReason.IO);
    expect([run.ioIsOut, run.ioDirection, run.ioSize, run.ioPort, run.ioCount, run.ioDataOffset]).toEqual([true, 1, 2, 0x1f0, 3, 4096]);
    expect([run.ioValue(0), run.ioValue(1), run.ioValue(2)]).toEqual([0x1111, 0x2222, 0xbeef]);
    expect(run.ioData()).toHaveLength(6);
  });

  it('writes IN data where the guest will read it', () => {
    const { run, view } = fakeRun();
    view.setUint8(32, 0);
    view.setUint8(33, 4);
    view.setUint32(36, 1, true);
    view.setBigUint64(40, 4096n, true);
    run.setIoValue(0xfeedf00d);
    expect(view.getUint32(4096, true)).toBe(0xfeedf00d);
  });

  it('decodes MMIO, FAIL_ENTRY, INTERNAL_ERROR and SYSTEM_EVENT payloads', () => {
    const { run, view } = fakeRun();
    view.setBigUint64(32, 0xfee00030n, true);
    view.setUint32(40, 0xcafe, true);
    view.setUint32(48, 2, true);
    view.setUint8(52, 1);
    expect([run.mmioPhysAddr, run.mmioValue, run.mmioLength, run.mmioIsWrite]).toEqual([0xfee00030, 0xcafe, 2, true]);

    view.setBigUint64(32, 0x80000021n, true);
    view.setUint32(40, 7, true);
    expect([run.failEntryReason, run.failEntryCpu]).toEqual([0x80000021, 7]);

    view.setUint32(32, 1, true);
    view.setUint32(36, 2, true);
    view.setBigUint64(48, 0x42n, true);
    expect([run.internalSuberror, run.internalNdata, run.internalData(1)]).toEqual([1, 2, 0x42n]);

    view.setUint32(32, 2, true);
    view.setUint32(36, 1, true);
    view.setBigUint64(40, 9n, true);
    expect([run.systemEventType, run.systemEventNdata, run.systemEventData(0)]).toEqual([2, 1, 9n]);
  });

  it('sets the input flags in place', () => {
    const { run, view } = fakeRun();
    run.immediateExit = true;
    run.requestInterruptWindow = true;
    expect([view.getUint8(1), view.getUint8(0)]).toEqual([1, 1]);
    view.setUint8(12, 1);
    view.setUint8(13, 1);
    expect([run.readyForInterruptInjection, run.ifFlag]).toEqual([true, true]);
  });

  it('names exit reasons', () => {
    expect(exitReasonName(ExitReason.SHUTDOWN)).toBe('SHUTDOWN');
    expect(exitReasonName(200)).toBe('EXIT_200');
  });
});
