import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { RecordingHost } from './test-host.js';
import {
  CmosRtc, type CmosRtcConfig, CMOS_CENTURY, RTC_DAY_OF_MONTH, RTC_DAY_OF_WEEK, RTC_HOURS, RTC_HOURS_ALARM, RTC_MINUTES,
  RTC_MINUTES_ALARM, RTC_MONTH, RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_REG_D, RTC_SECONDS, RTC_SECONDS_ALARM, RTC_YEAR,
} from './cmos-rtc.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const LEAP_DAY_END = Date.UTC(2024, 1, 29, 23, 59, 58); // Thursday 2024-02-29 23:59:58 UTC

function setup(extra: Partial<CmosRtcConfig> = {}) {
  const host = new RecordingHost();
  const rtc = new CmosRtc(host, { baseEpochMs: LEAP_DAY_END, ramSize: 128 * MiB, ...extra });
  const read = (reg: number, now: number) => {
    rtc.ioWrite(0x70, 1, reg, now);
    return rtc.ioRead(0x71, 1, now);
  };
  const write = (reg: number, value: number, now: number) => {
    rtc.ioWrite(0x70, 1, reg, now);
    rtc.ioWrite(0x71, 1, value, now);
  };
  return { host, rtc, read, write };
}

const MS = 1_000_000;
const S = 1_000_000_000;

