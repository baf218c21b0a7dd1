/**
 * One counter of the Intel 8254 Programmable Interval Timer (Intel 8254 datasheet,
 * order no. 231164: "Counter" block diagram, "Operational Description", "Mode Definitions").
 *
 * The counter never ticks: `advance(n)` applies n CLK pulses at once in closed form
 * (a handful of arithmetic steps whatever n is), and the owner calls it with the pulses
 * elapsed since the last access. The chip's registers are named after the datasheet:
 * CR (count register), CE (counting element), OL (output latch), status latch.
 *
 * Datasheet terms used here: a "CLK pulse" is a rising then falling edge of CLK; a
 * "trigger" is a rising edge of GATE; "counter loading" is the transfer CR -> CE.
 * GATE is sampled on the CLK pulse, so a GATE change or a write made between pulse k and
 * pulse k+1 takes effect on pulse k+1.
 */

/** RW1 RW0 of the control word (datasheet "Control Word Format"); 00 is the Counter Latch command. */
export const RW_LSB = 1;
export const RW_MSB = 2;
export const RW_LSB_MSB = 3;
export type AccessMode = 'lsb' | 'msb' | 'lsb-msb';
const ACCESS_BY_RW: Record<number, AccessMode> = { [RW_LSB]: 'lsb', [RW_MSB]: 'msb', [RW_LSB_MSB]: 'lsb-msb' };
const RW_BY_ACCESS: Record<AccessMode, number> = { lsb: RW_LSB, msb: RW_MSB, 'lsb-msb': RW_LSB_MSB };

/** Status byte bits (datasheet "Read-Back Command", "Status Byte"). */
export const STATUS_OUTPUT = 0x80;
export const STATUS_NULL_COUNT = 0x40;

/** Counting ranges: binary counts modulo 2^16, BCD modulo 10^4 (a count of 0 is the maximum). */
const BINARY_MODULUS = 0x10000;
const BCD_MODULUS = 10000;

/** Everything of a counter that is state, by name (see PitCounter.toState). */
export interface PitCounterState {
  /** M2 M1 M0 exactly as written in the last control word (6 and 7 act as modes 2 and 3). */
  modeBits: number;
  access: AccessMode;
  bcd: boolean;
  /** CR: the last complete count written, 16 bits as written (BCD digits when bcd). */
  countRegister: number;
  /** A complete count has been written since the last control word. */
  countWritten: boolean;
  /** Write flip-flop: LSB already written of an LSB-then-MSB count, waiting for the MSB. */
  pendingLsb: number | null;
  /** Read flip-flop: the next count read of an LSB-then-MSB counter returns the MSB. */
  readMsbNext: boolean;
  /** CE as a number of remaining pulses, 0..65536 (a loaded 0 count is held as 65536 / 10000). */
  countingElement: number;
  /** The count last transferred into CE, 1..65536: the period of modes 2 and 3. */
  reloadValue: number;
  out: boolean;
  gate: boolean;
  nullCount: boolean;
  /** CE has been loaded since the last control word. */
  running: boolean;
  /** CR will be transferred to CE on the next CLK pulse (count written or trigger). */
  loadPending: boolean;
  /** Modes 2 and 3: a new count waits for the end of the current period / half-cycle. */
  newCountPending: boolean;
  /** Modes 0, 1, 4, 5: the terminal count of the current load has not happened yet. */
  armed: boolean;
  /** Mode 0: the first byte of a two-byte count was written, counting is disabled. */
  countingInhibited: boolean;
  /** OL: latched count (as the chip would present it) and how many bytes remain to read. */
  outputLatch: { value: number; bytesLeft: number } | null;
  /** Latched status byte, not read yet. */
  statusLatch: number | null;
}

/** A rising edge of OUT, `first` CLK pulses from now, then every `period` pulses (or once). */
export interface OutEdges {
  first: number;
  period: number | null;
}

