import { connect, JSONCodec, type NatsConnection } from 'nats';
import { hex, subjects, validSubjectToken } from './subjects.js';

export interface TapLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface TrafficTapOptions {
  /** NATS server URL(s), e.g. nats://127.0.0.1:4222. */
  servers: string | string[];
  vmId: string;
  /** Devices traced from the start ('*' = all). Default: none; events and IRQs always flow. */
  tracedDevices?: string[];
  /** How often buffered records are published (ms). */
  flushIntervalMs?: number;
  /** Records kept between flushes; beyond it they are dropped and counted. */
  maxBuffered?: number;
  logger?: TapLogger;
}

interface PendingRecord {
  subject: string;
  payload: Record<string, unknown>;
}

const json = JSONCodec();

/**
 * Publishes one VM's device traffic, IRQs and events to NATS as readable JSON.
 * The hot path only appends to an array; a timer publishes off it. With NATS
 * unreachable the VM keeps running: records are dropped (and counted) and the tap
 * warns once, reconnecting in the background.
 */
export class TrafficTap {
  readonly vmId: string;
  private nc: NatsConnection | null = null;
  private buffer: PendingRecord[] = [];
  private traced = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private warned = false;
  private closed = false;
  private tracingListener: ((devices: string[]) => void) | null = null;
  dropped = 0;
  published = 0;

  constructor(private readonly options: TrafficTapOptions) {
    if (!validSubjectToken(options.vmId)) throw new Error(`VM id ${JSON.stringify(options.vmId)} cannot be a NATS subject token`);
    this.vmId = options.vmId;
    for (const d of options.tracedDevices ?? []) this.traced.add(d);
  }

  /** Starts connecting in the background; never rejects. */
  start(): this {
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? 50);
    this.timer.unref();
    void this.connectLoop();
    return this;
  }

  private async connectLoop(): Promise<void> {
    try {
      const nc = await connect({ servers: this.options.servers, waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 1000, name: `quasivm-${this.vmId}` });
      if (this.closed) {
        await nc.close();
        return;
      }
      this.nc = nc;
      this.options.logger?.info({ vmId: this.vmId, server: nc.getServer() }, 'traffic tap connected to NATS');
      this.listenForControl(nc);
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'disconnect') this.warnOnce(`NATS disconnected (${String(s.data)})`);
      })();
    } catch (e) {
      this.warnOnce((e as Error).message);
    }
  }

  private listenForControl(nc: NatsConnection): void {
    const sub = nc.subscribe(subjects.tapControl(this.vmId));
    void (async () => {
      for await (const m of sub) {
        try {
          const { device, enabled } = json.decode(m.data) as { device?: unknown; enabled?: unknown };
          if (typeof device !== 'string' || typeof enabled !== 'boolean') throw new Error('expected {"device": string, "enabled": boolean}');
          this.setTracing(device, enabled);
          m.respond(json.encode({ ok: true, traced: [...this.traced] }));
        } catch (e) {
          m.respond(json.encode({ ok: false, error: (e as Error).message }));
        }
      }
    })();
  }

  private warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.logger?.warn({ vmId: this.vmId, reason }, 'NATS unreachable: the VM keeps running, device traffic is not published');
  }

  /** Switches tracing of one device ('*' = every device). */
  setTracing(device: string, enabled: boolean): void {
    if (enabled) this.traced.add(device);
    else if (device === '*') this.traced.clear();
    else this.traced.delete(device);
    this.tracingListener?.([...this.traced]);
  }

  /** Told the traced devices now and at every change (whoever produces the records, e.g. a CPU thread, filters at the source). */
  onTracing(listener: (devices: string[]) => void): void {
    this.tracingListener = listener;
    listener([...this.traced]);
  }

  isTraced(device: string): boolean {
    return this.traced.has(device) || this.traced.has('*');
  }

  /** Records one port access (hot path: cheap when the device is not traced). */
  io(device: string, dir: 'in' | 'out', port: number, size: number, value: number, timeNs: number): void {
    if (!this.isTraced(device)) return;
    this.push(subjects.io(this.vmId, device, dir), { port: hex(port), size, value: hex(value), t: timeNs });
  }

  /** Records a string I/O transfer (the data is summarised, not dumped). */
  ioString(device: string, dir: 'in' | 'out', port: number, size: number, count: number, timeNs: number): void {
    if (!this.isTraced(device)) return;
    this.push(subjects.io(this.vmId, device, dir), { port: hex(port), size, count, t: timeNs });
  }

  irq(line: number, level: boolean, timeNs: number, source?: string): void {
    this.push(subjects.irq(this.vmId), { line, level: level ? 'raise' : 'lower', t: timeNs, ...(source ? { source } : {}) });
  }

  event(kind: string, detail: Record<string, unknown> = {}): void {
    this.push(subjects.events(this.vmId), { kind, ...detail, at: new Date().toISOString() });
  }

  private push(subject: string, payload: Record<string, unknown>): void {
    if (this.buffer.length >= (this.options.maxBuffered ?? 50_000)) {
      this.dropped++;
      return;
    }
    this.buffer.push({ subject, payload });
  }

  /** Publishes what is buffered. Called by the timer; callable directly. */
  flush(): void {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const nc = this.nc;
    if (!nc || nc.isClosed()) {
      this.dropped += batch.length;
      this.warnOnce(`not connected to ${String(this.options.servers)}`);
      return;
    }
    for (const r of batch) nc.publish(r.subject, json.encode(r.payload));
    this.published += batch.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.flush();
    if (this.nc) {
      await this.nc.flush().catch(() => undefined);
      await this.nc.close();
    }
  }
}
