// The El Torito ISO: isolinux (no-emulation boot, with the boot info table) plus the same
// kernel, initramfs and configuration as the disk, laid out in a scratch tree and written
// by xorriso in its mkisofs mode.
import { copyFileSync, lutimesSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.js';
import { ISOLINUX_BIN, LDLINUX_C32 } from './syslinux-files.js';

export interface IsoInputs {
  kernel: string;
  initramfs: string;
  kernelName: string;
  initramfsName: string;
  config: string;
  /** Every file's time and the volume's dates (seconds), so the ISO is reproducible. */
  mtime: number;
}

/** Builds the ISO at output, staging its tree in stageDir. */
export async function makeIso(output: string, stageDir: string, inputs: IsoInputs): Promise<void> {
  rmSync(stageDir, { recursive: true, force: true });
  const isolinuxDir = join(stageDir, 'isolinux');
  mkdirSync(isolinuxDir, { recursive: true });
  copyFileSync(ISOLINUX_BIN, join(isolinuxDir, 'isolinux.bin'));
  copyFileSync(LDLINUX_C32, join(isolinuxDir, 'ldlinux.c32'));
  writeFileSync(join(isolinuxDir, 'isolinux.cfg'), inputs.config);
  copyFileSync(inputs.kernel, join(stageDir, inputs.kernelName));
  copyFileSync(inputs.initramfs, join(stageDir, inputs.initramfsName));
  for (const path of ['isolinux/isolinux.bin', 'isolinux/ldlinux.c32', 'isolinux/isolinux.cfg', inputs.kernelName, inputs.initramfsName, 'isolinux', '.']) {
    lutimesSync(join(stageDir, path), inputs.mtime, inputs.mtime);
  }
  rmSync(output, { force: true });
  await run(
    ['xorriso', '-as', 'mkisofs', '-quiet', '-o', output, '-V', 'QUASIVM', '-R', '-J',
      '-b', 'isolinux/isolinux.bin', '-c', 'boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
      stageDir],
    { env: { SOURCE_DATE_EPOCH: String(inputs.mtime) } },
  );
}
