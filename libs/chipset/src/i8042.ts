/**
 * Intel 8042 keyboard controller as on the PC/AT and PS/2 (data port 0x60, status and
 * command port 0x64, IRQ1 for the keyboard, IRQ12 for the auxiliary/mouse port).
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary
 * Device Controller": status register, controller command byte, commands 20-FF,
 * input and output ports, and scan code translation.
 *
 * The controller owns a PS/2 keyboard (Ps2Keyboard) and a PS/2 mouse (Ps2Mouse). Bytes
 * move from their queues into the one-byte output buffer whenever it is empty and the
 * device's interface is enabled; controller replies go first. IRQ1/IRQ12 follow "output
 * buffer full" for keyboard/aux data when enabled in the command byte, as levels (the
 * line falls when the guest reads port 0x60).
 *
 * The controller does not reset the machine or gate A20 itself: output-port writes and
 * reset pulses go to onA20Change and onReset.
 *
 * Modelling choices: commands complete at once, so the input buffer is never full (IBF=0);
 * writing a byte for the keyboard (or, through 0xD4, for the mouse) re-enables that
 * interface, because the controller releases the clock line to send it.
 * Not state: callbacks, host, access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceHost, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { I8042_COMMAND_PORTS, I8042_DATA_PORTS, I8042_KEYBOARD_IRQ, I8042_MOUSE_IRQ } from './ports.js';
import { Ps2Keyboard } from './ps2-keyboard.js';
import { Ps2Mouse } from './ps2-mouse.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** Status register (port 0x64 read). */
export const STATUS_OBF = 0x01; // output buffer full
export const STATUS_IBF = 0x02; // input buffer full
export const STATUS_SYS = 0x04; // system flag
export const STATUS_A2 = 0x08; // last write was a command (port 0x64)
export const STATUS_INH = 0x10; // keyboard not inhibited (key lock switch)
export const STATUS_AUX_OBF = 0x20; // output buffer holds aux (mouse) data
export const STATUS_TIMEOUT = 0x40;
export const STATUS_PARITY = 0x80;

/** Controller command byte (RAM byte 0). */
export const CTR_KBD_INT = 0x01;
export const CTR_AUX_INT = 0x02;
export const CTR_SYS = 0x04;
export const CTR_KBD_DISABLE = 0x10;
export const CTR_AUX_DISABLE = 0x20;
export const CTR_XLATE = 0x40;

/** Controller commands (port 0x64 write). */
export const CMD_READ_CTR = 0x20;
export const CMD_READ_RAM_LAST = 0x3f;
export const CMD_WRITE_CTR = 0x60;
export const CMD_WRITE_RAM_LAST = 0x7f;
export const CMD_AUX_DISABLE = 0xa7;
export const CMD_AUX_ENABLE = 0xa8;
export const CMD_AUX_TEST = 0xa9;
export const CMD_SELF_TEST = 0xaa;
export const CMD_KBD_TEST = 0xab;
export const CMD_KBD_DISABLE = 0xad;
export const CMD_KBD_ENABLE = 0xae;
export const CMD_READ_INPUT_PORT = 0xc0;
export const CMD_READ_OUTPUT_PORT = 0xd0;
export const CMD_WRITE_OUTPUT_PORT = 0xd1;
export const CMD_WRITE_KBD_OUTPUT = 0xd2;
export const CMD_WRITE_AUX_OUTPUT = 0xd3;
export const CMD_WRITE_AUX = 0xd4;
export const CMD_PULSE_FIRST = 0xf0; // 0xF0-0xFF pulse output port bits 3:0 low
export const CMD_PULSE_RESET = 0xfe;
/** Replies. */
export const SELF_TEST_OK = 0x55;
export const INTERFACE_TEST_OK = 0x00;

