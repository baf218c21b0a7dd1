// The live device-traffic table of one VM over the traffic WebSocket, filtered by device and
// port (the gateway filters; this view only asks and shows). Newest rows on top.
import type { GatewayApi } from './api.js';

const MAX_ROWS = 200;

export interface TrafficRow {
  device: string;
  direction: string;
  port: number;
  size: number;
  value: number;
  count: number;
  timeNs: number;
  dropped: number;
}

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

export class TrafficView {
  private socket: WebSocket | null = null;
  private api: GatewayApi | null = null;
  private vmId: string | null = null;

  constructor(
    private readonly form: HTMLFormElement,
    private readonly body: HTMLTableSectionElement,
    private readonly status: HTMLElement,
  ) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.api && this.vmId) this.attach(this.api, this.vmId);
    });
  }

  attach(api: GatewayApi, vmId: string): void {
    this.detach();
    this.api = api;
    this.vmId = vmId;
    this.body.replaceChildren();
    const f = new FormData(this.form);
    const query = new URLSearchParams();
    const device = String(f.get('device') ?? '').trim();
    const port = String(f.get('port') ?? '').trim();
    if (device) query.set('device', device);
    if (port) query.set('port', port);
    const ws = api.socket(vmId, 'traffic', query);
    ws.onopen = () => (this.status.textContent = `watching ${device || 'every device'}${port ? ` port ${port}` : ''}`);
    ws.onmessage = (m) => this.add(JSON.parse(m.data as string) as TrafficRow);
    ws.onclose = (e) => {
      if (this.socket === ws) this.status.textContent = `traffic stream closed${e.reason ? `: ${e.reason}` : ' (is the filter valid and NATS configured?)'}`;
    };
    this.socket = ws;
  }

  private add(r: TrafficRow): void {
    const tr = document.createElement('tr');
    const cells = [(r.timeNs / 1e6).toFixed(3), r.device, r.direction, hex(r.port, 4), r.count ? `${r.count} x ${r.size}` : hex(r.value, r.size * 2), r.dropped ? `${r.dropped} dropped before` : ''];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    this.body.prepend(tr);
    while (this.body.childElementCount > MAX_ROWS) this.body.lastElementChild!.remove();
  }

  detach(): void {
    const ws = this.socket;
    this.socket = null;
    ws?.close();
    this.status.textContent = '';
  }
}
