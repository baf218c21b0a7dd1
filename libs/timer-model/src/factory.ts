/** How a device service makes the timer for one VM session. */
import type { DeviceDescription, DeviceFactory, DeviceHost, DeviceModel } from '@quasivm/device-sdk';
import { PIT_PORTS, PORT_B_PORTS, TIMER_IRQ } from './ports.js';
import { TimerDevice } from './timer-device.js';

export const TIMER_DEVICE_NAME = 'timer';
export const TIMER_DEVICE_VERSION = '0.1.0';

/** The timer takes no configuration; keys it does not know are ignored. */
export const timerDeviceFactory: DeviceFactory = {
  describe(_config: Record<string, string>): DeviceDescription {
    return {
      name: TIMER_DEVICE_NAME,
      version: TIMER_DEVICE_VERSION,
      ports: [{ ...PIT_PORTS }, { ...PORT_B_PORTS }],
      irqs: [TIMER_IRQ],
      memoryWindows: [],
    };
  },
  create(host: DeviceHost, _config: Record<string, string>): DeviceModel {
    return new TimerDevice(host);
  },
};
