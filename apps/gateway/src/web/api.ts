// The page's side of the HTTP JSON API and the WebSocket endpoints.
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface VmInfo {
  id: string;
  name: string;
  state: string;
  backend: string;
  uptimeMs: number;
  exitReason: string;
  vcpuHost: string;
}

export interface VmEventInfo {
  vmId: string;
  kind: string;
  detailJson: string;
  timeMs: number;
}

export class GatewayApi {
  constructor(readonly token: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) throw new ApiRequestError(res.status, json.error?.message ?? `${res.status} ${res.statusText}`, json.error?.field);
    return json as T;
  }

  listVms(): Promise<VmInfo[]> {
    return this.request<{ vms: VmInfo[] }>('GET', '/api/vms').then((r) => r.vms);
  }

  /** A WebSocket to /api/vms/<id>/<kind>; the token travels as a protocol entry (browsers cannot set headers). */
  socket(vmId: string, kind: 'console' | 'events' | 'display' | 'traffic', query?: URLSearchParams): WebSocket {
    const url = new URL(`/api/vms/${encodeURIComponent(vmId)}/${kind}`, location.href);
    if (query) url.search = query.toString();
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(url, ['quasivm.v1', `bearer.${this.token}`]);
  }
}
