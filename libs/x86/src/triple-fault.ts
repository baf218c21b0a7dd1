/**
 * A fault while delivering a double fault: the processor shuts down. Thrown
 * out of Cpu.run (unlike CpuFault it is an Error); the machine reports the
 * crash. A PC chipset would answer the shutdown cycle with a reset.
 */
export class TripleFault extends Error {
  constructor(readonly detail: string) {
    super(`triple fault (${detail})`);
    this.name = 'TripleFault';
  }
}
