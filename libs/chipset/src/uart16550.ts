/**
 * National Semiconductor PC16550D UART with 16-byte FIFOs, as the PC's serial port.
 * Register references are to the PC16550D datasheet (June 1995), "8.0 Registers",
 * Table II "Summary of Registers" and sections 8.1-8.8.
 *
 * Modelling choices:
 * - Transmission is instantaneous: a byte written to THR is handed to `onTransmit` at
 *   once (or looped back in loopback mode), so THRE/TEMT are set again immediately and
 *   the transmitter FIFO never fills. Baud rate only matters for `baudRate`.
 * - Received bytes arrive in bursts through `receive()`. They wait in an input queue
 *   (the far end's flow control) and move into the receiver FIFO while it has room, so a
 *   burst is never lost to an overrun. Overrun (LSR OE) happens in loopback mode, where
 *   the guest feeds its own FIFO.
 * - In FIFO mode, data below the trigger level is reported at once as a character
 *   timeout (IIR 0x0C) instead of after four character times without FIFO activity:
 *   the model has no timer, and the guest would otherwise wait for data it cannot see.
 * - On the PC, the UART's INTR pin reaches the PIC only while MCR OUT2 is set; in loopback
 *   mode OUT2 is forced inactive (8.6), so the IRQ line stays low.
 *
 * Not state: the onTransmit callback, the host, the access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceHost, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { COM1_IRQ, COM1_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** Register offsets (Table II). With LCR.DLAB = 1, offsets 0 and 1 are the divisor latch. */
export const UART_RBR = 0; // Receiver Buffer Register (read, DLAB=0) 8.2
export const UART_THR = 0; // Transmitter Holding Register (write, DLAB=0) 8.2
export const UART_DLL = 0; // Divisor Latch LSB (DLAB=1) 8.10
export const UART_IER = 1; // Interrupt Enable Register (DLAB=0) 8.5
export const UART_DLM = 1; // Divisor Latch MSB (DLAB=1) 8.10
export const UART_IIR = 2; // Interrupt Identification Register (read) 8.4
export const UART_FCR = 2; // FIFO Control Register (write) 8.3
export const UART_LCR = 3; // Line Control Register 8.1
export const UART_MCR = 4; // Modem Control Register 8.6
export const UART_LSR = 5; // Line Status Register 8.7
export const UART_MSR = 6; // Modem Status Register 8.8
export const UART_SCR = 7; // Scratchpad Register 8.9

/** IER bits (8.5). */
export const IER_ERBFI = 0x01; // received data available
export const IER_ETBEI = 0x02; // transmitter holding register empty
export const IER_ELSI = 0x04; // receiver line status
export const IER_EDSSI = 0x08; // modem status

/** IIR values (Table IV, interrupt identification, highest priority first). */
export const IIR_NO_INTERRUPT = 0x01;
export const IIR_RECEIVER_LINE_STATUS = 0x06;
export const IIR_RECEIVED_DATA = 0x04;
export const IIR_CHARACTER_TIMEOUT = 0x0c;
export const IIR_THR_EMPTY = 0x02;
export const IIR_MODEM_STATUS = 0x00;
export const IIR_FIFOS_ENABLED = 0xc0;

/** FCR bits (8.3). */
export const FCR_FIFO_ENABLE = 0x01;
export const FCR_RCVR_RESET = 0x02;
export const FCR_XMIT_RESET = 0x04;
export const FCR_DMA_MODE = 0x08;
export const FCR_TRIGGER_MASK = 0xc0;
/** Receiver FIFO trigger levels for FCR bits 7:6 (8.3). */
export const FIFO_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
export const UART_FIFO_SIZE = 16;

/** LCR bits (8.1). */
export const LCR_DLAB = 0x80;

/** MCR bits (8.6). */
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;

/** LSR bits (8.7). */
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
export const LSR_RCVR_FIFO_ERROR = 0x80;

/** MSR bits (8.8). */
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;

/** Input clock of the PC's UART: 1.8432 MHz, divided by 16 per bit. */
export const UART_CLOCK_HZ = 1_843_200;

