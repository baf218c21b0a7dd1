/** Exception vectors (Intel SDM vol. 3, table 6-1). */
export enum Vector {
  DivideError = 0,
  Debug = 1,
  Nmi = 2,
  Breakpoint = 3,
  Overflow = 4,
  BoundRange = 5,
  InvalidOpcode = 6,
  DeviceNotAvailable = 7,
  DoubleFault = 8,
  InvalidTss = 10,
  SegmentNotPresent = 11,
  StackFault = 12,
  GeneralProtection = 13,
  PageFault = 14,
  FloatingPoint = 16,
  AlignmentCheck = 17,
}

/**
 * Thrown by an instruction that cannot complete; the Cpu catches it between
 * instructions and delivers the exception. Not an Error: no stack trace is
 * captured, which keeps faults cheap for guests that use them routinely.
 */
export class CpuFault {
  constructor(
    readonly vector: number,
    /** Pushed in protected mode; undefined for exceptions without one. */
    readonly errorCode?: number,
    /** #PF only: the linear address that could not be translated (goes to CR2). */
    readonly address?: number,
  ) {}
}
