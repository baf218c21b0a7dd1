// Talking to the gateway the way a client does: HTTP JSON with a bearer token, WebSockets.
import WebSocket from 'ws';

export interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
}

export async function call(baseUrl: string, token: string, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const t = o.token === undefined ? token : o.token;
  const headers: Record<string, string> = {};
  if (t !== null) headers.authorization = `Bearer ${t}`;
  const body = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, json };
}

/** A bound caller: api('GET', '/api/vms'). */
export const client = (baseUrl: string, token: string) => (method: string, path: string, o?: CallOptions) => call(baseUrl, token, method, path, o);

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    last = await probe();
    if (last) return last as T;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An open WebSocket and everything it received. */
export class SocketReader {
  text = '';
  messages: string[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const s = Buffer.from(data as Buffer).toString(isBinary ? 'latin1' : 'utf8');
      this.text += s;
      this.messages.push(s);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(wsUrl: string, headers: Record<string, string> = {}, protocols?: string[]): Promise<SocketReader> {
    const ws = new WebSocket(wsUrl, protocols, { headers });
    const reader = new SocketReader(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(reader));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => reject(Object.assign(new Error(`WebSocket refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  waitForText(text: string, timeoutMs = 20_000): Promise<string> {
    return waitFor(`${JSON.stringify(text)} on the socket (got ${JSON.stringify(this.text.slice(-200))})`, async () => this.text.includes(text) && this.text, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

export const wsUrl = (httpUrl: string, path: string) => httpUrl.replace(/^http/, 'ws') + path;