/** Output port (0xD0/0xD1). */
export const OUTPORT_RESET = 0x01; // 0 = system reset asserted
export const OUTPORT_A20 = 0x02;
export const OUTPORT_KBD_OBF = 0x10; // IRQ1 line
export const OUTPORT_AUX_OBF = 0x20; // IRQ12 line
/** Input port (0xC0): bit 7 = keyboard not inhibited; the other board strapping bits read 0. */
export const INPUT_PORT_VALUE = 0x80;

/** Internal RAM bytes addressable by 0x20-0x3F / 0x60-0x7F (byte 0 is the command byte). */
export const I8042_RAM_SIZE = 32;

/**
 * Set 2 -> set 1 translation done by the controller when CTR_XLATE is set, for the keys
 * of an MF2 keyboard (IBM PS/2 Technical Reference, scan code tables). Bytes >= 0x80
 * pass through except 0x83 (F7) and 0x84 (Alt+SysRq); codes not listed pass through.
 */
export const SET2_TO_SET1: ReadonlyMap<number, number> = new Map([
  [0x00, 0xff], [0x01, 0x43], [0x03, 0x3f], [0x04, 0x3d], [0x05, 0x3b], [0x06, 0x3c], [0x07, 0x58], [0x09, 0x44],
  [0x0a, 0x42], [0x0b, 0x40], [0x0c, 0x3e], [0x0d, 0x0f], [0x0e, 0x29], [0x11, 0x38], [0x12, 0x2a], [0x14, 0x1d],
  [0x15, 0x10], [0x16, 0x02], [0x1a, 0x2c], [0x1b, 0x1f], [0x1c, 0x1e], [0x1d, 0x11], [0x1e, 0x03], [0x21, 0x2e],
  [0x22, 0x2d], [0x23, 0x20], [0x24, 0x12], [0x25, 0x05], [0x26, 0x04], [0x29, 0x39], [0x2a, 0x2f], [0x2b, 0x21],
  [0x2c, 0x14], [0x2d, 0x13], [0x2e, 0x06], [0x31, 0x31], [0x32, 0x30], [0x33, 0x23], [0x34, 0x22], [0x35, 0x15],
  [0x36, 0x07], [0x3a, 0x32], [0x3b, 0x24], [0x3c, 0x16], [0x3d, 0x08], [0x3e, 0x09], [0x41, 0x33], [0x42, 0x25],
  [0x43, 0x17], [0x44, 0x18], [0x45, 0x0b], [0x46, 0x0a], [0x49, 0x34], [0x4a, 0x35], [0x4b, 0x26], [0x4c, 0x27],
  [0x4d, 0x19], [0x4e, 0x0c], [0x52, 0x28], [0x54, 0x1a], [0x55, 0x0d], [0x58, 0x3a], [0x59, 0x36], [0x5a, 0x1c],
  [0x5b, 0x1b], [0x5d, 0x2b], [0x61, 0x56], [0x66, 0x0e], [0x69, 0x4f], [0x6b, 0x4b], [0x6c, 0x47], [0x70, 0x52],
  [0x71, 0x53], [0x72, 0x50], [0x73, 0x4c], [0x74, 0x4d], [0x75, 0x48], [0x76, 0x01], [0x77, 0x45], [0x78, 0x57],
  [0x79, 0x4e], [0x7a, 0x51], [0x7b, 0x4a], [0x7c, 0x37], [0x7d, 0x49], [0x7e, 0x46], [0x83, 0x41], [0x84, 0x54],
]);
const SET1_TO_SET2: ReadonlyMap<number, number> = new Map([...SET2_TO_SET1].filter(([s2]) => s2 !== 0x00).map(([s2, s1]) => [s1, s2]));
/** Set 2 break prefix. */
export const SET2_BREAK_PREFIX = 0xf0;

/** Convert set-1 bytes (make codes, break = make | 0x80, E0/E1 prefixes) to set 2. */
export function set1ToSet2(bytes: readonly number[]): number[] {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0xe0 || b === 0xe1) {
      out.push(b);
      continue;
    }
    const make = SET1_TO_SET2.get(b & 0x7f);
    if (make === undefined) {
      out.push(b);
      continue;
    }
    if (b & 0x80) out.push(SET2_BREAK_PREFIX);
    out.push(make);
  }
  return out;
}