/** Bytes waiting in the far end's queue before they are dropped (bounds saved state). */
export const UART_INPUT_QUEUE_LIMIT = 1 << 16;

export interface Uart16550Config {
  /** First port of the 8-register block (default COM1 0x3F8). */
  base?: number;
  /** Interrupt line (default 4). */
  irq?: number;
  /** Each transmitted byte, in order. Not called in loopback mode. */
  onTransmit?: (byte: number) => void;
  /**
   * Modem status inputs (CTS, DSR, RI, DCD) as MSR bits 7:4; default DCD|DSR|CTS, a
   * connected terminal.
   */
  modemInputs?: number;
}

const STATE_NAME = 'uart16550';
const STATE_VERSION = 1;

export class Uart16550 implements DeviceModel {
  readonly base: number;
  readonly irq: number;
  readonly counters = new AccessCounters();
  private readonly onTransmit: (byte: number) => void;

  private rxFifo: number[] = [];
  private inputQueue: number[] = [];
  private ier = 0;
  private fcr = 0; // bits 0 and 7:6 kept; reset bits self-clear
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0; // OE/PE/FE/BI, cleared by reading LSR
  private msrDeltas = 0; // MSR bits 3:0, cleared by reading MSR
  private modemInputs: number; // external CTS/DSR/RI/DCD as MSR bits 7:4
  private scr = 0;
  private divisor = 0;
  private thrEmptyPending = false;
  private irqLevel = false;

  constructor(private readonly host: DeviceHost, config: Uart16550Config = {}) {
    this.base = config.base ?? COM1_PORTS.base;
    this.irq = config.irq ?? COM1_IRQ;
    this.onTransmit = config.onTransmit ?? (() => {});
    this.modemInputs = (config.modemInputs ?? MSR_DCD | MSR_DSR | MSR_CTS) & 0xf0;
  }

  /** Baud rate the guest programmed (0 while the divisor latch is 0). */
  get baudRate(): number {
    return this.divisor === 0 ? 0 : UART_CLOCK_HZ / 16 / this.divisor;
  }

  /** Whether the interrupt line is currently raised. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /** Bytes from the far end. They enter the receiver FIFO as it has room. */
  receive(bytes: Iterable<number>): void {
    for (const b of bytes) {
      if (this.inputQueue.length >= UART_INPUT_QUEUE_LIMIT) break;
      this.inputQueue.push(b & 0xff);
    }
    this.pumpInput();
    this.updateIrq();
  }

