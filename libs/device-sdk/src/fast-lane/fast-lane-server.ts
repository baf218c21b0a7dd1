import net from 'node:net';
import { rmSync } from 'node:fs';
import type { IoEvent__Input } from '@quasivm/proto';
import { FrameSplitter, decodeRequest, encodeEvent } from './frame-codec.js';
import type { DeviceSession } from '../session.js';
import type { IoOp } from '@quasivm/proto';

/**
 * The fast lane: a plain unix socket beside the gRPC server, for a vCPU on the same host.
 * It carries the same IoRequest/IoEvent messages as the Io stream's I/O half (reads,
 * posted writes, string I/O, PCI config), so a vCPU thread can block on a read with one
 * syscall instead of waking two event loops through HTTP/2. Device -> vCPU events (IRQs,
 * deadlines, DMA) stay on the gRPC stream.
 */
export class FastLaneServer {
  private readonly server: net.Server;

  constructor(
    readonly path: string,
    private readonly sessions: (id: string) => DeviceSession | undefined,
    private readonly apply: (s: DeviceSession, op: IoOp, send: (e: IoEvent__Input) => void) => void,
    private readonly log: { warn(o: object, m: string): void },
  ) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  listen(): Promise<void> {
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  close(): void {
    this.server.close();
    rmSync(this.path, { force: true });
  }

  private serve(socket: net.Socket): void {
    socket.setNoDelay?.(true);
    const splitter = new FrameSplitter();
    let session: DeviceSession | undefined;
    const send = (e: IoEvent__Input) => socket.write(encodeEvent(e));
    socket.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = splitter.push(chunk);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'fast lane: bad frame, closing');
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        const req = decodeRequest(body);
        if (!session) {
          session = req.open?.sessionId ? this.sessions(req.open.sessionId) : undefined;
          if (!session) {
            send({ error: { seq: 0, code: 5, message: `unknown session ${JSON.stringify(req.open?.sessionId ?? '')}` } });
            socket.end();
            return;
          }
          send({ opened: { sessionId: session.id } });
          continue;
        }
        if (!this.sessions(session.id)) {
          send({ error: { seq: 0, code: 5, message: 'session detached' } });
          socket.end();
          return;
        }
        const s = session;
        s.applyBatch(() => {
          for (const op of req.batch?.ops ?? []) this.apply(s, op, send);
        });
      }
    });
    socket.on('error', () => socket.destroy());
  }
}