describe('CmosRtc', () => {
  it('reads the configured wall clock in BCD, 24h, with century', () => {
    const { read } = setup();
    const t = 500 * MS;
    expect([RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, CMOS_CENTURY].map((r) => read(r, t)))
      .toEqual([0x58, 0x59, 0x23, 0x29, 0x02, 0x24, 0x20]);
    expect(read(RTC_DAY_OF_WEEK, t)).toBe(5); // Thursday, Sunday = 1
    expect(read(RTC_REG_D, t)).toBe(0x80);
    expect(read(RTC_REG_A, t)).toBe(0x26);
    expect(read(RTC_REG_B, t)).toBe(0x02);
  });

  it('advances with guest time only, across a leap-day month end', () => {
    const { read } = setup();
    const t = 2 * S + 500 * MS;
    expect([RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_MONTH, RTC_MONTH].map((r) => read(r, t))).toEqual([0x00, 0x00, 0x00, 0x01, 0x03]);
  });

  it('binary and 12-hour modes per register B', () => {
    const { read, write } = setup();
    write(RTC_REG_B, 0x04, 0); // binary, 12h
    expect(read(RTC_HOURS, 500 * MS)).toBe(0x80 | 11); // 23h = 11 PM
    expect(read(RTC_SECONDS, 500 * MS)).toBe(58);
    write(RTC_REG_B, 0x00, 0); // BCD, 12h
    expect(read(RTC_HOURS, 500 * MS)).toBe(0x91);
  });

  it('update-in-progress bit follows guest time around each second boundary', () => {
    const { read } = setup();
    expect(read(RTC_REG_A, 500 * MS) & 0x80).toBe(0);
    expect(read(RTC_REG_A, S - 100_000) & 0x80).toBe(0x80); // 100 us before the update
    expect(read(RTC_REG_A, S + 1_000_000) & 0x80).toBe(0x80); // inside the update cycle
    expect(read(RTC_REG_A, S + 2_000_000) & 0x80).toBe(0);
  });

  it('SET stops the clock for setting; clearing it restarts from the written time', () => {
    const { read, write } = setup();
    write(RTC_REG_B, 0x82, 0);
    write(RTC_HOURS, 0x07, 0);
    write(RTC_MINUTES, 0x30, 0);
    write(RTC_SECONDS, 0x00, 0);
    write(RTC_YEAR, 0x25, 0);
    write(RTC_MONTH, 0x12, 0);
    write(RTC_DAY_OF_MONTH, 0x31, 0);
    expect(read(RTC_SECONDS, 10 * S)).toBe(0x00); // stopped
    expect(read(RTC_REG_A, S - 100_000) & 0x80).toBe(0); // no updates while SET
    write(RTC_REG_B, 0x02, 10 * S);
    expect([RTC_HOURS, RTC_MINUTES, RTC_SECONDS, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR].map((r) => read(r, 13 * S + 5 * MS)))
      .toEqual([0x07, 0x30, 0x03, 0x31, 0x12, 0x25]);
  });

  it('periodic interrupt: PF in register C and an IRQ8 deadline at the RS rate', () => {
    const { read, write, host } = setup();
    expect(host.deadlines.get(8)?.at ?? null).toBeNull();
    write(RTC_REG_A, 0x26, 0); // RS 6 = 1024 Hz
    write(RTC_REG_B, 0x42, 0);
    const d = host.deadlines.get(8)!;
    expect(d.periodNs).toBe(976_563);
    expect(d.at).toBeGreaterThan(0);
    expect(d.at).toBeLessThanOrEqual(976_563);
    expect(read(RTC_REG_C, 100_000)).toBe(0); // no tick yet
    expect(read(RTC_REG_C, 2 * MS)).toBe(0xc0); // PF + IRQF
    expect(read(RTC_REG_C, 2 * MS)).toBe(0); // read clears
    write(RTC_REG_B, 0x02, 3 * MS);
    expect(host.deadlines.get(8)!.at).toBeNull();
    expect(read(RTC_REG_C, 5 * MS)).toBe(0x40); // PF without PIE: no IRQF
  });

  it('update-ended flag every second; with UIE it asserts IRQF', () => {
    const { read, write, host } = setup();
    expect(read(RTC_REG_C, 1 * S + 5 * MS) & 0x10).toBe(0x10);
    write(RTC_REG_B, 0x12, 1 * S + 5 * MS);
    expect(host.deadlines.get(8)).toEqual({ at: 2 * S, periodNs: S });
    // 23:59:59 -> 00:00:00 also matches the all-zero alarm (AF); PF runs at RS 6 regardless of PIE.
    expect(read(RTC_REG_C, 2 * S + 5 * MS)).toBe(0x80 | 0x40 | 0x20 | 0x10);
    expect(read(RTC_REG_C, 3 * S + 5 * MS)).toBe(0x80 | 0x40 | 0x10);
  });

  it('alarm: AF when the time matches, deadline at the match, don\'t-care bytes', () => {
    const { read, write, host } = setup();
    write(RTC_SECONDS_ALARM, 0x01, 0); // 00:00:01 on the next day
    write(RTC_MINUTES_ALARM, 0x00, 0);
    write(RTC_HOURS_ALARM, 0x00, 0);
    write(RTC_REG_B, 0x22, 0);
    expect(host.deadlines.get(8)?.at).toBe(3 * S);
    expect(read(RTC_REG_C, 2 * S + 5 * MS) & 0x20).toBe(0);
    expect(read(RTC_REG_C, 3 * S + 5 * MS) & ~0x40).toBe(0xa0 | 0x10);
    write(RTC_HOURS_ALARM, 0xff, 4 * S);
    write(RTC_MINUTES_ALARM, 0xff, 4 * S);
    write(RTC_SECONDS_ALARM, 0xff, 4 * S); // every second
    expect(read(RTC_REG_C, 5 * S + 5 * MS) & 0x20).toBe(0x20);
  });

  it('enabling an interrupt whose flag is set pulses IRQ8 at once', () => {
    const { read, write, host } = setup();
    expect(read(RTC_SECONDS, 1 * S + 5 * MS)).toBe(0x59); // advance past an update, UF set
    write(RTC_REG_B, 0x12, 1 * S + 6 * MS);
    expect(host.risingEdges(8)).toBe(1);
    expect(host.level(8)).toBe(false);
  });

  it('index bit 7 masks NMI and does not change the register', () => {
    const { rtc, read } = setup();
    expect(rtc.nmiMasked).toBe(false);
    rtc.ioWrite(0x70, 1, 0x80 | RTC_REG_D, 0);
    expect(rtc.nmiMasked).toBe(true);
    expect(rtc.ioRead(0x71, 1, 0)).toBe(0x80);
    read(0x0f, 0);
    expect(rtc.nmiMasked).toBe(false);
  });

  it('memory size fields for 128 MiB as the BIOS reads them', () => {
    const { read } = setup();
    const w = (lo: number) => read(lo, 0) | (read(lo + 1, 0) << 8);
    expect(w(0x15)).toBe(640);
    expect(w(0x17)).toBe(0xffff); // 127 MiB in KiB does not fit
    expect(w(0x30)).toBe(0xffff);
    expect(w(0x34)).toBe((112 * MiB) / 65536);
    expect(read(0x5b, 0) | read(0x5c, 0) | read(0x5d, 0)).toBe(0);
  });

  it('memory fields for a small and a large machine', () => {
    const small = setup({ ramSize: 32 * MiB });
    expect(small.read(0x17, 0) | (small.read(0x18, 0) << 8)).toBe(31 * 1024);
    expect(small.read(0x34, 0) | (small.read(0x35, 0) << 8)).toBe(256);
    const large = setup({ ramSize: 5 * GiB, cpuCount: 4 });
    expect(large.read(0x34, 0) | (large.read(0x35, 0) << 8)).toBe((3 * GiB - 16 * MiB) / 65536);
    expect(large.read(0x5b, 0) | (large.read(0x5c, 0) << 8) | (large.read(0x5d, 0) << 16)).toBe((2 * GiB) / 65536);
    expect(large.read(0x5f, 0)).toBe(3);
  });

  it('equipment, floppy, disk and boot order bytes; checksum over 0x10-0x2D', () => {
    const { read } = setup({ floppies: ['1.44M'], hardDisks: 1, bootOrder: ['cdrom', 'disk', 'floppy'], floppySignatureCheck: false });
    expect(read(0x10, 0)).toBe(0x40);
    expect(read(0x14, 0)).toBe(0x07);
    expect(read(0x12, 0)).toBe(0xf0);
    expect(read(0x19, 0)).toBe(47);
    expect(read(0x3d, 0)).toBe(0x23);
    expect(read(0x38, 0)).toBe(0x11);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += read(i, 0);
    expect((read(0x2e, 0) << 8) | read(0x2f, 0)).toBe(sum);
  });

  it('general CMOS bytes keep what the guest writes; C and D are read-only', () => {
    const { rtc, read, write } = setup();
    write(0x0f, 0x0a, 0);
    write(0x7f, 0x5a, 0);
    expect(read(0x0f, 0)).toBe(0x0a);
    expect(read(0x7f, 0)).toBe(0x5a);
    write(RTC_REG_D, 0, 0);
    expect(read(RTC_REG_D, 0)).toBe(0x80);
    expect(rtc.counters.unknownRegister).toBe(1);
    expect(rtc.ioRead(0x71, 2, 0)).toBe(0xffff);
    expect(rtc.counters.badWidth).toBe(1);
  });

  it('save/restore contract', () => {
    const { rtc } = setup();
    expect(checkSaveRestore(rtc, (m) => {
      m.ioWrite(0x70, 1, 0x8b, 0);
      m.ioWrite(0x71, 1, 0x86, 0); // SET, 24h... and freeze
      m.ioWrite(0x70, 1, 0x40, 0);
      m.ioWrite(0x71, 1, 0x99, 0);
    })).toBeNull();
  });

  it('a restored clock keeps its time in another instance', () => {
    const a = setup();
    a.write(RTC_REG_B, 0x82, 0);
    a.write(RTC_HOURS, 0x12, 0);
    a.write(RTC_REG_B, 0x02, 0);
    const b = setup({ baseEpochMs: 0 });
    b.rtc.loadState(JSON.parse(JSON.stringify(a.rtc.saveState())));
    expect(b.read(RTC_HOURS, 1 * S)).toBe(0x12);
    expect(b.read(RTC_HOURS, 10 * S)).toBe(0x13);
    expect(b.read(RTC_YEAR, 10 * S)).toBe(0x24);
  });

  it('rejects malformed state and stays unchanged', () => {
    const { rtc, read, write } = setup();
    write(0x40, 0x11, 0);
    const good = rtc.saveState();
    expect(() => rtc.loadState({ ...good, cmos: 'AAAA' })).toThrow(DeviceStateError);
    expect(() => rtc.loadState({ ...good, frozenSec: 5 })).toThrow(DeviceStateError);
    expect(() => rtc.loadState({ ...good, index: 200 })).toThrow(DeviceStateError);
    expect(read(0x40, 0)).toBe(0x11);
  });
});

describe('CmosRtc with fractional times', () => {
  it('saves and restores state reached at fractional guest times and epoch', () => {
    const host = new RecordingHost();
    const rtc = new CmosRtc(host, { baseEpochMs: 1_700_000_000_123.5, ramSize: 1 << 24 });
    rtc.ioWrite(0x70, 1, 0x0c, 1.5);
    rtc.ioRead(0x71, 1, 2_000_000_000.25);
    const saved = JSON.parse(JSON.stringify(rtc.saveState()));
    const other = new CmosRtc(new RecordingHost(), { baseEpochMs: 0, ramSize: 1 << 24 });
    other.loadState(saved);
    expect(other.epochMsAt(3e9)).toBe(rtc.epochMsAt(3e9));
    expect(rtc.epochMsAt(0)).toBe(1_699_999_999_000 + 1000);
  });
});
