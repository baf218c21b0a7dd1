// The kernel command line and the syslinux/isolinux configuration shared by the disk
// image and the ISO.

/**
 * Messages on the first serial port and on the screen; /dev/console (where /init writes)
 * is the last one named, the screen. Nothing here turns off hardware the guest would probe.
 */
export const KERNEL_CMDLINE = 'console=ttyS0 console=tty0';

/** The file names the kernel and initramfs get on the boot media. */
export const BOOT_KERNEL_NAME = 'vmlinuz';
export const BOOT_INITRAMFS_NAME = 'initrd.gz';

/** The file name memtest86+ gets on its disk. */
export const BOOT_MEMTEST_NAME = 'memtest.bin';

/** syslinux.cfg of the memtest disk: memtest86+ at once (LINUX: the 16-bit boot protocol, as GRUB's linux16). */
export function memtestSyslinuxConfig(): string {
  return ['SERIAL 0 115200', 'DEFAULT memtest', 'PROMPT 0', 'TIMEOUT 0', 'LABEL memtest', `  LINUX /${BOOT_MEMTEST_NAME}`, ''].join('\n');
}

/** syslinux.cfg / isolinux.cfg: boot the one entry at once, loader messages on COM1 too. */
export function syslinuxConfig(cmdline = KERNEL_CMDLINE): string {
  return [
    'SERIAL 0 115200',
    'DEFAULT quasivm',
    'PROMPT 0',
    'TIMEOUT 0',
    'LABEL quasivm',
    `  KERNEL /${BOOT_KERNEL_NAME}`,
    `  INITRD /${BOOT_INITRAMFS_NAME}`,
    `  APPEND ${cmdline}`,
    '',
  ].join('\n');
}
