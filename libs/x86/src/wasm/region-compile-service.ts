import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CpuQuirks } from '../cpu-model.js';
import { compileRegion, type RegionMember } from './region-compiler.js';
import { stateLayout } from './wasm-state.js';

/** A page to compile into a region, as WasmJit asks a compile service on another thread. */
export interface RegionRequest {
  id: number;
  page: number;
  /** The page's region generation (CodeCache.regionGenerations) when asked: another by the time it is served, and the page's code was dropped since. */
  generation: number;
  offsets: number[];
  entries: number[];
  state: number;
  mode: number;
  memoryPages: number;
  tail: Uint8Array | undefined;
}

/** The compiled region (no module: nothing at the block's offset compiles). */
export interface RegionReply {
  id: number;
  module?: WebAssembly.Module;
  members?: RegionMember[];
  modeMask?: number;
}

/** A request waiting longer than this (ms) is served before smaller ones that came later. */
const LONGEST_WAIT_MS = 50;

/**
 * Compiles regions for a CPU on another thread: emission and V8's compile of the module
 * happen here, off the CPU thread, which instantiates the module when it next looks
 * (WasmJit.poll). The page's code is read from the shared guest RAM as it is when the
 * request is served; the CPU throws the region away if the page changed since it asked.
 *
 * When requests queue up (Linux's kernel init finds dozens of hot pages at once), the one with
 * the fewest members goes first: the CPU runs a waiting page's blocks as closures, so small
 * regions, which compile in a few ms, should not wait behind a page's rebuild, which can take
 * a hundred (shortest job first); one that has waited LONGEST_WAIT_MS goes first regardless.
 */
export function serveRegionCompiles(port: MessagePort, ram: Uint8Array, quirks: CpuQuirks): void {
  // The CPU's region generations, in the shared memory after guest RAM (wasm-state.ts).
  const generations = new Uint32Array(ram.buffer, stateLayout(ram.length).regionGenerations, Math.ceil(ram.length / 4096));
  const queue: Array<{ request: RegionRequest; at: number }> = [];
  let scheduled = false;
  const serveNext = (): void => {
    scheduled = false;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) queue.push({ request: m.message as RegionRequest, at: performance.now() });
    if (queue.length === 0) return;
    const now = performance.now();
    let pick = 0;
    if (now - queue[0].at < LONGEST_WAIT_MS) for (let i = 1; i < queue.length; i++) if (queue[i].request.offsets.length < queue[pick].request.offsets.length) pick = i;
    const [{ request }] = queue.splice(pick, 1);
    port.postMessage(serve(request));
    if (queue.length > 0) schedule();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(serveNext);
  };
  const serve = (r: RegionRequest): RegionReply => {
    // A request whose page was written since it was asked is answered at once, uncompiled: the
    // CPU would throw the region away. Linux patches its text while booting, with ~20 requests
    // queued here at times: compiling the stale ones (~10 a boot) made the live ones wait.
    if (generations[r.page] !== r.generation) return { id: r.id };
    try {
      const region = compileRegion(quirks, ram, r.page, r.offsets, new Set(r.entries), r.state, r.mode, r.memoryPages, r.tail);
      if (region) return { id: r.id, module: new WebAssembly.Module(region.bytes), members: region.members, modeMask: region.modeMask };
    } catch {
      // Nothing compiled: the CPU runs the block as it did.
    }
    return { id: r.id };
  };
  port.on('message', (r: RegionRequest) => {
    queue.push({ request: r, at: performance.now() });
    schedule();
  });
}
