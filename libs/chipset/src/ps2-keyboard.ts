/**
 * An IBM PS/2 (MF2) keyboard as the 8042 sees it: it answers commands from the host and
 * sends scan codes. References: IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard and Auxiliary Device Controller" / "Keyboard" (commands to the keyboard,
 * responses FA/AA/EE/FE, identification AB 83, scan code sets 1-3).
 * The keyboard is part of I8042's state; it is not a DeviceModel on its own.
 */
import { DeviceStateError } from '@quasivm/device-sdk';
import type { StateReader } from './state-reader.js';

/** Replies the device holds before it stops answering (bounds saved state). */
const REPLY_LIMIT = 16;

/** Commands the host sends to the keyboard. */
export const KBD_CMD_SET_LEDS = 0xed;
export const KBD_CMD_ECHO = 0xee;
export const KBD_CMD_SCANCODE_SET = 0xf0;
export const KBD_CMD_IDENTIFY = 0xf2;
export const KBD_CMD_TYPEMATIC = 0xf3;
export const KBD_CMD_ENABLE = 0xf4;
export const KBD_CMD_DEFAULT_DISABLE = 0xf5;
export const KBD_CMD_SET_DEFAULT = 0xf6;
export const KBD_CMD_SET3_FIRST = 0xf7; // 0xF7-0xFD: set-3 key type commands
export const KBD_CMD_SET3_LAST = 0xfd;
export const KBD_CMD_RESEND = 0xfe;
export const KBD_CMD_RESET = 0xff;
/** Responses. */
export const KBD_REPLY_ACK = 0xfa;
export const KBD_REPLY_BAT_OK = 0xaa;
export const KBD_REPLY_ECHO = 0xee;
export const KBD_REPLY_RESEND = 0xfe;
export const KBD_ID = [0xab, 0x83] as const;
/** Typematic default: 10.9 characters/s, 500 ms delay. */
export const KBD_DEFAULT_TYPEMATIC = 0x2b;
/** Bytes the keyboard buffers before dropping input (bounds saved state). */
export const KBD_QUEUE_LIMIT = 1024;

export interface Ps2KeyboardState {
  queue: number[];
  replies: number[];
  scanning: boolean;
  scancodeSet: number;
  leds: number;
  typematic: number;
  pendingCommand: number | null;
  lastSent: number;
}

export class Ps2Keyboard {
  /** Bytes waiting to be sent to the controller. */
  queue: number[] = [];
  /** Command replies, sent before queued data. */
  replies: number[] = [];
  scanning = true;
  scancodeSet = 2;
  leds = 0;
  typematic = KBD_DEFAULT_TYPEMATIC;
  /** A command waiting for its parameter byte. */
  pendingCommand: number | null = null;
  lastSent = 0;
  /** Key bytes dropped because scanning was off or the buffer was full. */
  droppedKeys = 0;

  constructor(private readonly onLeds: (leds: number) => void = () => {}) {}

  /** Key bytes, in the keyboard's current scan code set. Dropped while scanning is off. */
  pressKeys(bytes: Iterable<number>): void {
    for (const b of bytes) {
      if (!this.scanning || this.queue.length >= KBD_QUEUE_LIMIT) {
        this.droppedKeys++;
        continue;
      }
      this.queue.push(b & 0xff);
    }
  }

  /** The next byte for the controller, or undefined. */
  take(): number | undefined {
    const b = this.replies.length > 0 ? this.replies.shift() : this.queue.shift();
    if (b !== undefined) this.lastSent = b;
    return b;
  }

