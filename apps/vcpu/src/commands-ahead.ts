import type { CommandAhead } from '@quasivm/proto';

/** ATA Device Control bit 2, SRST: resets the drives. */
const DEVICE_CONTROL_SRST = 0x04;

/**
 * Whether a write to Device Control leaves what a drive offered and predicted as it was: one
 * that keeps SRST clear (nIEN and HOB change neither data nor Status; SeaBIOS sets and clears
 * nIEN around every command).
 */
export function deviceControlKeepsAhead(size: number, value: number): boolean {
  return size === 1 && (value & DEVICE_CONTROL_SRST) === 0;
}

/**
 * The commands a device expects the guest to issue next, with their data phases (proto
 * CommandAhead): matched against the guest's writes to the command block, so a sequential
 * run of PIO commands costs a round trip every few commands instead of one each. The writes
 * still go to the device (posted); this only decides what the next reads may be answered with.
 */
export class CommandsAhead {
  private list: CommandAhead[] = [];
  private base = 0;
  private control = -1;
  /** Offsets 2-6 of the command block as the guest wrote them since the last command; -1: not written. */
  private readonly written = [-1, -1, -1, -1, -1];

  /** The commands a read's reply predicts, replacing any before (none: forget them). */
  load(list: CommandAhead[] | undefined): void {
    const phase = list?.[0]?.read ?? list?.[0]?.write;
    this.list = phase?.registers ? list! : [];
    this.written.fill(-1);
    if (phase?.registers) {
      this.base = phase.registers.base;
      this.control = phase.altStatusPort;
    }
  }

  clear(): void {
    this.list = [];
  }

  /**
   * A write the guest made (posted to the device as well): the predicted command it issues,
   * when it is the next one with exactly the predicted registers; anything else at the
   * Command register, or a Device Control write that resets (deviceControlKeepsAhead), drops
   * the predictions.
   */
  onWrite(port: number, size: number, value: number): CommandAhead | null {
    if (!this.list.length) return null;
    if (port === this.control) return deviceControlKeepsAhead(size, value) ? null : this.drop();
    const offset = port - this.base;
    if (offset < 2 || offset > 7) return null; // data, features, other ports: no part of the match
    if (size !== 1) return this.drop();
    if (offset < 7) {
      this.written[offset - 2] = value & 0xff;
      return null;
    }
    const next = this.list[0];
    const matches = next.command === (value & 0xff) && next.registers.length === 5 && next.registers.every((r, i) => this.written[i] === r);
    if (!matches) return this.drop();
    this.list.shift();
    this.written.fill(-1);
    return next;
  }

  /** A string write (rep outs): to a command block register other than Data, or Device Control, it drops the predictions (its values are not tracked). */
  onStringWrite(port: number): void {
    if (port === this.control || (port > this.base && port <= this.base + 7)) this.list = [];
  }

  private drop(): null {
    this.list = [];
    return null;
  }
}
