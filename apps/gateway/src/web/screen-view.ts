// The live screen of one VM on a canvas: the display WebSocket sends a full frame, then the
// rectangles that changed (12-byte header: screen width/height, x, y, w, h as u16 LE, then
// RGBA). Keys pressed while the canvas has focus go to the VM as PS/2 scan codes.
import type { GatewayApi } from './api.js';
import { set2Bytes } from './scancodes.js';

const HEADER = 12;

export class ScreenView {
  private socket: WebSocket | null = null;
  private vmId: string | null = null;
  private api: GatewayApi | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  /** Keys go out one request at a time so the guest sees them in order. */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly status: HTMLElement,
  ) {
    this.ctx = canvas.getContext('2d')!;
    canvas.addEventListener('keydown', (e) => this.onKey(e, true));
    canvas.addEventListener('keyup', (e) => this.onKey(e, false));
    canvas.addEventListener('mousedown', () => canvas.focus());
  }

  attach(api: GatewayApi, vmId: string): void {
    this.detach();
    this.api = api;
    this.vmId = vmId;
    this.status.textContent = 'connecting...';
    const ws = api.socket(vmId, 'display');
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => this.draw(m.data as ArrayBuffer);
    ws.onclose = (e) => {
      if (this.socket === ws) this.status.textContent = `no screen${e.reason ? `: ${e.reason}` : ''}`;
    };
    this.socket = ws;
  }

  private draw(data: ArrayBuffer): void {
    const h = new DataView(data, 0, HEADER);
    const [sw, sh, x, y, w, rh] = [0, 2, 4, 6, 8, 10].map((o) => h.getUint16(o, true));
    if (this.canvas.width !== sw || this.canvas.height !== sh) {
      this.canvas.width = sw;
      this.canvas.height = sh;
    }
    if (w && rh) this.ctx.putImageData(new ImageData(new Uint8ClampedArray(data, HEADER, w * rh * 4), w, rh), x, y);
    this.status.textContent = `${sw}x${sh}, click the screen to type`;
  }

  private onKey(e: KeyboardEvent, down: boolean): void {
    const bytes = set2Bytes(e.code, down);
    if (!bytes || !this.api || !this.vmId) return;
    e.preventDefault();
    const api = this.api;
    const path = `/api/vms/${encodeURIComponent(this.vmId)}/keys`;
    const scancodes = btoa(String.fromCharCode(...bytes));
    this.sending = this.sending.then(() => api.request('POST', path, { scancodes })).then(
      () => undefined,
      (err: Error) => void (this.status.textContent = `keys not sent: ${err.message}`),
    );
  }

  detach(): void {
    const ws = this.socket;
    this.socket = null;
    ws?.close();
    this.vmId = null;
    this.status.textContent = '';
  }
}