  /** A byte from the host (written to port 0x60 when no controller command waits for it). */
  receive(byte: number): void {
    if (this.pendingCommand !== null) {
      const command = this.pendingCommand;
      this.pendingCommand = null;
      this.parameter(command, byte);
      return;
    }
    switch (byte) {
      case KBD_CMD_SET_LEDS:
      case KBD_CMD_TYPEMATIC:
      case KBD_CMD_SCANCODE_SET:
        this.pendingCommand = byte;
        this.reply(KBD_REPLY_ACK);
        return;
      case KBD_CMD_ECHO:
        this.reply(KBD_REPLY_ECHO);
        return;
      case KBD_CMD_IDENTIFY:
        this.reply(KBD_REPLY_ACK, ...KBD_ID);
        return;
      case KBD_CMD_ENABLE:
        this.queue = [];
        this.scanning = true;
        this.reply(KBD_REPLY_ACK);
        return;
      case KBD_CMD_DEFAULT_DISABLE:
        this.setDefaults();
        this.scanning = false;
        this.reply(KBD_REPLY_ACK);
        return;
      case KBD_CMD_SET_DEFAULT:
        this.setDefaults();
        this.reply(KBD_REPLY_ACK);
        return;
      case KBD_CMD_RESEND:
        if (this.replies.length < REPLY_LIMIT) this.replies.unshift(this.lastSent);
        return;
      case KBD_CMD_RESET:
        this.setDefaults();
        this.scanning = true;
        this.setLeds(0);
        this.queue = [];
        this.replies = [];
        this.reply(KBD_REPLY_ACK, KBD_REPLY_BAT_OK);
        return;
      default:
        if (byte >= KBD_CMD_SET3_FIRST && byte <= KBD_CMD_SET3_LAST) this.reply(KBD_REPLY_ACK);
        else this.reply(KBD_REPLY_RESEND);
    }
  }

  save(): Ps2KeyboardState {
    return {
      queue: this.queue.slice(), replies: this.replies.slice(), scanning: this.scanning, scancodeSet: this.scancodeSet, leds: this.leds,
      typematic: this.typematic, pendingCommand: this.pendingCommand, lastSent: this.lastSent,
    };
  }

  static parse(r: StateReader, raw: Record<string, unknown>): Ps2KeyboardState {
    const s: Ps2KeyboardState = {
      queue: r.intArray('queue', KBD_QUEUE_LIMIT), replies: r.intArray('replies', REPLY_LIMIT),
      scanning: r.bool('scanning'),
      scancodeSet: r.int('scancodeSet', 1, 3),
      leds: r.int('leds', 0, 7),
      typematic: r.int('typematic', 0, 0x7f),
      pendingCommand: raw.pendingCommand === null ? null : r.byte('pendingCommand'),
      lastSent: r.byte('lastSent'),
    };
    if (s.pendingCommand !== null && ![KBD_CMD_SET_LEDS, KBD_CMD_TYPEMATIC, KBD_CMD_SCANCODE_SET].includes(s.pendingCommand)) {
      throw new DeviceStateError('i8042: keyboard pendingCommand is not a command with a parameter');
    }
    return s;
  }

  load(s: Ps2KeyboardState): void {
    Object.assign(this, s);
    this.queue = s.queue.slice();
    this.replies = s.replies.slice();
  }

  private parameter(command: number, value: number): void {
    switch (command) {
      case KBD_CMD_SET_LEDS:
        this.setLeds(value & 7);
        this.reply(KBD_REPLY_ACK);
        return;
      case KBD_CMD_TYPEMATIC:
        this.typematic = value & 0x7f;
        this.reply(KBD_REPLY_ACK);
        return;
      default: // KBD_CMD_SCANCODE_SET
        if (value === 0) this.reply(KBD_REPLY_ACK, this.scancodeSet);
        else if (value <= 3) {
          this.scancodeSet = value;
          this.reply(KBD_REPLY_ACK);
        } else this.reply(KBD_REPLY_RESEND);
    }
  }

  private setDefaults(): void {
    this.typematic = KBD_DEFAULT_TYPEMATIC;
    this.scancodeSet = 2;
    this.pendingCommand = null;
  }

  private setLeds(leds: number): void {
    const changed = leds !== this.leds;
    this.leds = leds;
    if (changed) this.onLeds(leds);
  }

  /** Replies go ahead of data bytes not yet sent, in their own order. */
  private reply(...bytes: number[]): void {
    if (this.replies.length + bytes.length <= REPLY_LIMIT) this.replies.push(...bytes);
  }
}