  /** Change the modem status inputs (MSR bits 7:4: DCD, RI, DSR, CTS). */
  setModemInputs(msrHighBits: number): void {
    const before = this.msrLines();
    this.modemInputs = msrHighBits & 0xf0;
    this.noteModemChange(before);
    this.updateIrq();
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    const offset = port - this.base;
    if (offset < 0 || offset > 7) {
      this.counters.unknownRegister++;
      return allOnes(size);
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return allOnes(size);
    }
    let value: number;
    switch (offset) {
      case UART_RBR:
        value = this.dlab ? this.divisor & 0xff : this.readRbr();
        break;
      case UART_IER:
        value = this.dlab ? this.divisor >> 8 : this.ier;
        break;
      case UART_IIR: {
        const id = this.interruptId();
        value = id | (this.fifoEnabled ? IIR_FIFOS_ENABLED : 0);
        // 8.4 / Table IV: reading IIR when it reports THR empty clears that interrupt.
        if (id === IIR_THR_EMPTY) this.thrEmptyPending = false;
        break;
      }
      case UART_LCR:
        value = this.lcr;
        break;
      case UART_MCR:
        value = this.mcr;
        break;
      case UART_LSR:
        value = this.lsr();
        this.lsrErrors = 0;
        break;
      case UART_MSR:
        value = this.msrLines() | this.msrDeltas;
        this.msrDeltas = 0;
        break;
      default: // UART_SCR
        value = this.scr;
        break;
    }
    this.updateIrq();
    return value;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    const offset = port - this.base;
    if (offset < 0 || offset > 7) {
      this.counters.unknownRegister++;
      return;
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return;
    }
    value &= 0xff;
    switch (offset) {
      case UART_THR:
        if (this.dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.transmit(value);
        break;
      case UART_IER:
        if (this.dlab) this.divisor = (this.divisor & 0x00ff) | (value << 8);
        else {
          const enablingThre = (value & IER_ETBEI) !== 0 && (this.ier & IER_ETBEI) === 0;
          this.ier = value & 0x0f;
          // Enabling ETBEI while THR is empty raises the THRE interrupt at once.
          if (enablingThre) this.thrEmptyPending = true;
        }
        break;
      case UART_FCR:
        this.writeFcr(value);
        break;
      case UART_LCR:
        this.lcr = value;
        break;
      case UART_MCR: {
        const before = this.msrLines();
        this.mcr = value & 0x1f;
        this.noteModemChange(before);
        this.pumpInput();
        break;
      }
      case UART_LSR:
        // 8.7: LSR is intended for read only; writes are ignored here.
        this.counters.unknownRegister++;
        break;
      case UART_MSR:
        this.counters.unknownRegister++;
        break;
      default: // UART_SCR
        this.scr = value;
        break;
    }
    this.updateIrq();
  }

  saveState(): DeviceState {
    return {
      device: STATE_NAME,
      version: STATE_VERSION,
      rxFifo: this.rxFifo.slice(),
      inputQueue: this.inputQueue.slice(),
      ier: this.ier,
      fcr: this.fcr,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msrDeltas: this.msrDeltas,
      modemInputs: this.modemInputs,
      scr: this.scr,
      divisor: this.divisor,
      thrEmptyPending: this.thrEmptyPending,
    };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const rxFifo = r.intArray('rxFifo', UART_FIFO_SIZE);
    const inputQueue = r.intArray('inputQueue', UART_INPUT_QUEUE_LIMIT);
    const ier = r.int('ier', 0, 0x0f);
    const fcr = r.byte('fcr');
    const lcr = r.byte('lcr');
    const mcr = r.int('mcr', 0, 0x1f);
    const lsrErrors = r.int('lsrErrors', 0, 0x1e);
    const msrDeltas = r.int('msrDeltas', 0, 0x0f);
    const modemInputs = r.byte('modemInputs');
    const scr = r.byte('scr');
    const divisor = r.int('divisor', 0, 0xffff);
    const thrEmptyPending = r.bool('thrEmptyPending');
    if ((modemInputs & 0x0f) !== 0) throw new DeviceStateError('uart16550: modemInputs must only use bits 7:4');
    const capacity = fcr & FCR_FIFO_ENABLE ? UART_FIFO_SIZE : 1;
    if (rxFifo.length > capacity) throw new DeviceStateError(`uart16550: rxFifo holds more than ${capacity} bytes`);
    Object.assign(this, { rxFifo, inputQueue, ier, fcr, lcr, mcr, lsrErrors, msrDeltas, modemInputs, scr, divisor, thrEmptyPending });
    this.updateIrq();
  }

  // --- internals ---

  private get dlab(): boolean {
    return (this.lcr & LCR_DLAB) !== 0;
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & FCR_FIFO_ENABLE) !== 0;
  }

  private get loopback(): boolean {
    return (this.mcr & MCR_LOOP) !== 0;
  }

  private get rxCapacity(): number {
    return this.fifoEnabled ? UART_FIFO_SIZE : 1;
  }

  private get triggerLevel(): number {
    return this.fifoEnabled ? FIFO_TRIGGER_LEVELS[(this.fcr & FCR_TRIGGER_MASK) >> 6] : 1;
  }

  private readRbr(): number {
    const value = this.rxFifo.shift();
    this.pumpInput();
    return value ?? 0;
  }

  private transmit(byte: number): void {
    this.thrEmptyPending = false;
    if (this.loopback) {
      // 8.6: in loopback the transmitter output is connected to the receiver input.
      this.receiveIntoFifo(byte);
    } else {
      this.onTransmit(byte);
    }
    // Transmission is instantaneous: THR and the shift register are empty again.
    if (this.ier & IER_ETBEI) this.thrEmptyPending = true;
  }

