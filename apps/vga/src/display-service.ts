import * as grpc from '@grpc/grpc-js';
import { PNG } from 'pngjs';
import { loadDisplayProto, type DisplayHandlers, type DisplayFrame__Input } from '@quasivm/proto';
import type { DeviceService, DeviceSession } from '@quasivm/device-sdk';
import type { VgaAdapter } from '@quasivm/vga-model';

const MAX_FPS = 60;

function adapterOf(service: DeviceService, vmId: string): { session: DeviceSession; vga: VgaAdapter } | null {
  const session = service.sessionOfVm(vmId);
  return session ? { session, vga: session.model as VgaAdapter } : null;
}

/** RGBA bytes of the rectangle (x, y, w, h) of a width-wide frame. */
function crop(rgba: Uint8Array, width: number, x: number, y: number, w: number, h: number): Buffer {
  const out = Buffer.alloc(w * h * 4);
  for (let row = 0; row < h; row++) out.set(rgba.subarray(((y + row) * width + x) * 4, ((y + row) * width + x + w) * 4), row * w * 4);
  return out;
}

/**
 * The Display service of the VGA service: screenshot (PNG through pngjs), screen text and
 * a frame stream per VM, rendered from the VM's VGA session at its latest guest time.
 */
export function addDisplayService(service: DeviceService): void {
  const notFound = (vmId: string) => ({ code: grpc.status.NOT_FOUND, details: `no VGA session for VM ${JSON.stringify(vmId)}` });
  const handlers: DisplayHandlers = {
    Screenshot: async (call, cb) => {
      const found = adapterOf(service, call.request.vmId);
      if (!found) return cb(notFound(call.request.vmId));
      // The vCPU may hold window bytes not shipped yet (it ships at the display rate): get them first.
      await found.session.syncWindows();
      const f = found.vga.render(found.session.lastTime);
      const png = new PNG({ width: Math.max(1, f.width), height: Math.max(1, f.height) });
      if (f.width && f.height) png.data = Buffer.from(f.rgba.buffer, f.rgba.byteOffset, f.width * f.height * 4);
      cb(null, { png: PNG.sync.write(png), width: f.width, height: f.height });
    },
    ScreenText: async (call, cb) => {
      const found = adapterOf(service, call.request.vmId);
      if (!found) return cb(notFound(call.request.vmId));
      await found.session.syncWindows();
      const mode = found.vga.displayMode();
      cb(null, { rows: found.vga.screenText(), mode: mode.kind });
    },
    Watch: (call) => {
      const vmId = call.request.vmId;
      const fps = Math.min(MAX_FPS, Math.max(1, call.request.maxFps || MAX_FPS));
      let lastFrame: number | undefined;
      let busy = false;
      const tick = () => {
        const found = adapterOf(service, vmId);
        if (!found) {
          clearInterval(timer);
          call.emit('error', notFound(vmId));
          return;
        }
        if (busy) return; // the reader has not drained the last frame: skip this one
        const f = found.vga.render(found.session.lastTime, lastFrame);
        const rects = lastFrame === undefined ? [{ x: 0, y: 0, width: f.width, height: f.height }] : f.dirty;
        lastFrame = f.frame;
        if (rects.length === 0) return;
        const msg: DisplayFrame__Input = {
          frame: f.frame,
          width: f.width,
          height: f.height,
          rects: rects.map((r) => ({ ...r, rgba: crop(f.rgba, f.width, r.x, r.y, r.width, r.height) })),
        };
        if (!call.write(msg)) {
          busy = true;
          call.once('drain', () => (busy = false));
        }
      };
      const timer = setInterval(tick, 1000 / fps);
      tick();
      call.on('cancelled', () => clearInterval(timer));
      call.on('close', () => clearInterval(timer));
    },
  };
  service.server.addService(loadDisplayProto().quasivm.display.v1.Display.service, handlers);
}
