/**
 * Default I/O port ranges and interrupt lines of the chipset models, for the one wiring
 * module that owns port numbers (DESIGN.md, "Devices see offsets; one wiring module owns
 * port numbers"). A model never registers itself; the wiring inserts it at these ranges.
 * Each model decodes `port - base`, with `base` taken from its config (default below).
 */
import type { PortRange } from '@quasivm/device-sdk';

/** 16550 UART, first serial port COM1 (IBM PC/AT Technical Reference: 0x3F8-0x3FF, IRQ4). */
export const COM1_PORTS: PortRange = { base: 0x3f8, length: 8 };
export const COM1_IRQ = 4;
/** COM2..COM4 for machines that want more ports. */
export const COM2_PORTS: PortRange = { base: 0x2f8, length: 8 };
export const COM2_IRQ = 3;
export const COM3_PORTS: PortRange = { base: 0x3e8, length: 8 };
export const COM4_PORTS: PortRange = { base: 0x2e8, length: 8 };

/** MC146818 RTC / CMOS: index 0x70, data 0x71, IRQ8. */
export const CMOS_RTC_PORTS: PortRange = { base: 0x70, length: 2 };
export const CMOS_RTC_IRQ = 8;

/** 8042 keyboard controller: data 0x60, status/command 0x64 (two separate ranges). */
export const I8042_DATA_PORTS: PortRange = { base: 0x60, length: 1 };
export const I8042_COMMAND_PORTS: PortRange = { base: 0x64, length: 1 };
export const I8042_KEYBOARD_IRQ = 1;
export const I8042_MOUSE_IRQ = 12;

/** POST diagnostic code port. */
export const POST_CODE_PORTS: PortRange = { base: 0x80, length: 1 };

/** QEMU/Bochs debug console: QEMU's isa-debugcon default 0x402 (SeaBIOS), Bochs 0xE9. */
export const DEBUG_CONSOLE_PORTS: PortRange = { base: 0x402, length: 1 };
export const BOCHS_DEBUG_PORTS: PortRange = { base: 0xe9, length: 1 };

/** System control port A (PS/2 "port 92"): fast A20 and fast reset. */
export const SYSTEM_CONTROL_PORT_A_PORTS: PortRange = { base: 0x92, length: 1 };

/** PIIX3 reset control register (0xCF9), inside the PCI config range but a separate decode. */
export const RESET_CONTROL_PORTS: PortRange = { base: 0xcf9, length: 1 };

/**
 * PCI configuration mechanism #1: CONFIG_ADDRESS 0xCF8 (dword), CONFIG_DATA 0xCFC-0xCFF.
 * The PIIX3 reset control register sits at 0xCF9 and answers byte accesses there. A bus
 * that can route by access width can give ResetControl 0xCF9/length 1 for bytes; otherwise
 * insert PciHostBridge over the whole PCI_HOST_BRIDGE_PORTS range and give it the
 * ResetControl as its `legacy` model, which receives byte/word accesses to 0xCF8-0xCFB.
 */
export const PCI_HOST_BRIDGE_PORTS: PortRange = { base: 0xcf8, length: 8 };
export const PCI_CONFIG_ADDRESS_PORTS: PortRange = { base: 0xcf8, length: 4 };
export const PCI_CONFIG_DATA_PORTS: PortRange = { base: 0xcfc, length: 4 };

/** QEMU fw_cfg on x86: selector 0x510 (16-bit), data 0x511 (8-bit). DMA (0x514) not modelled. */
export const FW_CFG_PORTS: PortRange = { base: 0x510, length: 2 };

/** 8259A pair: master 0x20/0x21, slave 0xA0/0xA1, PIIX3 ELCR 0x4D0/0x4D1. */
export const PIC_MASTER_PORTS: PortRange = { base: 0x20, length: 2 };
export const PIC_SLAVE_PORTS: PortRange = { base: 0xa0, length: 2 };
export const PIC_ELCR_PORTS: PortRange = { base: 0x4d0, length: 2 };
/** The slave's INT output is wired to master IR2 on the PC/AT. */
export const PIC_CASCADE_IRQ = 2;