  /** One character arriving at the receiver shift register. */
  private receiveIntoFifo(byte: number): void {
    if (this.rxFifo.length >= this.rxCapacity) {
      this.lsrErrors |= LSR_OE; // 8.7 bit 1: the character is lost
      return;
    }
    this.rxFifo.push(byte);
  }

  private pumpInput(): void {
    if (this.loopback) return; // serial input is disconnected in loopback (8.6)
    while (this.inputQueue.length > 0 && this.rxFifo.length < this.rxCapacity) {
      this.receiveIntoFifo(this.inputQueue.shift()!);
    }
  }

  private writeFcr(value: number): void {
    const enable = (value & FCR_FIFO_ENABLE) !== 0;
    // 8.3: changing FCR0 clears both FIFOs.
    if (enable !== this.fifoEnabled) this.rxFifo = [];
    if (enable && value & FCR_RCVR_RESET) this.rxFifo = [];
    // FCR_XMIT_RESET: the transmitter FIFO is always empty in this model.
    this.fcr = enable ? value & (FCR_FIFO_ENABLE | FCR_DMA_MODE | FCR_TRIGGER_MASK) : 0;
    this.pumpInput();
  }

  private lsr(): number {
    let v = this.lsrErrors | LSR_THRE | LSR_TEMT;
    if (this.rxFifo.length > 0) v |= LSR_DR;
    // Bit 7 in FIFO mode: an error in the FIFO. Errors are not stored per character here.
    if (this.fifoEnabled && this.lsrErrors & (LSR_PE | LSR_FE | LSR_BI)) v |= LSR_RCVR_FIFO_ERROR;
    return v;
  }

  /** MSR bits 7:4: the external inputs, or in loopback the MCR outputs (8.6). */
  private msrLines(): number {
    if (!this.loopback) return this.modemInputs;
    let v = 0;
    if (this.mcr & MCR_RTS) v |= MSR_CTS;
    if (this.mcr & MCR_DTR) v |= MSR_DSR;
    if (this.mcr & MCR_OUT1) v |= MSR_RI;
    if (this.mcr & MCR_OUT2) v |= MSR_DCD;
    return v;
  }

  private noteModemChange(before: number): void {
    const after = this.msrLines();
    const changed = before ^ after;
    if (changed & MSR_CTS) this.msrDeltas |= MSR_DCTS;
    if (changed & MSR_DSR) this.msrDeltas |= MSR_DDSR;
    if (changed & MSR_DCD) this.msrDeltas |= MSR_DDCD;
    // TERI: RI changed from active to inactive (trailing edge).
    if (before & MSR_RI && !(after & MSR_RI)) this.msrDeltas |= MSR_TERI;
  }

  /** The highest-priority pending, enabled interrupt (Table IV), or IIR_NO_INTERRUPT. */
  private interruptId(): number {
    if (this.ier & IER_ELSI && this.lsrErrors & (LSR_OE | LSR_PE | LSR_FE | LSR_BI)) return IIR_RECEIVER_LINE_STATUS;
    if (this.ier & IER_ERBFI) {
      if (this.rxFifo.length >= this.triggerLevel) return IIR_RECEIVED_DATA;
      // Data below the trigger level times out (see the modelling notes above).
      if (this.fifoEnabled && this.rxFifo.length > 0) return IIR_CHARACTER_TIMEOUT;
    }
    if (this.ier & IER_ETBEI && this.thrEmptyPending) return IIR_THR_EMPTY;
    if (this.ier & IER_EDSSI && this.msrDeltas) return IIR_MODEM_STATUS;
    return IIR_NO_INTERRUPT;
  }

  private updateIrq(): void {
    const intr = this.interruptId() !== IIR_NO_INTERRUPT;
    const level = intr && (this.mcr & MCR_OUT2) !== 0 && !this.loopback;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.host.setIrq(this.irq, level);
    }
  }
}
