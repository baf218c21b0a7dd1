/** Why `Cpu.run` returned. */
export enum StopReason {
  /** The instruction budget given to run() was used up. */
  InstructionLimit = 'instruction-limit',
  /** HLT with no interrupt able to wake the CPU. */
  Halted = 'halted',
  /** The caller asked the CPU to stop (see Cpu.requestStop). */
  Requested = 'requested',
}
