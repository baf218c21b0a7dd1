/** A DeviceHost for unit tests: records interrupt line levels, deadlines and events. */
import type { DeviceHost, GuestTimeNs } from '@quasivm/device-sdk';

export class RecordingHost implements DeviceHost {
  readonly levels = new Map<number, boolean>();
  readonly irqLog: Array<{ line: number; level: boolean }> = [];
  readonly deadlines = new Map<number, { at: GuestTimeNs | null; periodNs?: number }>();
  readonly events: Array<{ kind: string; detail: Record<string, unknown> }> = [];

  setIrq(line: number, level: boolean): void {
    this.levels.set(line, level);
    this.irqLog.push({ line, level });
  }
  setIrqDeadline(line: number, at: GuestTimeNs | null, periodNs?: number): void {
    this.deadlines.set(line, { at, periodNs });
  }
  async readMemory(_addr: number, length: number): Promise<Uint8Array> {
    return new Uint8Array(length);
  }
  async writeMemory(): Promise<void> {}
  emitEvent(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ kind, detail });
  }
  level(line: number): boolean {
    return this.levels.get(line) ?? false;
  }
  /** Number of rising edges seen on a line. */
  risingEdges(line: number): number {
    return this.irqLog.filter((e) => e.line === line && e.level).length;
  }
}
