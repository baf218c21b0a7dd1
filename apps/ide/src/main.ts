// The IDE device service: a PIIX3 IDE controller (ATA disks, ATAPI CD-ROM) per VM session,
// with disk images from its data directory.
import { mkdirSync } from 'node:fs';
import { runDeviceServiceCli } from '@quasivm/device-sdk';
import { confinedIdeFactory } from './service-factory.js';

await runDeviceServiceCli(
  (opts) => {
    const dir = String(opts.dataDir);
    mkdirSync(dir, { recursive: true });
    return confinedIdeFactory(dir);
  },
  'ide',
  '127.0.0.1:50052',
  (p) => p.option('--data-dir <dir>', 'directory holding disk and CD images', process.env.QUASIVM_IDE_DATA_DIR ?? 'data/disks'),
);
