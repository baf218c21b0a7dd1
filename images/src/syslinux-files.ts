// Where Debian's syslinux-common and isolinux packages put the boot loader pieces.
export const SYSLINUX_MBR = '/usr/lib/syslinux/mbr/mbr.bin';
export const LDLINUX_C32 = '/usr/lib/syslinux/modules/bios/ldlinux.c32';
export const ISOLINUX_BIN = '/usr/lib/ISOLINUX/isolinux.bin';
/** The MBR boot code fills the first 440 bytes; the disk signature and partition table follow. */
export const MBR_CODE_BYTES = 440;
