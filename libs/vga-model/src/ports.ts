/**
 * The I/O ports of a VGA adapter (IBM VGA Technical Reference; FreeVGA "VGA/SVGA Video
 * Programming -- Register Reference", "Accessing the VGA registers"), and the Bochs VBE
 * DISPI pair. The model handles absolute port numbers because it owns two disjoint ranges;
 * the wiring inserts it with VGA_PORT_RANGES.
 */
import type { PortRange } from '@quasivm/device-sdk';

/** 3B4h/3B5h: CRTC index/data when Misc Output bit 0 (I/OAS) = 0 (monochrome addressing). */
export const PORT_CRTC_INDEX_MONO = 0x3b4;
export const PORT_CRTC_DATA_MONO = 0x3b5;
/** 3BAh: Input Status #1 read / Feature Control write, monochrome addressing. */
export const PORT_INPUT_STATUS_1_MONO = 0x3ba;
/** 3C0h: Attribute Address/Data write (flip-flop); read gives the address register. */
export const PORT_AC_INDEX_DATA = 0x3c0;
/** 3C1h: Attribute Data read. */
export const PORT_AC_DATA_READ = 0x3c1;
/** 3C2h: Miscellaneous Output write / Input Status #0 read. */
export const PORT_MISC_WRITE_STATUS_0 = 0x3c2;
/** 3C3h: Video Subsystem Enable (bit 0). */
export const PORT_VIDEO_ENABLE = 0x3c3;
export const PORT_SEQ_INDEX = 0x3c4;
export const PORT_SEQ_DATA = 0x3c5;
/** 3C6h: DAC Pixel (PEL) Mask. */
export const PORT_DAC_MASK = 0x3c6;
/** 3C7h: DAC Address Read Mode write / DAC State read. */
export const PORT_DAC_READ_INDEX = 0x3c7;
/** 3C8h: DAC Address Write Mode. */
export const PORT_DAC_WRITE_INDEX = 0x3c8;
/** 3C9h: DAC Data, three 6-bit components per entry. */
export const PORT_DAC_DATA = 0x3c9;
/** 3CAh: Feature Control read. */
export const PORT_FEATURE_CONTROL_READ = 0x3ca;
/** 3CCh: Miscellaneous Output read. */
export const PORT_MISC_READ = 0x3cc;
export const PORT_GC_INDEX = 0x3ce;
export const PORT_GC_DATA = 0x3cf;
/** 3D4h/3D5h: CRTC index/data when Misc Output bit 0 = 1 (colour addressing). */
export const PORT_CRTC_INDEX_COLOR = 0x3d4;
export const PORT_CRTC_DATA_COLOR = 0x3d5;
/** 3DAh: Input Status #1 read / Feature Control write, colour addressing. */
export const PORT_INPUT_STATUS_1_COLOR = 0x3da;

/** Bochs VBE DISPI interface: 16-bit index and data registers. */
export const PORT_VBE_DISPI_INDEX = 0x1ce;
export const PORT_VBE_DISPI_DATA = 0x1cf;

export const VGA_PORT_BASE = 0x3b0;
export const VGA_PORT_COUNT = 0x30;
export const VBE_PORT_BASE = PORT_VBE_DISPI_INDEX;
export const VBE_PORT_COUNT = 2;

export const VGA_PORT_RANGES: readonly PortRange[] = [
  { base: VGA_PORT_BASE, length: VGA_PORT_COUNT },
  { base: VBE_PORT_BASE, length: VBE_PORT_COUNT },
];

/** The legacy memory window, 0A0000h-0BFFFFh (FreeVGA, Graphics Miscellaneous Register). */
/**
 * Data ports whose writes can change how the memory windows map (misc output RAM enable,
 * sequencer and graphics controller datapath, DISPI enable/bank/mode): after a write there
 * the vCPU asks the window modes again before the guest touches a window.
 */
export const VGA_WINDOW_MODE_PORTS: readonly PortRange[] = [
  { base: PORT_MISC_WRITE_STATUS_0, length: 1 },
  { base: PORT_SEQ_DATA, length: 1 },
  { base: PORT_GC_DATA, length: 1 },
  { base: PORT_VBE_DISPI_DATA, length: 1 },
];

export const VGA_WINDOW_BASE = 0xa0000;
export const VGA_WINDOW_LENGTH = 0x20000;

/** Miscellaneous Output Register bits (FreeVGA "External Registers"). */
export const MISC_IOAS = 0x01; // I/O address select: 1 = 3Dxh, 0 = 3Bxh
export const MISC_RAM_ENABLE = 0x02;
export const MISC_PAGE_SELECT = 0x20; // odd/even page select

/** Input Status #1 bits (FreeVGA "External Registers"). */
export const IS1_DISPLAY_DISABLED = 0x01; // DD: 1 while in horizontal or vertical blanking
export const IS1_VERTICAL_RETRACE = 0x08; // VRetrace
