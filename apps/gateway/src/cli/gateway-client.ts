// The CLI's side of the gateway's HTTP API: JSON calls and the console WebSocket.
import WebSocket from 'ws';
import type { Vm } from '../proto-types.js';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new GatewayError(0, `cannot reach the gateway at ${this.baseUrl}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let json: { error?: { message?: string } } & Record<string, unknown> = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      /* a proxy's HTML error page, say */
    }
    if (!res.ok) {
      const hint = res.status === 401 ? ' (pass --token, set QUASIVM_TOKEN, or use --state-dir where the gateway keeps its token)' : '';
      throw new GatewayError(res.status, `${json.error?.message ?? `${res.status} ${res.statusText}`}${hint}`);
    }
    return json as T;
  }

  /** A binary answer (the screenshot PNG). */
  async bytes(path: string): Promise<Buffer> {
    const res = await fetch(new URL(path, this.baseUrl), { headers: { authorization: `Bearer ${this.token}` } }).catch((e: Error & { cause?: Error }) => {
      throw new GatewayError(0, `cannot reach the gateway at ${this.baseUrl}: ${e.cause?.message ?? e.message}`);
    });
    if (!res.ok) {
      const text = await res.text();
      let message = `${res.status} ${res.statusText}`;
      try {
        message = JSON.parse(text).error?.message ?? message;
      } catch {
        /* not JSON */
      }
      throw new GatewayError(res.status, message);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  list(): Promise<Vm[]> {
    return this.request<{ vms: Vm[] }>('GET', '/api/vms').then((r) => r.vms);
  }

  console(id: string): WebSocket {
    const url = new URL(`/api/vms/${encodeURIComponent(id)}/console`, this.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } });
  }
}
