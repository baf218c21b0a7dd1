// One display stream per VM (and frame rate) however many browsers watch it: the gateway
// keeps the VM's current picture, applies each frame's dirty rectangles to it and sends the
// same encoded rectangles to every viewer; a viewer that joins late gets the current picture
// as its first (full) rectangle. So ten viewers cost the VGA service and the vcpu one stream.
import type { DisplayFrame, DisplayStream } from '../proto-types.js';
import type { VmService } from '../vm-service.js';
import { encodeRect } from './rect-encoding.js';

export interface DisplayViewer {
  /** One encoded rectangle (see rect-encoding.ts). */
  rect(message: Buffer): void;
  /** The upstream ended; `reason` when it failed. */
  end(reason?: string): void;
}

interface Feed {
  upstream: DisplayStream;
  viewers: Set<DisplayViewer>;
  width: number;
  height: number;
  rgba: Buffer | null;
}

export class DisplayHub {
  private readonly feeds = new Map<string, Promise<Feed>>();

  constructor(private readonly vms: VmService) {}

  /** Adds a viewer (404 etc. are thrown here, before anything is sent); returns its leave function. */
  async watch(vmId: string, fps: number, viewer: DisplayViewer): Promise<() => void> {
    const key = `${vmId}@${fps}`;
    let pending = this.feeds.get(key);
    if (!pending) {
      pending = this.open(key, vmId, fps);
      this.feeds.set(key, pending);
      pending.catch(() => this.feeds.delete(key));
    }
    const feed = await pending;
    feed.viewers.add(viewer);
    if (feed.rgba) viewer.rect(encodeRect(feed.width, feed.height, { x: 0, y: 0, width: feed.width, height: feed.height, rgba: feed.rgba }));
    return () => {
      if (!feed.viewers.delete(viewer) || feed.viewers.size > 0) return;
      if (this.feeds.get(key) === pending) this.feeds.delete(key);
      feed.upstream.cancel();
    };
  }

  private async open(key: string, vmId: string, fps: number): Promise<Feed> {
    const upstream = await this.vms.watchDisplay(vmId, fps);
    const feed: Feed = { upstream, viewers: new Set(), width: 0, height: 0, rgba: null };
    upstream.on('data', (frame: DisplayFrame) => this.apply(feed, frame));
    const finish = (reason?: string) => {
      this.feeds.delete(key);
      for (const v of feed.viewers) v.end(reason);
      feed.viewers.clear();
    };
    upstream.on('error', (e: Error & { code?: number; details?: string }) => finish(e.code === 1 ? undefined : e.details || e.message)); // 1 = CANCELLED: we hung up
    upstream.on('end', () => finish());
    return feed;
  }

  private apply(feed: Feed, frame: DisplayFrame): void {
    if (frame.width !== feed.width || frame.height !== feed.height || !feed.rgba) {
      feed.width = frame.width;
      feed.height = frame.height;
      feed.rgba = Buffer.alloc(frame.width * frame.height * 4);
    }
    for (const r of frame.rects) {
      for (let row = 0; row < r.height; row++) r.rgba.copy(feed.rgba, ((r.y + row) * feed.width + r.x) * 4, row * r.width * 4, (row + 1) * r.width * 4);
      const message = encodeRect(frame.width, frame.height, r);
      for (const v of feed.viewers) v.rect(message);
    }
  }

  close(): void {
    for (const p of this.feeds.values()) void p.then((f) => f.upstream.cancel(), () => undefined);
    this.feeds.clear();
  }
}
