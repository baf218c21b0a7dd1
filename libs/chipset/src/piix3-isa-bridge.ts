/**
 * Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge (00:01.0 on a QEMU-like
 * i440FX machine). References are to the 82371FB/82371SB datasheet, section 2.2
 * "PCI to ISA Bridge Configuration Registers". The PIRQ route control registers steer
 * PCI INTA#-INTD# (PIRQA-D) to ISA IRQs; SeaBIOS programs them and the machine must route
 * PCI interrupts accordingly, so changes go to a callback.
 * ELCR (0x4D0/0x4D1) is I/O-mapped and lives with the 8259 pair (Pic8259Pair).
 */
import { QEMU_SUBSYSTEM_ID, QEMU_SUBSYSTEM_VENDOR_ID } from './i440fx-pmc.js';
import { PciConfigFunction, PCI_HEADER_TYPE_MULTI_FUNCTION } from './pci-function.js';

export const PIIX3_VENDOR_ID = 0x8086;
export const PIIX3_DEVICE_ID = 0x7000;
export const PIIX3_CLASS_ISA_BRIDGE = 0x060100;

/** Configuration registers (datasheet 2.2). */
export const PIIX3_IORT = 0x4c; // ISA I/O recovery timer
export const PIIX3_XBCS = 0x4e; // X-bus chip select
export const PIIX3_PIRQRC = 0x60; // PIRQ[A-D] route control 0x60-0x63
export const PIIX3_TOM = 0x69; // top of memory
export const PIIX3_MBIRQ0 = 0x70;
export const PIIX3_MBIRQ1 = 0x71;
export const PIIX3_APICBASE = 0x80;
/** PIRQRC bit 7: routing disabled; bits 3:0: the ISA IRQ. */
export const PIRQRC_DISABLE = 0x80;
export const PIRQRC_IRQ_MASK = 0x0f;
/** ISA IRQs a PIRQ may be routed to (datasheet: 3-7, 9-12, 14, 15). */
export const PIRQ_VALID_IRQS: readonly number[] = [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15];

export interface Piix3IsaBridgeConfig {
  /** Called when PIRQ n (0 = A .. 3 = D) is routed to an ISA IRQ, or unrouted (null). */
  onPirqRoute?: (pirq: number, irq: number | null) => void;
}

export class Piix3IsaBridge extends PciConfigFunction {
  private readonly onPirqRoute: (pirq: number, irq: number | null) => void;
  private routes: Array<number | null> = [null, null, null, null];

  constructor(config: Piix3IsaBridgeConfig = {}) {
    super({
      vendorId: PIIX3_VENDOR_ID,
      deviceId: PIIX3_DEVICE_ID,
      classCode: PIIX3_CLASS_ISA_BRIDGE,
      headerType: PCI_HEADER_TYPE_MULTI_FUNCTION, // IDE and USB are functions 1 and 2
      command: 0x0007,
      commandMask: 0x0008, // special cycle enable; I/O, memory, master are fixed on
      status: 0x0200, // medium DEVSEL timing
      subsystemVendorId: QEMU_SUBSYSTEM_VENDOR_ID,
      subsystemId: QEMU_SUBSYSTEM_ID,
    });
    this.onPirqRoute = config.onPirqRoute ?? (() => {});
    const c = this.config;
    c[PIIX3_IORT] = 0x4d;
    c[PIIX3_XBCS] = 0x03;
    for (let i = 0; i < 4; i++) {
      c[PIIX3_PIRQRC + i] = PIRQRC_DISABLE;
      this.writable[PIIX3_PIRQRC + i] = PIRQRC_DISABLE | PIRQRC_IRQ_MASK;
    }
    c[PIIX3_TOM] = 0x02;
    c[PIIX3_MBIRQ0] = 0x80;
    c[PIIX3_MBIRQ1] = 0x80;
    c[0x76] = 0x0c;
    c[0x77] = 0x0c;
    c[0x78] = 0x02;
  }

  /** The ISA IRQ PIRQ n (0-3) is routed to, or null when disabled or invalid. */
  pirqRoute(pirq: number): number | null {
    const v = this.config[PIIX3_PIRQRC + pirq];
    if (v & PIRQRC_DISABLE) return null;
    const irq = v & PIRQRC_IRQ_MASK;
    return PIRQ_VALID_IRQS.includes(irq) ? irq : null;
  }

  protected override afterWrite(): void {
    this.reportRoutes();
  }

  /** A restored configuration tells the machine about routes that differ from before. */
  protected override afterLoad(): void {
    this.reportRoutes();
  }

  private reportRoutes(): void {
    for (let i = 0; i < 4; i++) {
      const irq = this.pirqRoute(i);
      if (irq !== this.routes[i]) {
        this.routes[i] = irq;
        this.onPirqRoute(i, irq);
      }
    }
  }
}
