/**
 * A test's own client of the fast lane: a socket that speaks the lane's frames directly
 * (no vCPU side), the events that came back decoded in order, and a poller to wait on them.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import type { IoEvent, IoOp__Input } from '@quasivm/proto';
import type { DeviceService } from '../../src/device-service.js';
import { DeviceSession } from '../../src/session.js';
import { FastLaneServer } from '../../src/fast-lane/fast-lane-server.js';
import type { DeviceFactory } from '../../src/model.js';
import { RemoteDevice, type RemoteDeviceEvents } from '../../src/remote-device.js';
import { decodeEvent, encodeRequest, encodeRequestParts, FrameSplitter } from '../../src/fast-lane/frame-codec.js';

/** Polls `cond` every 5 ms until it holds; throws 'timed out' after `ms`. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Connects to the fast lane at `lanePath`, decodes what it sends into `events`, and opens
 * session `sessionId`; resolves with the socket once the lane has answered `opened`.
 */
export async function openRawLane(lanePath: string, sessionId: string, events: IoEvent[]): Promise<net.Socket> {
  const socket = net.connect(lanePath);
  const splitter = new FrameSplitter();
  socket.on('data', (d: Buffer) => events.push(...splitter.push(d).map(decodeEvent)));
  socket.write(encodeRequest({ open: { sessionId } }));
  try {
    await until(() => events.some((e) => e.opened));
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return socket;
}

export interface RawLaneSession {
  /** Every event the lane has sent, in order. */
  readonly events: IoEvent[];
  /** The lane's socket (from beforeAll on). */
  readonly socket: net.Socket;
  /** A read seq this session has not used yet. */
  nextSeq(): number;
  /** Sends `ops` and a read behind them; resolves with the events that came back for them. */
  exchange(ops: IoOp__Input[]): Promise<IoEvent[]>;
}

/**
 * A raw fast-lane session on `service`, set up in beforeAll and torn down in afterAll: the
 * service listens on `<name>.sock` in a temporary directory, a RemoteDevice (given `device`'s
 * handlers, such as onIrq) attaches, and a raw socket opens that session's fast lane.
 * `exchange`'s trailing read is of `readPort`.
 */
export function rawLaneSession(service: DeviceService, opts: { name: string; readPort: number; device?: RemoteDeviceEvents }): RawLaneSession {
  const dir = mkdtempSync(path.join(os.tmpdir(), `qvm-${opts.name}-`));
  const address = `unix:${path.join(dir, `${opts.name}.sock`)}`;
  const events: IoEvent[] = [];
  let dev: RemoteDevice | undefined;
  let socket: net.Socket | undefined;
  let seq = 1;
  const lane = (): net.Socket => {
    if (!socket) throw new Error('the raw lane is not open (beforeAll has not run)');
    return socket;
  };

  beforeAll(async () => {
    await service.listen(address);
    dev = await RemoteDevice.connect(address, 'vm', {}, opts.device);
    socket = await openRawLane(dev.fastLanePath, dev.sessionId, events);
  });
  afterAll(async () => {
    socket?.destroy();
    dev?.close();
    await service.shutdown(100);
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    events,
    get socket() {
      return lane();
    },
    nextSeq: () => seq++,
    async exchange(ops) {
      const s = seq++;
      const from = events.length;
      for (const p of encodeRequestParts({ batch: { ops: [...ops, { timeNs: 0, port: opts.readPort, size: 1, read: { seq: s } }] } })) lane().write(p);
      await until(() => events.some((e) => e.readReply?.seq === s));
      return events.slice(from);
    },
  };
}

/**
 * A FastLaneServer alone (no gRPC service) for one DeviceSession of `factory`, with `apply` as
 * its operation handler, set up in beforeAll and torn down in afterAll, and a raw socket that
 * opened the session's lane: `send` writes operations as one frame.
 */
export function rawLaneServer(
  name: string,
  factory: DeviceFactory,
  apply: ConstructorParameters<typeof FastLaneServer>[2],
  holdMs?: number,
): { readonly events: IoEvent[]; send(ops: IoOp__Input[]): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `qvm-${name}-`));
  const session = new DeviceSession('vm', factory, {});
  const server = new FastLaneServer(path.join(dir, 'lane'), (id) => (id === session.id ? session : undefined), apply, { warn: () => undefined }, holdMs);
  const events: IoEvent[] = [];
  let socket: net.Socket | undefined;
  beforeAll(async () => {
    await server.listen();
    socket = await openRawLane(server.path, session.id, events);
  });
  afterAll(() => {
    socket?.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    events,
    send: (ops) => {
      if (!socket) throw new Error('the raw lane is not open (beforeAll has not run)');
      socket.write(encodeRequest({ batch: { ops } }));
    },
  };
}
