/**
 * Where the PC wires the timer block (IBM PC/AT Technical Reference, "System I/O Address
 * Map": 040-05F programmable timer, 061 system control port B; interrupt level 0 is the
 * timer). The one place in this package that names port numbers and the IRQ line; the
 * chip models below it see offsets only.
 */
import type { PortRange } from '@quasivm/device-sdk';

/** 8254 PIT: counter 0, counter 1, counter 2, control word register (A1 A0 = 00..11). */
export const PIT_PORTS: PortRange = { base: 0x40, length: 4 };
/** System control port B (the NMI status and control register of PIIX-class chipsets). */
export const PORT_B_PORTS: PortRange = { base: 0x61, length: 1 };
/** Counter 0's OUT drives interrupt request line 0. */
export const TIMER_IRQ = 0;
/** Counter 2's GATE comes from port B bit 0 and its OUT goes to the speaker. */
export const SPEAKER_COUNTER = 2;
/** Counter 0 is the system timer (its OUT is IRQ0). */
export const SYSTEM_TIMER_COUNTER = 0;
