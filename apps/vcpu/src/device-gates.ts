/**
 * One gate per remote device, in shared memory between a VM's main thread and its CPU
 * thread: how a running VM's device session moves to another service without the guest
 * noticing. The main thread asks for a hold; the CPU thread, at its next access to the
 * device or between slices, makes sure the device has applied everything it sent (a
 * Barrier on the fast lane, a marker through the bridge ring), says it holds, and from then
 * on waits at any access to that device. The main thread moves the session (SaveState,
 * Detach, Attach + LoadState elsewhere), writes where the device now is, and opens the gate;
 * the waiting access goes to the new session. Other devices and guest code run on meanwhile.
 */
export const enum GateState {
  Open = 0,
  /** The main thread asked for a hold; the CPU thread has not taken it yet. */
  HoldAsked = 1,
  /** The CPU thread holds: the device has everything it sent, and it waits at the next access. */
  Held = 2,
  /** The main thread moved the session: the record names the new fast lane (or none). */
  Moved = 3,
}

const RECORD_WORDS = 1024;
const MAX_DEVICES = 16;
/** Words 0 state, 1 text length; then the text `${fastLanePath}\n${sessionId}`, one UTF-16 unit a word. */
const TEXT_AT = 2;

export function createGateBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(RECORD_WORDS * MAX_DEVICES * 4);
}

/** Where a moved device's accesses go now: its fast lane, or null to go through the bridge. */
export type LaneTarget = { path: string; sessionId: string } | null;

export class DeviceGates {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  private at(index: number): number {
    if (index < 0 || index >= MAX_DEVICES) throw new Error(`device index ${index} is outside 0..${MAX_DEVICES - 1}`);
    return index * RECORD_WORDS;
  }

  state(index: number): GateState {
    return Atomics.load(this.words, this.at(index));
  }

  /** Main thread: ask the CPU thread to hold the device's I/O. */
  ask(index: number): void {
    Atomics.store(this.words, this.at(index), GateState.HoldAsked);
  }

  /** CPU thread: the device has everything this thread sent; later accesses wait. */
  held(index: number): void {
    Atomics.store(this.words, this.at(index), GateState.Held);
    Atomics.notify(this.words, this.at(index));
  }

  /** Main thread: the session now lives at `lane` (null: no fast lane); let the CPU thread on. */
  moved(index: number, lane: LaneTarget): void {
    const base = this.at(index);
    const text = lane ? `${lane.path}\n${lane.sessionId}` : '';
    if (text.length > RECORD_WORDS - TEXT_AT) throw new Error(`fast lane path too long (${text.length} characters)`);
    for (let i = 0; i < text.length; i++) this.words[base + TEXT_AT + i] = text.charCodeAt(i);
    this.words[base + 1] = text.length;
    Atomics.store(this.words, base, GateState.Moved);
    Atomics.notify(this.words, base);
  }

  /** Main thread: the session did not move; the CPU thread goes on with it as before. */
  release(index: number): void {
    Atomics.store(this.words, this.at(index), GateState.Open);
    Atomics.notify(this.words, this.at(index));
  }

  /** CPU thread: blocks while the device is held; returns the new lane when it moved (and opens the gate). */
  waitWhileHeld(index: number): { moved: boolean; lane: LaneTarget } {
    const base = this.at(index);
    let s: number;
    while ((s = Atomics.load(this.words, base)) === GateState.Held) Atomics.wait(this.words, base, GateState.Held, 1000);
    if (s !== GateState.Moved) return { moved: false, lane: null };
    const n = this.words[base + 1];
    let text = '';
    for (let i = 0; i < n; i++) text += String.fromCharCode(this.words[base + TEXT_AT + i]);
    Atomics.store(this.words, base, GateState.Open);
    if (!text) return { moved: true, lane: null };
    const cut = text.lastIndexOf('\n');
    return { moved: true, lane: { path: text.slice(0, cut), sessionId: text.slice(cut + 1) } };
  }
}
