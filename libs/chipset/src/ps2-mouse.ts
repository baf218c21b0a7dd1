/**
 * An IBM PS/2 mouse (auxiliary device) behind the 8042, enough for firmware and OS
 * drivers to find and use it. References: IBM PS/2 Hardware Interface Technical
 * Reference, "Pointing Device" (commands E6-FF, 3-byte data packets, device ID 00).
 * Part of I8042's state; not a DeviceModel on its own.
 */
import { DeviceStateError } from '@quasivm/device-sdk';
import type { StateReader } from './state-reader.js';

/** Replies the device holds before it stops answering (bounds saved state). */
const REPLY_LIMIT = 16;

export const MOUSE_CMD_SCALING_1_1 = 0xe6;
export const MOUSE_CMD_SCALING_2_1 = 0xe7;
export const MOUSE_CMD_SET_RESOLUTION = 0xe8;
export const MOUSE_CMD_STATUS_REQUEST = 0xe9;
export const MOUSE_CMD_SET_STREAM = 0xea;
export const MOUSE_CMD_READ_DATA = 0xeb;
export const MOUSE_CMD_RESET_WRAP = 0xec;
export const MOUSE_CMD_SET_WRAP = 0xee;
export const MOUSE_CMD_SET_REMOTE = 0xf0;
export const MOUSE_CMD_GET_ID = 0xf2;
export const MOUSE_CMD_SET_SAMPLE_RATE = 0xf3;
export const MOUSE_CMD_ENABLE = 0xf4;
export const MOUSE_CMD_DISABLE = 0xf5;
export const MOUSE_CMD_SET_DEFAULT = 0xf6;
export const MOUSE_CMD_RESEND = 0xfe;
export const MOUSE_CMD_RESET = 0xff;
export const MOUSE_REPLY_ACK = 0xfa;
export const MOUSE_REPLY_RESEND = 0xfe;
export const MOUSE_REPLY_BAT_OK = 0xaa;
export const MOUSE_ID = 0x00;
/** Packet byte 0: bit 3 always set. */
export const MOUSE_PACKET_ALWAYS = 0x08;
export const MOUSE_QUEUE_LIMIT = 1024;

export interface Ps2MouseState {
  queue: number[];
  replies: number[];
  reporting: boolean;
  remote: boolean;
  wrap: boolean;
  scaling21: boolean;
  resolution: number;
  sampleRate: number;
  buttons: number;
  pendingCommand: number | null;
  lastSent: number;
  dx: number;
  dy: number;
}

export class Ps2Mouse {
  queue: number[] = [];
  /** Command replies, sent before queued data. */
  replies: number[] = [];
  reporting = false;
  remote = false;
  wrap = false;
  scaling21 = false;
  resolution = 2;
  sampleRate = 100;
  buttons = 0;
  pendingCommand: number | null = null;
  lastSent = 0;
  /** Movement accumulated in remote mode, sent on READ_DATA. */
  dx = 0;
  dy = 0;

  /** Movement (dy positive = up) and buttons (bit 0 left, 1 right, 2 middle). */
  move(dx: number, dy: number, buttons: number): void {
    this.buttons = buttons & 7;
    if (this.remote) {
      this.dx += dx;
      this.dy += dy;
      return;
    }
    if (!this.reporting || this.queue.length + 3 > MOUSE_QUEUE_LIMIT) return;
    this.queue.push(...this.packet(dx, dy));
  }

  take(): number | undefined {
    const b = this.replies.length > 0 ? this.replies.shift() : this.queue.shift();
    if (b !== undefined) this.lastSent = b;
    return b;
  }

