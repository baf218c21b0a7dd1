/**
 * Direct kernel boot of a bzImage through the Linux/x86 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "32-bit boot protocol"), as QEMU's -kernel and
 * Firecracker do: no BIOS runs; the loader fills in the "zero page" (struct boot_params),
 * copies the protected-mode kernel to 1 MiB and the initrd below initrd_addr_max, and the
 * CPU starts in flat 32-bit protected mode at code32_start with ESI = the zero page.
 */
import { describeTextMode, textModeSetup } from './vga-text-setup.js';

/** Where the loader puts things in guest RAM (all below 1 MiB, away from the kernel at 1 MiB). */
export const BOOT_PARAMS_ADDR = 0x7000;
export const CMDLINE_ADDR = 0x20000;
export const BOOT_GDT_ADDR = 0x500;
export const KERNEL_LOAD_ADDR = 0x100000;
/** The text-mode setup code and its font (8 KiB), run before the kernel when there is a VGA. */
export const TEXT_SETUP_ADDR = 0x8000;
/** boot.rst: "__BOOT_CS has execute/read permission, __BOOT_DS has read/write" at 0x10 / 0x18. */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;

// Setup header fields (offsets in the bzImage and in boot_params; boot.rst "The real-mode kernel header").
const HDR_SETUP_SECTS = 0x1f1;
const HDR_BOOT_FLAG = 0x1fe; // 0xAA55
const HDR_HEADER = 0x202; // "HdrS"
const HDR_VERSION = 0x206;
const HDR_TYPE_OF_LOADER = 0x210;
const HDR_LOADFLAGS = 0x211;
const HDR_CODE32_START = 0x214;
const HDR_RAMDISK_IMAGE = 0x218;
const HDR_RAMDISK_SIZE = 0x21c;
const HDR_HEAP_END_PTR = 0x224;
const HDR_CMD_LINE_PTR = 0x228;
const HDR_INITRD_ADDR_MAX = 0x22c;
const HDR_CMDLINE_SIZE = 0x238;
/** The setup header ends at 0x202 + the byte at 0x201 (the jump's displacement). */
const HDR_END_BYTE = 0x201;

const LOADED_HIGH = 0x01;
const CAN_USE_HEAP = 0x80;
// boot_params fields outside the header (arch/x86/include/uapi/asm/bootparam.h).
const BP_E820_ENTRIES = 0x1e8;
const BP_E820_TABLE = 0x2d0;
const E820_MAX = 128;
const E820_RAM = 1;
const E820_RESERVED = 2;

export interface LinuxBootInput {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline?: string;
  /** Guest RAM below 4 GiB in bytes (the e820 map is built from it). */
  ramBytes: number;
  /** With a VGA: its BIOS's 8x16 font; the guest first runs code that sets text mode 3 as the VGA BIOS would (vga-text-setup.ts). */
  textFont?: Uint8Array;
}

/** The CPU state the kernel expects at its 32-bit entry, for any backend to apply. */
export interface LinuxEntryState {
  eip: number;
  esi: number;
  gdtBase: number;
  gdtLimit: number;
  codeSelector: number;
  dataSelector: number;
}

export class LinuxBootError extends Error {
  constructor(message: string) {
    super(`kernel: ${message}`);
    this.name = 'LinuxBootError';
  }
}

