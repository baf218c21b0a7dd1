/** MSR numbers the core answers (Intel SDM vol. 4). */
export const enum Msr {
  TimeStampCounter = 0x10,
  PlatformId = 0x17,
  ApicBase = 0x1b,
  /** IA32_BIOS_SIGN_ID: microcode revision, read by OS microcode checks. */
  BiosSignature = 0x8b,
  SysenterCs = 0x174,
  SysenterEsp = 0x175,
  SysenterEip = 0x176,
}

/**
 * The handful of MSRs an i686-class guest touches. The time-stamp counter
 * is the retired instruction count plus an offset WRMSR can set.
 */
export class ModelSpecificRegisters {
  tscOffset = 0n;
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;

  reset(): void {
    this.tscOffset = 0n;
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
  }
}
