/**
 * The part of the x87 state the core models so far: control, status and tag
 * words, enough for an operating system's FPU detection (FNINIT, FNSTSW,
 * FNSTCW, FLDCW). The register stack and arithmetic are not implemented.
 */
export class FpuState {
  controlWord = 0x37f;
  statusWord = 0;
  tagWord = 0xffff;
  /** Escape opcodes executed that the core does not implement (they do nothing); a diagnostic, not state. */
  unimplemented = 0;

  /** FNINIT (Intel SDM vol. 1, section 8.1.5): masked exceptions, 64-bit precision, empty stack. */
  reset(): void {
    this.controlWord = 0x37f;
    this.statusWord = 0;
    this.tagWord = 0xffff;
  }
}