export interface I8042Config {
  dataPort?: number;
  commandPort?: number;
  keyboardIrq?: number;
  mouseIrq?: number;
  /** Output port bit 1 changed (true = A20 enabled). */
  onA20Change?: (enabled: boolean) => void;
  /** The controller asserted the system reset line (0xFE pulse, or output port bit 0 = 0). */
  onReset?: () => void;
  /** The keyboard LEDs changed (bit 0 scroll, 1 num, 2 caps lock). */
  onLeds?: (leds: number) => void;
}

/** Controller replies held while the guest does not read them (bounds saved state). */
const CONTROLLER_REPLY_LIMIT = 64;
const STATE_NAME = 'i8042';
const STATE_VERSION = 1;

interface OutByte {
  byte: number;
  aux: boolean;
}

export class I8042 implements DeviceModel {
  readonly dataPort: number;
  readonly commandPort: number;
  readonly keyboardIrq: number;
  readonly mouseIrq: number;
  readonly counters = new AccessCounters();
  readonly keyboard: Ps2Keyboard;
  readonly mouse = new Ps2Mouse();
  private readonly onA20Change: (enabled: boolean) => void;
  private readonly onReset: () => void;

  private ram = new Uint8Array(I8042_RAM_SIZE); // ram[0] = command byte
  private outputPort = OUTPORT_RESET | OUTPORT_A20;
  private obf: OutByte | null = null;
  private lastOutput = 0;
  private replies: OutByte[] = [];
  private pendingCommand: number | null = null;
  private lastWriteWasCommand = false;
  private sysFlag = false;
  private breakPrefix = false;
  private kbdIrqLevel = false;
  private auxIrqLevel = false;

  constructor(private readonly host: DeviceHost, config: I8042Config = {}) {
    this.dataPort = config.dataPort ?? I8042_DATA_PORTS.base;
    this.commandPort = config.commandPort ?? I8042_COMMAND_PORTS.base;
    this.keyboardIrq = config.keyboardIrq ?? I8042_KEYBOARD_IRQ;
    this.mouseIrq = config.mouseIrq ?? I8042_MOUSE_IRQ;
    this.onA20Change = config.onA20Change ?? (() => {});
    this.onReset = config.onReset ?? (() => {});
    this.keyboard = new Ps2Keyboard(config.onLeds);
  }

  /** Controller command byte. */
  get commandByte(): number {
    return this.ram[0];
  }

  /** Whether the output port enables A20. */
  get a20Enabled(): boolean {
    return (this.outputPort & OUTPORT_A20) !== 0;
  }

  /** Bytes from the keyboard in its current scan code set (set 2 unless the guest changed it). */
  pressKeys(scancodes: Iterable<number>): void {
    this.keyboard.pressKeys(scancodes);
    this.update();
  }

  /** Mouse movement (dy positive = up) and buttons (bit 0 left, 1 right, 2 middle). */
  moveMouse(dx: number, dy: number, buttons: number): void {
    this.mouse.move(Math.trunc(dx), Math.trunc(dy), buttons);
    this.update();
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    if (!this.accept(port, size)) return allOnes(size);
    if (port === this.commandPort) return this.status();
    // Reading the data port takes the output buffer; with nothing new it returns the last byte.
    if (this.obf) {
      this.lastOutput = this.obf.byte;
      this.obf = null;
      this.driveIrqs(); // the line falls; the next byte raises it again
    }
    const value = this.lastOutput;
    this.update();
    return value;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    if (!this.accept(port, size)) return;
    value &= 0xff;
    if (port === this.commandPort) {
      this.lastWriteWasCommand = true;
      this.pendingCommand = null;
      this.command(value);
    } else {
      this.lastWriteWasCommand = false;
      this.data(value);
    }
    this.update();
  }

