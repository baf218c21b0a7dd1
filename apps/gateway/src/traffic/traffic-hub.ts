// Device traffic from NATS for the gateway's watchers. One NATS connection; a watcher
// subscribes to vm.<id>.io.<device|*>.* and gets records filtered by port and capped per
// second. While anyone watches a device of a VM, the gateway keeps that VM's tap tracing it
// (request on vm.<id>.tap.control) and switches it off when the last watcher leaves.
import * as grpc from '@grpc/grpc-js';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { subjects } from '@quasivm/nats-tap';
import { ApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TrafficRecord } from '../proto-types.js';
import { RateLimit } from './rate-limit.js';
import { matches, type TrafficFilter } from './traffic-filter.js';

const json = JSONCodec();
const CONTROL_TIMEOUT_MS = 1500;
/** The tap connects in the background after the VM is created: give it this long to answer. */
const CONTROL_ATTEMPTS = 6;

interface IoPayload {
  port?: string;
  size?: number;
  value?: string;
  count?: number;
  t?: number;
}

export interface TrafficWatch {
  stop(): void;
}

export class TrafficHub {
  private connection: Promise<NatsConnection> | null = null;
  /** `${vmId}\n${device|*}` -> watchers. */
  private readonly traced = new Map<string, number>();
  private controls: Promise<void> = Promise.resolve();

  constructor(
    private readonly servers: string | undefined,
    readonly perSecond: number,
    private readonly log: Logger,
  ) {}

  private nats(): Promise<NatsConnection> {
    if (!this.servers) return Promise.reject(new ApiError(grpc.status.FAILED_PRECONDITION, 'device traffic needs NATS: start the gateway with --nats <url> (or QUASIVM_NATS)'));
    this.connection ??= connect({ servers: this.servers, name: 'quasivm-gateway', maxReconnectAttempts: -1 }).catch((e: Error) => {
      this.connection = null;
      throw new ApiError(grpc.status.UNAVAILABLE, `NATS at ${this.servers} is unreachable: ${e.message}`);
    });
    return this.connection;
  }

  async watch(vmId: string, filter: TrafficFilter, deliver: (r: TrafficRecord) => void): Promise<TrafficWatch> {
    const nc = await this.nats();
    const device = filter.device || '*';
    const limit = new RateLimit(this.perSecond);
    const sub = nc.subscribe(`vm.${vmId}.io.${device}.*`, {
      callback: (err, m) => {
        if (err) return;
        const [, , , dev, dir] = m.subject.split('.');
        const p = json.decode(m.data) as IoPayload;
        const port = parseInt(p.port ?? '', 16);
        if (!matches(filter, port)) return;
        const dropped = limit.admit();
        if (dropped === null) return;
        deliver({ device: dev, direction: dir, port, size: p.size ?? 0, value: p.value ? parseInt(p.value, 16) : 0, count: p.count ?? 0, timeNs: p.t ?? 0, dropped });
      },
    });
    try {
      await this.trace(nc, vmId, device);
    } catch (e) {
      sub.unsubscribe();
      throw e;
    }
    let stopped = false;
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        sub.unsubscribe();
        this.untrace(nc, vmId, device);
      },
    };
  }

  private async control(nc: NatsConnection, vmId: string, device: string, enabled: boolean, attempts = 1): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        const reply = json.decode((await nc.request(subjects.tapControl(vmId), json.encode({ device, enabled }), { timeout: CONTROL_TIMEOUT_MS })).data) as { ok: boolean; error?: string };
        if (!reply.ok) throw new ApiError(grpc.status.FAILED_PRECONDITION, `VM ${vmId} refused to trace ${device}: ${reply.error}`);
        return;
      } catch (e) {
        if (e instanceof ApiError) throw e;
        if (i >= attempts) throw new ApiError(grpc.status.FAILED_PRECONDITION, `VM ${vmId} does not publish device traffic on NATS (its vcpu service has no --nats, or another NATS server): ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Control requests go out one after another, so "off" for one watcher never overtakes "on" for the next. */
  private queue(nc: NatsConnection, vmId: string, device: string, enabled: boolean, attempts = 1): Promise<void> {
    const op = this.controls.then(() => this.control(nc, vmId, device, enabled, attempts));
    this.controls = op.catch(() => undefined);
    return op;
  }

  private async trace(nc: NatsConnection, vmId: string, device: string): Promise<void> {
    const key = `${vmId}\n${device}`;
    const n = this.traced.get(key) ?? 0;
    this.traced.set(key, n + 1);
    try {
      await this.queue(nc, vmId, device, true, CONTROL_ATTEMPTS);
    } catch (e) {
      this.release(key);
      throw e;
    }
  }

  private release(key: string): boolean {
    const left = (this.traced.get(key) ?? 1) - 1;
    if (left > 0) this.traced.set(key, left);
    else this.traced.delete(key);
    return left <= 0;
  }

  private untrace(nc: NatsConnection, vmId: string, device: string): void {
    if (!this.release(`${vmId}\n${device}`)) return;
    const quiet = (e: unknown) => this.log.debug({ vmId, device, err: (e as Error).message }, 'could not switch tracing off (the VM may be gone)');
    this.queue(nc, vmId, device, false).catch(quiet);
    // Switching '*' off clears every device: give the ones still watched back.
    if (device === '*') for (const k of this.traced.keys()) if (k.startsWith(`${vmId}\n`)) this.queue(nc, vmId, k.slice(vmId.length + 1), true).catch(quiet);
  }

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = null;
    if (c) await (await c.catch(() => null))?.close();
  }
}
