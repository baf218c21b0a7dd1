import path from 'node:path';
import type { DeviceFactory } from '@quasivm/device-sdk';
import { ideDeviceFactory } from '@quasivm/ide-model';

/**
 * The IDE model as this service offers it: disk images come only from the service's own
 * data directory. A VM spec names images relative to it and cannot choose another one.
 */
export function confinedIdeFactory(dataDir: string): DeviceFactory {
  const root = path.resolve(dataDir);
  const withDataDir = (config: Record<string, string>) => {
    if ('dataDir' in config) throw new Error('dataDir is set by the IDE service (--data-dir), not by the VM spec');
    return { ...config, dataDir: root };
  };
  return {
    describe: (config) => ideDeviceFactory.describe(withDataDir(config)),
    create: (host, config) => ideDeviceFactory.create(host, withDataDir(config)),
  };
}
