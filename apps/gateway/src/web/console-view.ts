// The serial console of one VM in an xterm.js terminal, over the console WebSocket.
import { Terminal } from '@xterm/xterm';
import type { GatewayApi } from './api.js';

export class ConsoleView {
  private readonly term = new Terminal({ convertEol: false, cursorBlink: true, rows: 24, cols: 80, scrollback: 5000 });
  private socket: WebSocket | null = null;
  private vmId: string | null = null;

  constructor(
    container: HTMLElement,
    private readonly title: HTMLElement,
  ) {
    this.term.open(container);
    this.term.onData((text) => {
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
    });
  }

  get current(): string | null {
    return this.vmId;
  }

  attach(api: GatewayApi, vmId: string): void {
    this.detach();
    this.vmId = vmId;
    this.title.textContent = vmId;
    this.term.reset();
    const ws = api.socket(vmId, 'console');
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => this.term.write(typeof m.data === 'string' ? m.data : new Uint8Array(m.data as ArrayBuffer));
    ws.onclose = (e) => {
      if (this.socket === ws) this.term.write(`\r\n\x1b[33m[console closed${e.reason ? `: ${e.reason}` : ''}]\x1b[0m\r\n`);
    };
    this.socket = ws;
    this.term.focus();
  }

  detach(): void {
    const ws = this.socket;
    this.socket = null;
    ws?.close();
    this.vmId = null;
    this.title.textContent = '';
  }
}
