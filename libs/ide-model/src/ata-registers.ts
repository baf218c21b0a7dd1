/**
 * ATA register map, bits and command codes.
 *
 * References are to ATA/ATAPI-6 (T13/1410D revision 3b): section 7 "Register
 * descriptions", section 8 "Command descriptions", section 9 "Protocol" (signatures in
 * 9.12). The bus-master registers follow SFF-8038i "Programming Interface for Bus Master
 * IDE Controller", as implemented by the Intel PIIX3 (82371SB datasheet, section 2.7).
 */

/** Command block register offsets from the channel's command base (ATA-6 7.1, table 16). */
export enum AtaReg {
  /** 7.7 Data register: 16-bit PIO data. */
  Data = 0,
  /** 7.11 Error (read) / 7.12 Features (write). */
  ErrorFeatures = 1,
  /** 7.18 Sector Count; for PACKET devices the Interrupt Reason register (7.20). */
  SectorCount = 2,
  /** 7.14 LBA Low (Sector Number in CHS mode). */
  LbaLow = 3,
  /** 7.13 LBA Mid (Cylinder Low); ATAPI Byte Count low. */
  LbaMid = 4,
  /** 7.13 LBA High (Cylinder High); ATAPI Byte Count high. */
  LbaHigh = 5,
  /** 7.10 Device (Device/Head). */
  Device = 6,
  /** 7.15 Status (read) / 7.4 Command (write). */
  StatusCommand = 7,
}

/** Offset of Alternate Status (read) / Device Control (write) from the control base (7.3, 7.9). */
export const CONTROL_REG_OFFSET = 0;

/** Status register bits (ATA-6 7.15.6). */
export enum Status {
  ERR = 0x01,
  /** Obsolete index bit. */
  IDX = 0x02,
  /** Obsolete corrected-data bit. */
  CORR = 0x04,
  DRQ = 0x08,
  /** Device Seek Complete (obsolete in ATA-6, still set by drives). */
  DSC = 0x10,
  DF = 0x20,
  DRDY = 0x40,
  BSY = 0x80,
}

/** Error register bits (ATA-6 7.11.6). */
export enum ErrorBit {
  /** Obsolete address mark not found; also "device 0 passed" in diagnostic codes. */
  AMNF = 0x01,
  /** No media (removable) / obsolete track 0 not found. */
  NM = 0x02,
  ABRT = 0x04,
  MCR = 0x08,
  IDNF = 0x10,
  MC = 0x20,
  UNC = 0x40,
  ICRC = 0x80,
}

/** Device Control register bits (ATA-6 7.9.6). */
export enum DeviceControl {
  /** Interrupt disable. */
  nIEN = 0x02,
  /** Software reset. */
  SRST = 0x04,
  /** High order byte read-back of the 48-bit registers. */
  HOB = 0x80,
}

/** Device register bits (ATA-6 7.10.6). */
export enum DeviceBit {
  /** Head / LBA 27:24 field. */
  HeadMask = 0x0f,
  /** Device select: 0 = device 0 (master), 1 = device 1 (slave). */
  DEV = 0x10,
  /** LBA addressing (vs CHS). */
  LBA = 0x40,
  /** Bits 7 and 5 were "shall be one" in ATA-1..3; obsolete, kept as written. */
}

