/** The DeviceFactory a device service uses to serve the timer. */
import { describe, expect, it } from 'vitest';
import { timerDeviceFactory } from '../src/factory.js';
import { TimerDevice } from '../src/timer-device.js';
import { RecordingHost } from './helpers.js';

describe('timerDeviceFactory', () => {
  it('describes ports 0x40-0x43 and 0x61 and IRQ 0', () => {
    expect(timerDeviceFactory.describe({})).toEqual({
      name: 'timer',
      version: '0.1.0',
      ports: [{ base: 0x40, length: 4 }, { base: 0x61, length: 1 }],
      irqs: [0],
      memoryWindows: [],
    });
  });

  it('creates independent models per session', () => {
    const hostA = new RecordingHost();
    const a = timerDeviceFactory.create(hostA, {});
    const b = timerDeviceFactory.create(new RecordingHost(), {});
    expect(a).toBeInstanceOf(TimerDevice);
    a.ioWrite(0x43, 1, 0x34, 0);
    a.ioWrite(0x40, 1, 0xa9, 0);
    a.ioWrite(0x40, 1, 0x04, 0);
    expect(hostA.deadlines).toHaveLength(1);
    expect(JSON.stringify(b.saveState())).not.toBe(JSON.stringify(a.saveState()));
  });
});