function u16(b: Uint8Array, o: number) {
  return b[o] | (b[o + 1] << 8);
}
function u32(b: Uint8Array, o: number) {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function put32(b: Uint8Array, o: number, v: number) {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
function put64(b: Uint8Array, o: number, v: number) {
  put32(b, o, v % 0x1_0000_0000);
  put32(b, o + 4, Math.floor(v / 0x1_0000_0000));
}

/** Checks a bzImage and tells its protocol version, or throws a clear error. */
export function parseBzImage(kernel: Uint8Array): { version: number; setupBytes: number; initrdAddrMax: number; cmdlineSize: number } {
  if (kernel.length < 0x400) throw new LinuxBootError(`${kernel.length} bytes is too small for a bzImage`);
  if (u16(kernel, HDR_BOOT_FLAG) !== 0xaa55 || String.fromCharCode(...kernel.subarray(HDR_HEADER, HDR_HEADER + 4)) !== 'HdrS')
    throw new LinuxBootError('not a bzImage (no boot flag 0xAA55 and "HdrS" header)');
  const version = u16(kernel, HDR_VERSION);
  if (version < 0x0206) throw new LinuxBootError(`boot protocol ${(version >> 8).toString()}.${version & 0xff} is older than 2.06`);
  if (!(kernel[HDR_LOADFLAGS] & LOADED_HIGH)) throw new LinuxBootError('a zImage loaded low is not supported (LOADED_HIGH clear)');
  const setupSects = kernel[HDR_SETUP_SECTS] || 4;
  return { version, setupBytes: (setupSects + 1) * 512, initrdAddrMax: u32(kernel, HDR_INITRD_ADDR_MAX), cmdlineSize: u32(kernel, HDR_CMDLINE_SIZE) };
}

/** Lays kernel, initrd, command line, zero page and a boot GDT into guest RAM. */
export function loadLinux(ram: Uint8Array, input: LinuxBootInput): LinuxEntryState {
  const { kernel } = input;
  const hdr = parseBzImage(kernel);
  const pmKernel = kernel.subarray(hdr.setupBytes);
  const lowRam = Math.min(input.ramBytes, ram.length);
  if (KERNEL_LOAD_ADDR + pmKernel.length > lowRam) throw new LinuxBootError(`a ${pmKernel.length}-byte kernel does not fit in ${lowRam} bytes of RAM`);
  ram.set(pmKernel, KERNEL_LOAD_ADDR);

  const bp = new Uint8Array(4096);
  const headerEnd = 0x202 + kernel[HDR_END_BYTE];
  bp.set(kernel.subarray(HDR_SETUP_SECTS, headerEnd), HDR_SETUP_SECTS);
  bp[HDR_TYPE_OF_LOADER] = 0xff; // an unregistered boot loader
  bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
  bp[HDR_HEAP_END_PTR] = 0x00;
  bp[HDR_HEAP_END_PTR + 1] = 0xfe; // 0xFE00: the usual end of the setup heap
  put32(bp, HDR_CODE32_START, KERNEL_LOAD_ADDR);

  const cmdline = input.cmdline ?? '';
  const maxCmdline = hdr.cmdlineSize || 255;
  if (cmdline.length > maxCmdline) throw new LinuxBootError(`command line of ${cmdline.length} bytes exceeds this kernel's ${maxCmdline}`);
  ram.fill(0, CMDLINE_ADDR, CMDLINE_ADDR + maxCmdline + 1);
  ram.set(new TextEncoder().encode(cmdline), CMDLINE_ADDR);
  put32(bp, HDR_CMD_LINE_PTR, CMDLINE_ADDR);

  if (input.initrd && input.initrd.length) {
    const limit = Math.min(lowRam, hdr.initrdAddrMax + 1);
    const addr = Math.floor((limit - input.initrd.length) / 4096) * 4096;
    if (addr < KERNEL_LOAD_ADDR + pmKernel.length) throw new LinuxBootError(`a ${input.initrd.length}-byte initrd does not fit below 0x${limit.toString(16)} after the kernel`);
    ram.set(input.initrd, addr);
    put32(bp, HDR_RAMDISK_IMAGE, addr);
    put32(bp, HDR_RAMDISK_SIZE, input.initrd.length);
  }

  // e820: low RAM below the EBDA/VGA hole, the BIOS area reserved, RAM from 1 MiB.
  const e820: Array<[number, number, number]> = [
    [0, 0x9fc00, E820_RAM],
    [0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED],
    [0x100000, lowRam - 0x100000, E820_RAM],
  ];
  e820.slice(0, E820_MAX).forEach(([addr, size, type], i) => {
    put64(bp, BP_E820_TABLE + i * 20, addr);
    put64(bp, BP_E820_TABLE + i * 20 + 8, size);
    put32(bp, BP_E820_TABLE + i * 20 + 16, type);
  });
  bp[BP_E820_ENTRIES] = e820.length;
  let eip = KERNEL_LOAD_ADDR;
  if (input.textFont) {
    describeTextMode(bp);
    ram.set(textModeSetup(TEXT_SETUP_ADDR, input.textFont, BOOT_PARAMS_ADDR, KERNEL_LOAD_ADDR), TEXT_SETUP_ADDR);
    eip = TEXT_SETUP_ADDR;
  }
  ram.set(bp, BOOT_PARAMS_ADDR);

  // Boot GDT: null, null, __BOOT_CS (flat 4 GiB code), __BOOT_DS (flat 4 GiB data).
  const gdt = new Uint8Array(32);
  gdt.set([0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00], BOOT_CS);
  gdt.set([0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00], BOOT_DS);
  ram.set(gdt, BOOT_GDT_ADDR);

  return { eip, esi: BOOT_PARAMS_ADDR, gdtBase: BOOT_GDT_ADDR, gdtLimit: gdt.length - 1, codeSelector: BOOT_CS, dataSelector: BOOT_DS };
}