/** Command codes (ATA-6 section 8 and Annex table of command codes). */
export enum AtaCmd {
  NOP = 0x00,
  DEVICE_RESET = 0x08,
  RECALIBRATE = 0x10, // 0x10-0x1F, obsolete
  READ_SECTORS = 0x20,
  READ_SECTORS_NORETRY = 0x21,
  READ_SECTORS_EXT = 0x24,
  READ_DMA_EXT = 0x25,
  READ_NATIVE_MAX_ADDRESS_EXT = 0x27,
  READ_MULTIPLE_EXT = 0x29,
  WRITE_SECTORS = 0x30,
  WRITE_SECTORS_NORETRY = 0x31,
  WRITE_SECTORS_EXT = 0x34,
  WRITE_DMA_EXT = 0x35,
  WRITE_MULTIPLE_EXT = 0x39,
  READ_VERIFY_SECTORS = 0x40,
  READ_VERIFY_SECTORS_NORETRY = 0x41,
  READ_VERIFY_SECTORS_EXT = 0x42,
  SEEK = 0x70, // 0x70-0x7F
  EXECUTE_DEVICE_DIAGNOSTIC = 0x90,
  INITIALIZE_DEVICE_PARAMETERS = 0x91,
  PACKET = 0xa0,
  IDENTIFY_PACKET_DEVICE = 0xa1,
  READ_MULTIPLE = 0xc4,
  WRITE_MULTIPLE = 0xc5,
  SET_MULTIPLE_MODE = 0xc6,
  READ_DMA = 0xc8,
  READ_DMA_NORETRY = 0xc9,
  WRITE_DMA = 0xca,
  WRITE_DMA_NORETRY = 0xcb,
  STANDBY_IMMEDIATE = 0xe0,
  IDLE_IMMEDIATE = 0xe1,
  STANDBY = 0xe2,
  IDLE = 0xe3,
  CHECK_POWER_MODE = 0xe5,
  SLEEP = 0xe6,
  FLUSH_CACHE = 0xe7,
  FLUSH_CACHE_EXT = 0xea,
  IDENTIFY_DEVICE = 0xec,
  SET_FEATURES = 0xef,
  READ_NATIVE_MAX_ADDRESS = 0xf8,
}

/** SET FEATURES subcommands in the Features register (ATA-6 8.37, table 45). */
export enum SetFeature {
  ENABLE_WRITE_CACHE = 0x02,
  SET_TRANSFER_MODE = 0x03,
  DISABLE_READ_LOOKAHEAD = 0x55,
  DISABLE_REVERTING_TO_DEFAULTS = 0x66,
  DISABLE_WRITE_CACHE = 0x82,
  ENABLE_READ_LOOKAHEAD = 0xaa,
  ENABLE_REVERTING_TO_DEFAULTS = 0xcc,
}

/** Power mode codes returned by CHECK POWER MODE in Sector Count (ATA-6 8.6). */
export enum PowerMode {
  STANDBY = 0x00,
  IDLE = 0x80,
  ACTIVE_OR_IDLE = 0xff,
}

/** ATAPI Interrupt Reason register bits, in the Sector Count register (ATA-6 7.20). */
export enum InterruptReason {
  /** Command (1) or data (0). */
  CoD = 0x01,
  /** Transfer towards the host (1) or towards the device (0). */
  IO = 0x02,
  REL = 0x04,
}

/** Signature values left in the command block after reset or diagnostic (ATA-6 9.12). */
export const SIGNATURE_ATA = { count: 0x01, lbaLow: 0x01, lbaMid: 0x00, lbaHigh: 0x00 } as const;
export const SIGNATURE_ATAPI = { count: 0x01, lbaLow: 0x01, lbaMid: 0x14, lbaHigh: 0xeb } as const;

/** Diagnostic codes in the Error register (ATA-6 8.11, table 22). */
export const DIAG_PASSED = 0x01;
export const DIAG_DEVICE1_FAILED = 0x80;

export const SECTOR_SIZE = 512;
/** Largest sector count a READ/WRITE MULTIPLE block may hold; IDENTIFY word 47. */
export const MAX_MULTIPLE_SECTORS = 16;
/** Highest LBA28 sector count reported in IDENTIFY words 60-61 (ATA-6 8.15.33). */
export const LBA28_MAX_SECTORS = 0x0fffffff;

/** Bus-master IDE register offsets within one channel's 8-byte block (SFF-8038i 2.1). */
export enum BmReg {
  Command = 0,
  Status = 2,
  PrdAddress = 4,
}

/** Bus-master command bits (SFF-8038i 2.1.1). */
export enum BmCommand {
  START = 0x01,
  /** 1 = bus master writes memory (device-to-memory, a READ DMA). */
  READ = 0x08,
}

/** Bus-master status bits (SFF-8038i 2.1.2). */
export enum BmStatus {
  ACTIVE = 0x01,
  ERROR = 0x02,
  INTERRUPT = 0x04,
  DRIVE0_DMA_CAPABLE = 0x20,
  DRIVE1_DMA_CAPABLE = 0x40,
  SIMPLEX = 0x80,
}

/** PRD entries (SFF-8038i 1.2): the SDK's walk, shared with a vCPU that carries out DMA itself. */
export { PRD_ENTRY_SIZE, PRD_EOT, PRD_MAX_BYTES } from '@quasivm/device-sdk';
