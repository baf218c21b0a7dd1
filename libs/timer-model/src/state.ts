/**
 * The timer's saved state, version 1, and its validation. Everything is parsed into fresh
 * objects first; the device assigns them only when the whole blob is valid, so a malformed
 * blob throws DeviceStateError and leaves the model unchanged.
 *
 * Not state (rebuilt or irrelevant after a restore): the DeviceHost, the access counters
 * (diagnostics of one process), the last speaker frequency announced (derived from the
 * state and announced again on restore).
 */
import { DeviceStateError, type DeviceState } from '@quasivm/device-sdk';
import { MAX_GUEST_TIME_NS } from './clock.js';
import type { AccessMode, PitCounterState } from './pit-counter.js';
import type { Pit8254State } from './pit8254.js';
import type { PortBState } from './port-b.js';

export const TIMER_STATE_DEVICE = 'timer';
export const TIMER_STATE_VERSION = 1;

/** The IRQ0 deadline last given to the host, in PIT clock pulses. */
export interface Irq0Deadline {
  atPulse: number;
  periodPulses: number | null;
}

export interface TimerState extends DeviceState {
  device: typeof TIMER_STATE_DEVICE;
  version: typeof TIMER_STATE_VERSION;
  /** The latest guest time the model has seen (ns); the counters stand at this time. */
  timeNs: number;
  pit: Pit8254State;
  portB: PortBState;
  irq0Deadline: Irq0Deadline | null;
}

const MAX_COUNT = 0x10000;

class Fields {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly path: string,
  ) {}

  static of(v: unknown, path: string): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
    return new Fields(v as Record<string, unknown>, path);
  }

  raw(name: string): unknown {
    return this.o[name];
  }

  int(name: string, min: number, max: number): number {
    const v = this.o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      fail(`${this.path}.${name}`, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  }

  num(name: string, min: number, max: number): number {
    const v = this.o[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      fail(`${this.path}.${name}`, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(name: string): boolean {
    const v = this.o[name];
    if (typeof v !== 'boolean') fail(`${this.path}.${name}`, `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  child(name: string): Fields {
    return Fields.of(this.o[name], `${this.path}.${name}`);
  }
}

function fail(path: string, what: string): never {
  throw new DeviceStateError(`timer: state field ${path} ${what}`);
}

function parseCounter(v: unknown, path: string): PitCounterState {
  const f = Fields.of(v, path);
  const access = f.raw('access');
  if (access !== 'lsb' && access !== 'msb' && access !== 'lsb-msb') fail(`${path}.access`, `must be "lsb", "msb" or "lsb-msb", got ${JSON.stringify(access)}`);
  const pendingLsb = f.raw('pendingLsb') === null ? null : f.int('pendingLsb', 0, 0xff);
  const latch = f.raw('outputLatch');
  let outputLatch: PitCounterState['outputLatch'] = null;
  if (latch !== null) {
    const l = f.child('outputLatch');
    outputLatch = { value: l.int('value', 0, 0xffff), bytesLeft: l.int('bytesLeft', 1, 2) };
  }
  const statusLatch = f.raw('statusLatch') === null ? null : f.int('statusLatch', 0, 0xff);
  const s: PitCounterState = {
    modeBits: f.int('modeBits', 0, 7),
    access: access as AccessMode,
    bcd: f.bool('bcd'),
    countRegister: f.int('countRegister', 0, 0xffff),
    countWritten: f.bool('countWritten'),
    pendingLsb,
    readMsbNext: f.bool('readMsbNext'),
    countingElement: f.int('countingElement', 0, MAX_COUNT),
    reloadValue: f.int('reloadValue', 1, MAX_COUNT),
    out: f.bool('out'),
    gate: f.bool('gate'),
    nullCount: f.bool('nullCount'),
    running: f.bool('running'),
    loadPending: f.bool('loadPending'),
    newCountPending: f.bool('newCountPending'),
    armed: f.bool('armed'),
    countingInhibited: f.bool('countingInhibited'),
    outputLatch,
    statusLatch,
  };
  const modulus = s.bcd ? 10000 : MAX_COUNT;
  if (s.running && (s.reloadValue > modulus || s.countingElement > modulus)) {
    fail(path, `holds a count above the ${s.bcd ? 'BCD' : 'binary'} range while running`);
  }
  if ((s.loadPending || s.newCountPending) && !s.countWritten) fail(path, 'waits to load a count that was never written');
  return s;
}

/** Validate a blob completely; throws DeviceStateError naming the first bad field. */
export function parseTimerState(state: unknown): TimerState {
  const top = Fields.of(state, 'state');
  const device = top.raw('device');
  if (device !== TIMER_STATE_DEVICE) throw new DeviceStateError(`timer: state is for device ${JSON.stringify(device)}`);
  const version = top.raw('version');
  if (version !== TIMER_STATE_VERSION) throw new DeviceStateError(`timer: state version ${JSON.stringify(version)} is not ${TIMER_STATE_VERSION}`);
  const pit = top.child('pit');
  const list = pit.raw('counters');
  if (!Array.isArray(list) || list.length !== 3) fail('state.pit.counters', 'must be an array of 3 counters');
  const counters = list.map((c, i) => parseCounter(c, `state.pit.counters[${i}]`)) as Pit8254State['counters'];
  const b = top.child('portB');
  const portB: PortBState = { timer2Gate: b.bool('timer2Gate'), speakerData: b.bool('speakerData'), checkControl: b.int('checkControl', 0, 0x0c) };
  if ((portB.checkControl & ~0x0c) !== 0) fail('state.portB.checkControl', 'may only hold bits 2-3');
  let irq0Deadline: Irq0Deadline | null = null;
  if (top.raw('irq0Deadline') !== null) {
    const d = top.child('irq0Deadline');
    const period = d.raw('periodPulses');
    irq0Deadline = {
      atPulse: d.int('atPulse', 0, Number.MAX_SAFE_INTEGER),
      periodPulses: period === null ? null : d.int('periodPulses', 1, MAX_COUNT),
    };
  }
  return {
    device: TIMER_STATE_DEVICE,
    version: TIMER_STATE_VERSION,
    timeNs: top.num('timeNs', 0, MAX_GUEST_TIME_NS),
    pit: { counters },
    portB,
    irq0Deadline,
  };
}
