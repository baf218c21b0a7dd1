// The live event list of one VM, over the events WebSocket.
import type { GatewayApi, VmEventInfo } from './api.js';

const MAX_SHOWN = 200;

export class EventsView {
  private socket: WebSocket | null = null;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly onEvent: (e: VmEventInfo) => void,
  ) {}

  attach(api: GatewayApi, vmId: string): void {
    this.detach();
    this.list.replaceChildren();
    const ws = api.socket(vmId, 'events');
    ws.onmessage = (m) => {
      const event = JSON.parse(m.data as string) as VmEventInfo;
      this.add(`${new Date(event.timeMs).toLocaleTimeString()} ${event.kind} ${event.detailJson}`);
      this.onEvent(event);
    };
    ws.onclose = (e) => {
      if (this.socket === ws) this.add(`event stream closed${e.reason ? `: ${e.reason}` : ''}`);
    };
    this.socket = ws;
  }

  private add(text: string): void {
    const li = document.createElement('li');
    li.textContent = text;
    this.list.append(li);
    while (this.list.childElementCount > MAX_SHOWN) this.list.firstElementChild!.remove();
    li.scrollIntoView({ block: 'nearest' });
  }

  detach(): void {
    const ws = this.socket;
    this.socket = null;
    ws?.close();
  }
}
