import { AC, ID } from './flag-bits.js';

/** The processor generations the core can imitate. */
export type CpuModel = '8086' | '386' | 'i686';

/**
 * Behaviours that differ between generations, looked up once per Cpu so the
 * hot paths test a boolean instead of comparing model names.
 */
export interface CpuQuirks {
  /** PUSH SP stores SP after the decrement (8086) instead of before (286+). */
  readonly pushSpAfterDecrement: boolean;
  /** Shift and rotate counts are used as given (8086) instead of masked to 5 bits. */
  readonly shiftCountUnmasked: boolean;
  /** FLAGS bits that always read as 1. */
  readonly flagsFixedOnes: number;
  /** FLAGS bits that POPF/IRET/SAHF can change (in real mode). */
  readonly flagsWritable: number;
  /** #DE pushes the address of the next instruction (8086) instead of the faulting one. */
  readonly divideErrorReturnsNext: boolean;
  /** A word access at offset 0xFFFF wraps to offset 0 of the same segment instead of faulting. */
  readonly segmentWrap: boolean;
  /** IDIV rejects the most negative quotient (-128 / -32768) with #DE. */
  readonly idivRejectsMostNegative: boolean;
  /** 0x66/0x67 operand/address-size prefixes, 0x0F two-byte opcodes, 32-bit registers exist. */
  readonly has32Bit: boolean;
  /** 0x60-0x6F and 0xC0/0xC1/0xC8/0xC9 decode as 8086 aliases of other opcodes. */
  readonly opcodeAliases8086: boolean;
  /** Physical address mask with A20 on (1 MiB wrap on the 8086). */
  readonly addressMask: number;
  /** MOV Sreg decodes only the low two bits of the reg field (no FS/GS, reg 4-7 alias 0-3). */
  readonly segmentRegisterField2Bits: boolean;
  /** AAA/AAS adjust AL alone (8086) rather than AX as a whole. */
  readonly bcdAdjustAlOnly: boolean;
  /** DAA/DAS correct the high digit when AL > 9Fh (not 99h) if AF was set (8086). */
  readonly decimalAdjustHighLimit9FWithAf: boolean;
  /** A REP prefix on IDIV negates the quotient (8086 microcode artefact). */
  readonly repNegatesQuotient: boolean;
  /** AAM 0 sets SF/ZF/PF as for a zero result before raising #DE (observed on the 8086). */
  readonly aamZeroSetsFlags: boolean;
  /**
   * The 486/P6 additions an i686 operating system expects: CPUID, RDTSC,
   * RDMSR/WRMSR, CMOVcc, CMPXCHG(8B), XADD, BSWAP, INVLPG, INVD/WBINVD,
   * and EFLAGS.AC/ID that software toggles to detect them.
   */
  readonly hasI686: boolean;
}

const I386: CpuQuirks = {
  pushSpAfterDecrement: false,
  shiftCountUnmasked: false,
  flagsFixedOnes: 0x0002,
  flagsWritable: 0x7fd5, // IOPL and NT too; VM and RF only change through IRET/task switches
  divideErrorReturnsNext: false,
  segmentWrap: false,
  idivRejectsMostNegative: false,
  has32Bit: true,
  opcodeAliases8086: false,
  addressMask: 0xffffffff,
  segmentRegisterField2Bits: false,
  bcdAdjustAlOnly: false,
  decimalAdjustHighLimit9FWithAf: false,
  repNegatesQuotient: false,
  aamZeroSetsFlags: false,
  hasI686: false,
};

const QUIRKS: Record<CpuModel, CpuQuirks> = {
  '8086': {
    pushSpAfterDecrement: true,
    shiftCountUnmasked: true,
    flagsFixedOnes: 0xf002,
    flagsWritable: 0x0fd5,
    divideErrorReturnsNext: true,
    segmentWrap: true,
    idivRejectsMostNegative: true,
    has32Bit: false,
    opcodeAliases8086: true,
    addressMask: 0xfffff,
    segmentRegisterField2Bits: true,
    bcdAdjustAlOnly: true,
    decimalAdjustHighLimit9FWithAf: true,
    repNegatesQuotient: true,
    aamZeroSetsFlags: true,
    hasI686: false,
  },
  '386': I386,
  /** A Pentium Pro / Pentium II class processor: the 386 core plus the i686 instructions. */
  i686: { ...I386, flagsWritable: I386.flagsWritable | AC | ID, hasI686: true },
};

export function quirksFor(model: CpuModel): CpuQuirks {
  return QUIRKS[model];
}