  saveState(): DeviceState {
    return {
      device: STATE_NAME,
      version: STATE_VERSION,
      ram: Array.from(this.ram),
      outputPort: this.outputPort,
      obf: this.obf ? { ...this.obf } : null,
      lastOutput: this.lastOutput,
      replies: this.replies.map((r) => ({ ...r })),
      pendingCommand: this.pendingCommand,
      lastWriteWasCommand: this.lastWriteWasCommand,
      sysFlag: this.sysFlag,
      breakPrefix: this.breakPrefix,
      keyboard: { ...this.keyboard.save() },
      mouse: { ...this.mouse.save() },
    };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const ram = Uint8Array.from(r.intArray('ram', I8042_RAM_SIZE, 0, 0xff, I8042_RAM_SIZE));
    const outputPort = r.byte('outputPort');
    const parseOut = (o: StateReader): OutByte => ({ byte: o.byte('byte'), aux: o.bool('aux') });
    const obf = state.obf === null ? null : parseOut(r.obj('obf'));
    const lastOutput = r.byte('lastOutput');
    const replies = r.objArray('replies', CONTROLLER_REPLY_LIMIT).map(parseOut);
    const pendingCommand = state.pendingCommand === null ? null : r.byte('pendingCommand');
    if (pendingCommand !== null && !I8042.takesParameter(pendingCommand)) {
      throw new DeviceStateError('i8042: pendingCommand is not a command with a parameter');
    }
    const lastWriteWasCommand = r.bool('lastWriteWasCommand');
    const sysFlag = r.bool('sysFlag');
    const breakPrefix = r.bool('breakPrefix');
    const keyboard = Ps2Keyboard.parse(r.obj('keyboard'), state.keyboard as Record<string, unknown>);
    const mouse = Ps2Mouse.parse(r.obj('mouse'), state.mouse as Record<string, unknown>);
    Object.assign(this, { ram, outputPort, obf, lastOutput, replies, pendingCommand, lastWriteWasCommand, sysFlag, breakPrefix });
    this.keyboard.load(keyboard);
    this.mouse.load(mouse);
    this.update();
  }

  // --- internals ---

  private static takesParameter(command: number): boolean {
    return (command >= CMD_WRITE_CTR && command <= CMD_WRITE_RAM_LAST) ||
      (command >= CMD_WRITE_OUTPUT_PORT && command <= CMD_WRITE_AUX);
  }

  private accept(port: number, size: AccessSize): boolean {
    if (port !== this.dataPort && port !== this.commandPort) {
      this.counters.unknownRegister++;
      return false;
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return false;
    }
    return true;
  }

  private status(): number {
    let s = STATUS_INH;
    if (this.obf) s |= STATUS_OBF | (this.obf.aux ? STATUS_AUX_OBF : 0);
    if (this.sysFlag || this.ram[0] & CTR_SYS) s |= STATUS_SYS;
    if (this.lastWriteWasCommand) s |= STATUS_A2;
    return s;
  }

  private reply(byte: number, aux = false): void {
    if (this.replies.length < CONTROLLER_REPLY_LIMIT) this.replies.push({ byte, aux });
  }

