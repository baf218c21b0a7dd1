/**
 * Intel 82441FX PCI and Memory Controller (PMC), function 00:00.0 of the 440FX PCIset:
 * the PCI host bridge's own configuration space. References are to the Intel 440FX
 * PCIset datasheet (82441FX/82442FX), section 3.2 "PCI Configuration Space Registers".
 * SeaBIOS recognises a QEMU i440FX machine by 8086:1237 with subsystem 1AF4:1100 at
 * 00:00.0 (src/fw/paravirt.c qemu_detect) and programs the PAM
 * registers to shadow itself in RAM; the model reports PAM changes to the machine,
 * which owns the memory map.
 */
import { PciConfigFunction, PCI_COMMAND_PARITY, PCI_COMMAND_SERR } from './pci-function.js';

export const I440FX_VENDOR_ID = 0x8086;
export const I440FX_DEVICE_ID = 0x1237;
export const I440FX_REVISION = 0x02;
export const I440FX_CLASS_HOST_BRIDGE = 0x060000;
/**
 * Subsystem IDs QEMU gives its devices: Red Hat (0x1AF4), "QEMU virtual machine" (0x1100).
 * SeaBIOS's QEMU detection checks exactly these at 00:00.0 before it trusts the platform.
 */
export const QEMU_SUBSYSTEM_VENDOR_ID = 0x1af4;
export const QEMU_SUBSYSTEM_ID = 0x1100;

/** Device-specific registers (datasheet 3.2). */
export const I440FX_PMCCFG = 0x50;
export const I440FX_DRAMC = 0x57;
export const I440FX_PAM0 = 0x59; // PAM0..PAM6 at 0x59-0x5F
export const I440FX_PAM_COUNT = 7;
export const I440FX_DRB0 = 0x60; // DRAM row boundaries 0x60-0x67
export const I440FX_SMRAM = 0x72;

/** PAM nibble bits: read enable (reads go to DRAM), write enable (writes go to DRAM). */
export const PAM_READ_ENABLE = 0x1;
export const PAM_WRITE_ENABLE = 0x2;

/** One shadowable BIOS region and where its reads and writes go. */
export interface PamRegion {
  base: number;
  size: number;
  /** 'ram' when the PAM read/write enable is set, else the access goes to ROM/PCI. */
  read: 'ram' | 'rom';
  write: 'ram' | 'rom';
}

export interface I440fxPmcConfig {
  /** Called with the seven PAM bytes after any of them changes. */
  onPamChange?: (pam: readonly number[]) => void;
}

export class I440fxPmc extends PciConfigFunction {
  private readonly onPamChange: (pam: readonly number[]) => void;

  constructor(config: I440fxPmcConfig = {}) {
    super({
      vendorId: I440FX_VENDOR_ID,
      deviceId: I440FX_DEVICE_ID,
      revision: I440FX_REVISION,
      classCode: I440FX_CLASS_HOST_BRIDGE,
      command: 0x0006, // memory and bus master always enabled
      commandMask: PCI_COMMAND_PARITY | PCI_COMMAND_SERR,
      status: 0x0280, // fast back-to-back capable, medium DEVSEL timing
      subsystemVendorId: QEMU_SUBSYSTEM_VENDOR_ID,
      subsystemId: QEMU_SUBSYSTEM_ID,
    });
    this.onPamChange = config.onPamChange ?? (() => {});
    this.config[I440FX_SMRAM] = 0x02; // C_BASE_SEG = 010: SMRAM at 0xA0000
    this.writable[I440FX_PAM0] = 0xf0; // PAM0 low nibble reserved
  }

  /** The seven PAM registers. */
  get pam(): number[] {
    return Array.from(this.config.subarray(I440FX_PAM0, I440FX_PAM0 + I440FX_PAM_COUNT));
  }

  /**
   * PAM registers decoded: PAM0 bits 7:4 cover 0xF0000-0xFFFFF; PAM1-6 cover
   * 0xC0000-0xEFFFF in 16 KiB pieces, low nibble first.
   */
  pamRegions(): PamRegion[] {
    const pam = this.pam;
    const decode = (base: number, size: number, nibble: number): PamRegion => ({
      base,
      size,
      read: nibble & PAM_READ_ENABLE ? 'ram' : 'rom',
      write: nibble & PAM_WRITE_ENABLE ? 'ram' : 'rom',
    });
    const regions = [decode(0xf0000, 0x10000, pam[0] >> 4)];
    for (let i = 1; i < I440FX_PAM_COUNT; i++) {
      const base = 0xc0000 + (i - 1) * 0x8000;
      regions.push(decode(base, 0x4000, pam[i] & 0xf), decode(base + 0x4000, 0x4000, pam[i] >> 4));
    }
    return regions;
  }

  /** A restored configuration re-announces the PAM setting: the memory map must follow. */
  protected override afterLoad(): void {
    this.onPamChange(this.pam);
  }

  protected override afterWrite(offset: number, size: number): void {
    if (offset < I440FX_PAM0 + I440FX_PAM_COUNT && offset + size > I440FX_PAM0) this.onPamChange(this.pam);
  }
}
