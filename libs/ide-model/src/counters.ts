/** Per-controller counters of accesses the model ignored or refused (never module-level). */
export class IdeCounters {
  /** Port accesses of a width the register does not have. */
  badWidth = 0;
  /** Accesses to a port this model does not decode. */
  unknownPort = 0;
  /** Data port accesses while no data transfer was in progress (DRQ clear). */
  dataWithoutDrq = 0;
  /** Commands ended with ABRT (unknown or invalid). */
  abortedCommands = 0;
  /** Commands that hit an error of the block device. */
  mediaErrors = 0;
  /** Bus-master transfers that ended in error. */
  dmaErrors = 0;

  snapshot(): Record<string, number> {
    return { ...(this as unknown as Record<string, number>) };
  }
}