  private command(cmd: number): void {
    if (cmd >= CMD_READ_CTR && cmd <= CMD_READ_RAM_LAST) {
      this.reply(this.ram[cmd - CMD_READ_CTR]);
      return;
    }
    if (I8042.takesParameter(cmd)) {
      this.pendingCommand = cmd;
      return;
    }
    switch (cmd) {
      case CMD_AUX_DISABLE:
        this.ram[0] |= CTR_AUX_DISABLE;
        return;
      case CMD_AUX_ENABLE:
        this.ram[0] &= ~CTR_AUX_DISABLE;
        return;
      case CMD_AUX_TEST:
      case CMD_KBD_TEST:
        this.reply(INTERFACE_TEST_OK);
        return;
      case CMD_SELF_TEST:
        this.sysFlag = true;
        this.reply(SELF_TEST_OK);
        return;
      case CMD_KBD_DISABLE:
        this.ram[0] |= CTR_KBD_DISABLE;
        return;
      case CMD_KBD_ENABLE:
        this.ram[0] &= ~CTR_KBD_DISABLE;
        return;
      case CMD_READ_INPUT_PORT:
        this.reply(INPUT_PORT_VALUE);
        return;
      case CMD_READ_OUTPUT_PORT: {
        let v = this.outputPort & ~(OUTPORT_KBD_OBF | OUTPORT_AUX_OBF);
        if (this.obf) v |= this.obf.aux ? OUTPORT_AUX_OBF : OUTPORT_KBD_OBF;
        this.reply(v);
        return;
      }
      default:
        if (cmd >= CMD_PULSE_FIRST) {
          // Pulse output port bits 3:0 low where the command's bits are 0; bit 0 is reset.
          if ((cmd & OUTPORT_RESET) === 0) this.onReset();
          return;
        }
        this.counters.unknownRegister++;
    }
  }

  private data(value: number): void {
    const cmd = this.pendingCommand;
    this.pendingCommand = null;
    if (cmd === null) {
      this.ram[0] &= ~CTR_KBD_DISABLE;
      this.breakPrefix = false;
      this.keyboard.receive(value);
      return;
    }
    if (cmd >= CMD_WRITE_CTR && cmd <= CMD_WRITE_RAM_LAST) {
      this.ram[cmd - CMD_WRITE_CTR] = value;
      return;
    }
    switch (cmd) {
      case CMD_WRITE_OUTPUT_PORT: {
        const old = this.outputPort;
        this.outputPort = value;
        if ((old ^ value) & OUTPORT_A20) this.onA20Change((value & OUTPORT_A20) !== 0);
        if ((value & OUTPORT_RESET) === 0) this.onReset();
        return;
      }
      case CMD_WRITE_KBD_OUTPUT:
        this.reply(value, false);
        return;
      case CMD_WRITE_AUX_OUTPUT:
        this.reply(value, true);
        return;
      default: // CMD_WRITE_AUX
        this.ram[0] &= ~CTR_AUX_DISABLE;
        this.mouse.receive(value);
    }
  }

  /** Fill the output buffer if it is empty, then drive IRQ1/IRQ12. */
  private update(): void {
    if (!this.obf) this.obf = this.nextOutput();
    this.driveIrqs();
  }

  private driveIrqs(): void {
    const ctr = this.ram[0];
    const kbd = this.obf !== null && !this.obf.aux && (ctr & CTR_KBD_INT) !== 0;
    const aux = this.obf !== null && this.obf.aux && (ctr & CTR_AUX_INT) !== 0;
    if (kbd !== this.kbdIrqLevel) {
      this.kbdIrqLevel = kbd;
      this.host.setIrq(this.keyboardIrq, kbd);
    }
    if (aux !== this.auxIrqLevel) {
      this.auxIrqLevel = aux;
      this.host.setIrq(this.mouseIrq, aux);
    }
  }

  private nextOutput(): OutByte | null {
    const reply = this.replies.shift();
    if (reply) return reply;
    const ctr = this.ram[0];
    if (!(ctr & CTR_KBD_DISABLE)) {
      for (;;) {
        const b = this.keyboard.take();
        if (b === undefined) break;
        if (!(ctr & CTR_XLATE)) return { byte: b, aux: false };
        // Translation: F0 is swallowed and sets bit 7 of the next translated byte.
        if (b === SET2_BREAK_PREFIX) {
          this.breakPrefix = true;
          continue;
        }
        const translated = SET2_TO_SET1.get(b) ?? b;
        const out = this.breakPrefix ? translated | 0x80 : translated;
        this.breakPrefix = false;
        return { byte: out, aux: false };
      }
    }
    if (!(ctr & CTR_AUX_DISABLE)) {
      const b = this.mouse.take();
      if (b !== undefined) return { byte: b, aux: true };
    }
    return null;
  }
}
