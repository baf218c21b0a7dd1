/** Where an interrupt comes from; protected mode treats them differently. */
export const enum InterruptKind {
  /** INT n, INT3, INTO: the gate's DPL must allow the current privilege level. */
  Software = 0,
  /** A fault or trap raised by the processor: may push an error code. */
  Exception = 1,
  /** A maskable interrupt from the interrupt controller. */
  External = 2,
}