  receive(byte: number): void {
    if (this.pendingCommand !== null) {
      const command = this.pendingCommand;
      this.pendingCommand = null;
      if (command === MOUSE_CMD_SET_RESOLUTION) this.resolution = byte & 3;
      else this.sampleRate = byte;
      this.reply(MOUSE_REPLY_ACK);
      return;
    }
    if (this.wrap && byte !== MOUSE_CMD_RESET_WRAP && byte !== MOUSE_CMD_RESET) {
      this.reply(byte); // wrap mode echoes
      return;
    }
    switch (byte) {
      case MOUSE_CMD_SET_RESOLUTION:
      case MOUSE_CMD_SET_SAMPLE_RATE:
        this.pendingCommand = byte;
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_SCALING_1_1:
      case MOUSE_CMD_SCALING_2_1:
        this.scaling21 = byte === MOUSE_CMD_SCALING_2_1;
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_STATUS_REQUEST: {
        const status = (this.remote ? 0x40 : 0) | (this.reporting ? 0x20 : 0) | (this.scaling21 ? 0x10 : 0) |
          ((this.buttons & 1) << 2) | ((this.buttons & 4) >> 1) | ((this.buttons & 2) >> 1);
        this.reply(MOUSE_REPLY_ACK, status, this.resolution, this.sampleRate);
        return;
      }
      case MOUSE_CMD_SET_STREAM:
      case MOUSE_CMD_SET_REMOTE:
        this.remote = byte === MOUSE_CMD_SET_REMOTE;
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_READ_DATA: {
        const p = this.packet(this.dx, this.dy);
        this.dx = 0;
        this.dy = 0;
        this.reply(MOUSE_REPLY_ACK, ...p);
        return;
      }
      case MOUSE_CMD_RESET_WRAP:
      case MOUSE_CMD_SET_WRAP:
        this.wrap = byte === MOUSE_CMD_SET_WRAP;
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_GET_ID:
        this.reply(MOUSE_REPLY_ACK, MOUSE_ID);
        return;
      case MOUSE_CMD_ENABLE:
      case MOUSE_CMD_DISABLE:
        this.reporting = byte === MOUSE_CMD_ENABLE;
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_SET_DEFAULT:
        this.setDefaults();
        this.reply(MOUSE_REPLY_ACK);
        return;
      case MOUSE_CMD_RESEND:
        if (this.replies.length < REPLY_LIMIT) this.replies.unshift(this.lastSent);
        return;
      case MOUSE_CMD_RESET:
        this.setDefaults();
        this.wrap = false;
        this.queue = [];
        this.replies = [];
        this.reply(MOUSE_REPLY_ACK, MOUSE_REPLY_BAT_OK, MOUSE_ID);
        return;
      default:
        this.reply(MOUSE_REPLY_RESEND);
    }
  }

  save(): Ps2MouseState {
    return {
      queue: this.queue.slice(), replies: this.replies.slice(), reporting: this.reporting, remote: this.remote, wrap: this.wrap, scaling21: this.scaling21,
      resolution: this.resolution, sampleRate: this.sampleRate, buttons: this.buttons, pendingCommand: this.pendingCommand,
      lastSent: this.lastSent, dx: this.dx, dy: this.dy,
    };
  }

  static parse(r: StateReader, raw: Record<string, unknown>): Ps2MouseState {
    const s: Ps2MouseState = {
      queue: r.intArray('queue', MOUSE_QUEUE_LIMIT), replies: r.intArray('replies', REPLY_LIMIT), reporting: r.bool('reporting'), remote: r.bool('remote'),
      wrap: r.bool('wrap'), scaling21: r.bool('scaling21'), resolution: r.int('resolution', 0, 3), sampleRate: r.byte('sampleRate'),
      buttons: r.int('buttons', 0, 7), pendingCommand: raw.pendingCommand === null ? null : r.byte('pendingCommand'), lastSent: r.byte('lastSent'),
      dx: r.int('dx', -1e9, 1e9), dy: r.int('dy', -1e9, 1e9),
    };
    if (s.pendingCommand !== null && s.pendingCommand !== MOUSE_CMD_SET_RESOLUTION && s.pendingCommand !== MOUSE_CMD_SET_SAMPLE_RATE) {
      throw new DeviceStateError('i8042: mouse pendingCommand is not a command with a parameter');
    }
    return s;
  }

  load(s: Ps2MouseState): void {
    Object.assign(this, s);
    this.queue = s.queue.slice();
    this.replies = s.replies.slice();
  }

  private setDefaults(): void {
    this.reporting = false;
    this.remote = false;
    this.scaling21 = false;
    this.resolution = 2;
    this.sampleRate = 100;
    this.pendingCommand = null;
  }

  private packet(dx: number, dy: number): number[] {
    const clamp = (v: number) => Math.max(-256, Math.min(255, Math.trunc(v)));
    const x = clamp(dx);
    const y = clamp(dy);
    const b0 = MOUSE_PACKET_ALWAYS | (this.buttons & 7) | (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0) |
      (x !== Math.trunc(dx) ? 0x40 : 0) | (y !== Math.trunc(dy) ? 0x80 : 0);
    return [b0, x & 0xff, y & 0xff];
  }

  /** Replies go ahead of data bytes not yet sent, in their own order. */
  private reply(...bytes: number[]): void {
    if (this.replies.length + bytes.length <= REPLY_LIMIT) this.replies.push(...bytes);
  }
}