function toBcd(v: number): number {
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | v % 10;
}

/**
 * BCD count register to a number. The datasheet defines only digits 0-9; digits A-F are
 * taken at face value and the result reduced modulo 10^4, so the count stays in range.
 */
function fromBcd(raw: number): number {
  return (((raw >> 12) & 0xf) * 1000 + ((raw >> 8) & 0xf) * 100 + ((raw >> 4) & 0xf) * 10 + (raw & 0xf)) % BCD_MODULUS;
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

export class PitCounter {
  // Control word (datasheet "Control Word Format")
  private modeBits = 0;
  private access: AccessMode = 'lsb-msb';
  private bcd = false;
  // CR and the write / read flip-flops
  private countRegister = 0;
  private countWritten = false;
  private pendingLsb: number | null = null;
  private readMsbNext = false;
  // CE, OUT, GATE, Null Count
  private ce = 0;
  private reload = 1;
  private out = false;
  private gate = true;
  private nullCount = true;
  // Sequencing of the counting modes
  private running = false;
  private loadPending = false;
  private newCountPending = false;
  private armed = false;
  private inhibited = false;
  // OL and status latch
  private latchedCount: number | null = null;
  private latchedBytesLeft = 0;
  private latchedStatus: number | null = null;

  /** Power-up: the datasheet leaves mode, count and OUT undefined; we start as after control word "mode 0, LSB then MSB, binary". */
  constructor() {
    this.programControlWord(RW_LSB_MSB, 0, false);
  }

  /** The counting mode 0-5 (M2 M1 M0 = x10 and x11 are modes 2 and 3). */
  get mode(): number {
    return this.modeBits >= 6 ? this.modeBits - 4 : this.modeBits;
  }

  get output(): boolean {
    return this.out;
  }

  get gateLevel(): boolean {
    return this.gate;
  }

  private get modulus(): number {
    return this.bcd ? BCD_MODULUS : BINARY_MODULUS;
  }

  /** The count a load would transfer: CR as a number of pulses, 0 meaning the maximum. */
  private get initialCount(): number {
    const v = this.bcd ? fromBcd(this.countRegister) : this.countRegister;
    return v === 0 ? this.modulus : v;
  }

  /**
   * The period (modes 2, 3) the counter runs or is about to run at, in CLK pulses, or
   * null when it is not producing a periodic output.
   */
  get periodicCount(): number | null {
    const m = this.mode;
    if (m !== 2 && m !== 3) return null;
    if (this.loadPending || this.newCountPending) return this.initialCount;
    return this.running ? this.reload : null;
  }

  /** Control word with RW != 00: all control logic is reset and OUT goes to its initial state. */
  programControlWord(rw: number, modeBits: number, bcd: boolean): void {
    this.access = ACCESS_BY_RW[rw] ?? 'lsb-msb';
    this.modeBits = modeBits & 7;
    this.bcd = bcd;
    this.countWritten = false;
    this.pendingLsb = null;
    this.readMsbNext = false;
    this.nullCount = true;
    this.running = false;
    this.loadPending = false;
    this.newCountPending = false;
    this.armed = false;
    this.inhibited = false;
    this.latchedCount = null;
    this.latchedBytesLeft = 0;
    this.latchedStatus = null;
    // Mode 0: OUT initially low; modes 1-5: OUT initially high.
    this.out = this.mode !== 0;
  }

  /** Counter Latch command (and the COUNT bit of Read-Back): ignored while a latched count is unread. */
  latchCount(): void {
    if (this.latchedCount !== null) return;
    const v = this.ce % this.modulus;
    this.latchedCount = this.bcd ? toBcd(v) : v;
    this.latchedBytesLeft = this.access === 'lsb-msb' ? 2 : 1;
  }

  /** STATUS bit of Read-Back: ignored while a latched status is unread. */
  latchStatus(): void {
    if (this.latchedStatus !== null) return;
    this.latchedStatus =
      (this.out ? STATUS_OUTPUT : 0) |
      (this.nullCount ? STATUS_NULL_COUNT : 0) |
      (RW_BY_ACCESS[this.access] << 4) |
      (this.modeBits << 1) |
      (this.bcd ? 1 : 0);
  }

  /** A read of the counter's port: latched status first, then latched count, else CE itself. */
  readByte(): number {
    if (this.latchedStatus !== null) {
      const s = this.latchedStatus;
      this.latchedStatus = null;
      return s;
    }
    let source: number;
    if (this.latchedCount !== null) {
      source = this.latchedCount;
      if (--this.latchedBytesLeft <= 0) this.latchedCount = null;
    } else {
      const v = this.ce % this.modulus;
      source = this.bcd ? toBcd(v) : v;
    }
    switch (this.access) {
      case 'lsb':
        return source & 0xff;
      case 'msb':
        return (source >> 8) & 0xff;
      default: {
        const msb = this.readMsbNext;
        this.readMsbNext = !msb;
        return msb ? (source >> 8) & 0xff : source & 0xff;
      }
    }
  }

  /**
   * While this counter counts down by one per CLK pulse whatever happens until the next
   * write to the chip (mode 0, binary, loaded, GATE high, not inhibited, nothing latched:
   * datasheet "Mode 0": after the terminal count the count wraps and goes on), its CE now
   * and which byte each next read of its port returns (0 low, 1 high), in turn; else null.
   */
  linearReads(): { count: number; bytes: number[] } | null {
    if (this.mode !== 0 || this.bcd || !this.running || this.loadPending || this.inhibited || !this.gate) return null;
    if (this.latchedCount !== null || this.latchedStatus !== null) return null;
    const bytes = this.access === 'lsb' ? [0] : this.access === 'msb' ? [1] : this.readMsbNext ? [1, 0] : [0, 1];
    return { count: this.ce % BINARY_MODULUS, bytes };
  }

  /** A write of the counter's port: one byte of the initial count. */
  writeByte(value: number): void {
    const v = value & 0xff;
    switch (this.access) {
      case 'lsb':
        this.commitCount(v);
        return;
      case 'msb':
        this.commitCount(v << 8);
        return;
      default:
        if (this.pendingLsb === null) {
          this.pendingLsb = v;
          if (this.mode === 0) {
            // Mode 0: writing the first byte disables counting; OUT is set low immediately.
            this.out = false;
            this.inhibited = true;
            this.loadPending = false;
            this.armed = false;
          }
        } else {
          const lsb = this.pendingLsb;
          this.pendingLsb = null;
          this.commitCount(lsb | (v << 8));
        }
    }
  }

  private commitCount(raw: number): void {
    this.countRegister = raw;
    this.countWritten = true;
    this.nullCount = true;
    this.inhibited = false;
    switch (this.mode) {
      case 0:
        // A new count restarts the sequence: OUT low, load on the next CLK pulse.
        this.out = false;
        this.armed = false;
        this.loadPending = true;
        break;
      case 4:
        // Software trigger: load on the next CLK pulse.
        this.loadPending = true;
        break;
      case 2:
      case 3:
        // The first count loads on the next pulse; a later one waits for the period end.
        if (!this.loadPending) {
          if (this.running) this.newCountPending = true;
          else this.loadPending = true;
        }
        break;
      default:
        // Modes 1 and 5: the count waits in CR for the next trigger.
        break;
    }
  }

  /** GATE input. Modes 1, 2, 3, 5 act on a rising edge; modes 2 and 3 force OUT high while GATE is low. */
  setGate(level: boolean): void {
    if (level === this.gate) return;
    this.gate = level;
    const m = this.mode;
    if (level) {
      if (m !== 0 && m !== 4 && this.countWritten) this.loadPending = true;
    } else if (m === 2 || m === 3) {
      this.out = true;
    }
  }

  /** CR -> CE on a CLK pulse: this pulse does not decrement. */
  private load(): void {
    const n = this.initialCount;
    this.loadPending = false;
    this.newCountPending = false;
    this.nullCount = false;
    this.running = true;
    this.reload = n;
    switch (this.mode) {
      case 0:
        this.ce = n;
        this.armed = true;
        break;
      case 1:
        this.ce = n;
        this.out = false;
        this.armed = true;
        break;
      case 2:
        this.ce = n;
        this.out = n !== 1;
        break;
      case 3:
        this.ce = n % 2 === 0 ? n : n - 1;
        this.out = true;
        break;
      default:
        this.ce = n;
        this.out = true;
        this.armed = true;
        break;
    }
  }

  /** Apply `pulses` CLK pulses (an integer >= 0) in closed form. */
  advance(pulses: number): void {
    let n = pulses;
    if (!(n > 0)) return;
    if (this.loadPending) {
      this.load();
      n -= 1;
      if (n === 0) return;
    }
    if (!this.running) return;
    switch (this.mode) {
      case 0:
        if (!this.gate || this.inhibited) return;
        this.countDown(n);
        return;
      case 1:
        this.countDown(n);
        return;
      case 2:
        if (this.gate) this.advanceRate(n);
        return;
      case 3:
        if (this.gate) this.advanceSquare(n);
        return;
      case 4:
        if (!this.gate) {
          this.out = true; // a strobe in progress still ends after one clock
          return;
        }
        this.advanceStrobe(n);
        return;
      default:
        this.advanceStrobe(n);
        return;
    }
  }

  /** Modes 0 and 1: OUT goes high when CE reaches 0 and stays high; CE wraps around and keeps counting. */
  private countDown(n: number): void {
    if (this.armed && n >= this.ce) {
      this.out = true;
      this.armed = false;
    }
    this.ce = mod(this.ce - n, this.modulus);
  }

  /** Modes 4 and 5: when CE reaches 0, OUT goes low for one clock; CE wraps around and keeps counting. */
  private advanceStrobe(n: number): void {
    this.out = true;
    if (this.armed && n >= this.ce) {
      this.armed = false;
      this.out = n > this.ce;
    }
    this.ce = mod(this.ce - n, this.modulus);
  }

  /** Mode 2: OUT low while CE = 1; the pulse after that reloads CE (with a waiting new count, if any). */
  private advanceRate(n: number): void {
    const toReload = this.ce;
    if (n < toReload) {
      this.ce -= n;
    } else {
      const after = n - toReload;
      if (this.newCountPending) {
        this.reload = this.initialCount;
        this.newCountPending = false;
        this.nullCount = false;
      }
      this.ce = this.reload - (after % this.reload);
    }
    this.out = this.ce !== 1;
  }

  /**
   * Mode 3 half-cycles. Even N: CE loads N and drops by 2 per pulse; when it expires OUT
   * toggles and CE reloads: N/2 pulses high, N/2 low. Odd N: CE loads N-1; while OUT is
   * high the half-cycle lasts one pulse after CE expires, so (N+1)/2 high and (N-1)/2 low.
   * The illegal count 1 parks OUT high (no edges).
   */
  private halfCycleRemaining(): number {
    const odd = this.reload % 2 === 1;
    return odd && this.out ? this.ce / 2 + 1 : this.ce / 2;
  }

  private advanceSquare(pulses: number): void {
    let n = pulses;
    for (;;) {
      if (this.reload === 1 && !this.newCountPending) {
        this.out = true;
        this.ce = 0;
        return;
      }
      const left = Math.floor(this.halfCycleRemaining());
      if (n < left) {
        const rest = left - n;
        this.ce = this.reload % 2 === 1 && this.out ? 2 * (rest - 1) : 2 * rest;
        return;
      }
      n -= left;
      this.out = !this.out;
      if (this.newCountPending) {
        this.reload = this.initialCount;
        this.newCountPending = false;
        this.nullCount = false;
      }
      this.ce = this.reload % 2 === 0 ? this.reload : this.reload - 1;
      // From a half-cycle boundary the waveform repeats every N pulses.
      if (this.reload > 1) n %= this.reload;
    }
  }

  /**
   * The next rising edges of OUT from the current state (what a timer interrupt sees),
   * assuming no further writes or GATE changes. Null when OUT cannot rise.
   */
  nextRisingEdges(): OutEdges | null {
    const edges = this.risingEdges();
    // Never "now": a CE of 0 can only come from a hand-made state blob.
    if (edges !== null && edges.first < 1) edges.first = 1;
    return edges;
  }

  private risingEdges(): OutEdges | null {
    if (!this.running && !this.loadPending) return null;
    const n = this.initialCount;
    switch (this.mode) {
      case 0:
        if (!this.gate || this.inhibited) return null;
        if (this.loadPending) return { first: 1 + n, period: null };
        return this.armed ? { first: this.ce, period: null } : null;
      case 1:
        if (this.loadPending) return { first: 1 + n, period: null };
        return this.armed ? { first: this.ce, period: null } : null;
      case 2: {
        if (!this.gate) return null;
        if (this.loadPending) return n === 1 ? null : { first: 1 + n, period: n };
        const p = this.newCountPending ? n : this.reload;
        return p === 1 ? null : { first: this.ce, period: p };
      }
      case 3: {
        if (!this.gate) return null;
        if (this.loadPending) return n === 1 ? null : { first: 1 + n, period: n };
        const p = this.newCountPending ? n : this.reload;
        if (p === 1) return null;
        const left = Math.floor(this.halfCycleRemaining());
        return { first: this.out ? left + Math.floor(p / 2) : left, period: p };
      }
      default:
        // Modes 4 and 5: OUT rises one clock after the strobe.
        if (!this.out) return { first: 1, period: null };
        if (this.mode === 4 && !this.gate) return null;
        if (this.loadPending) return { first: n + 2, period: null };
        return this.armed ? { first: this.ce + 1, period: null } : null;
    }
  }

  toState(): PitCounterState {
    return {
      modeBits: this.modeBits,
      access: this.access,
      bcd: this.bcd,
      countRegister: this.countRegister,
      countWritten: this.countWritten,
      pendingLsb: this.pendingLsb,
      readMsbNext: this.readMsbNext,
      countingElement: this.ce,
      reloadValue: this.reload,
      out: this.out,
      gate: this.gate,
      nullCount: this.nullCount,
      running: this.running,
      loadPending: this.loadPending,
      newCountPending: this.newCountPending,
      armed: this.armed,
      countingInhibited: this.inhibited,
      outputLatch: this.latchedCount === null ? null : { value: this.latchedCount, bytesLeft: this.latchedBytesLeft },
      statusLatch: this.latchedStatus,
    };
  }

  /** Assign an already validated state (see parsePitCounterState). */
  fromState(s: PitCounterState): void {
    this.modeBits = s.modeBits;
    this.access = s.access;
    this.bcd = s.bcd;
    this.countRegister = s.countRegister;
    this.countWritten = s.countWritten;
    this.pendingLsb = s.pendingLsb;
    this.readMsbNext = s.readMsbNext;
    this.ce = s.countingElement;
    this.reload = s.reloadValue;
    this.out = s.out;
    this.gate = s.gate;
    this.nullCount = s.nullCount;
    this.running = s.running;
    this.loadPending = s.loadPending;
    this.newCountPending = s.newCountPending;
    this.armed = s.armed;
    this.inhibited = s.countingInhibited;
    this.latchedCount = s.outputLatch === null ? null : s.outputLatch.value;
    this.latchedBytesLeft = s.outputLatch === null ? 0 : s.outputLatch.bytesLeft;
    this.latchedStatus = s.statusLatch;
  }
}
