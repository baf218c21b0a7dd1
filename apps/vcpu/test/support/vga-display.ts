/**
 * What a user sees of a VM's screen, for guest tests: the VGA service's Display API
 * (screen text, PNG screenshot decoded with pngjs) and the 8x16 font the text guests load,
 * parsed from guests/src/include/vga-font-8x16.inc so glyph pixels can be checked.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadDisplayProto, type DisplayClient } from '@quasivm/proto';

export interface Picture {
  width: number;
  height: number;
  /** [r, g, b] of pixel (x, y). */
  px(x: number, y: number): [number, number, number];
}

export class Display {
  private readonly client: DisplayClient;

  constructor(address: string) {
    this.client = new (loadDisplayProto().quasivm.display.v1.Display)(address, grpc.credentials.createInsecure());
  }

  text(vmId: string): Promise<{ rows: string[]; mode: string }> {
    return new Promise((res, rej) => this.client.ScreenText({ vmId }, { deadline: Date.now() + 10_000 }, (e, r) => (e ? rej(e) : res({ rows: r!.rows, mode: r!.mode }))));
  }

  async screenshot(vmId: string): Promise<Picture> {
    const shot = await new Promise<{ png: Buffer }>((res, rej) => this.client.Screenshot({ vmId }, { deadline: Date.now() + 10_000 }, (e, r) => (e ? rej(e) : res(r!))));
    const png = PNG.sync.read(shot.png);
    return {
      width: png.width,
      height: png.height,
      px: (x, y) => {
        const o = (y * png.width + x) * 4;
        return [png.data[o], png.data[o + 1], png.data[o + 2]];
      },
    };
  }

  /**
   * Watches the display stream for `ms` and counts the frames that changed pixels in rows
   * [y0, y1) (the stream renders what the service has, without asking the vCPU to sync).
   */
  framesChanging(vmId: string, y0: number, y1: number, ms: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const stream = this.client.Watch({ vmId, maxFps: 60 });
      let n = 0;
      let first = true;
      stream.on('data', (f: { rects: Array<{ y: number; height: number }> }) => {
        if (!first && f.rects.some((r) => r.y < y1 && r.y + r.height > y0)) n++;
        first = false; // the full frame on subscribe
      });
      stream.on('error', (e: grpc.ServiceError) => e.code !== grpc.status.CANCELLED && reject(e));
      setTimeout(() => {
        stream.cancel();
        resolve(n);
      }, ms);
    });
  }

  /** Polls the screen text until `ok` accepts it (the guest may still be drawing). */
  async waitForText(vmId: string, ok: (rows: string[]) => boolean, timeoutMs: number): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    let rows: string[] = [];
    while (Date.now() < end) {
      rows = (await this.text(vmId)).rows;
      if (ok(rows)) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen text never matched; last:\n${rows.join('\n')}`);
  }

  close(): void {
    this.client.close();
  }
}

/** The guests' 8x16 font: 256 glyphs of 16 row bytes (MSB = leftmost pixel). */
export function guestFont(): Uint8Array[] {
  const inc = readFileSync(fileURLToPath(new URL('../../../../guests/src/include/vga-font-8x16.inc', import.meta.url)), 'utf8');
  const glyphs = [...inc.matchAll(/^\s*db ([^;]+)/gm)].map((m) => Uint8Array.from(m[1].split(',').map((s) => Number(s.trim()))));
  if (glyphs.length !== 256 || glyphs.some((g) => g.length !== 16)) throw new Error('vga-font-8x16.inc is not 256 glyphs of 16 rows');
  return glyphs;
}

/** A 6-bit DAC component as the renderer widens it to 8 bits. */
export const dac8 = (v: number) => (v << 2) | (v >> 4);
