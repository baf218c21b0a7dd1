import type { MessagePort } from 'node:worker_threads';
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

/**
 * Compiles regions for a CPU on another thread: emission and V8's compile of the module
 * happen here, off the CPU thread, which instantiates the module when it next looks
 * (WasmJit.poll). The page's code is read from the shared guest RAM as it is when the
 * request is served; the CPU throws the region away if the page changed since it asked.
 */
export function serveRegionCompiles(port: MessagePort, ram: Uint8Array, quirks: CpuQuirks): void {
  // The CPU's region generations, in the shared memory after guest RAM (wasm-state.ts).
  const generations = new Uint32Array(ram.buffer, stateLayout(ram.length).regionGenerations, Math.ceil(ram.length / 4096));
  port.on('message', (r: RegionRequest) => {
    let reply: RegionReply = { id: r.id };
    // A request whose page was written since it was asked is answered at once, uncompiled: the
    // CPU would throw the region away. Linux patches its text while booting, with ~20 requests
    // queued here at times: compiling the stale ones (~10 a boot) made the live ones wait.
    if (generations[r.page] !== r.generation) {
      port.postMessage(reply);
      return;
    }
    try {
      const region = compileRegion(quirks, ram, r.page, r.offsets, new Set(r.entries), r.state, r.mode, r.memoryPages, r.tail);
      if (region) reply = { id: r.id, module: new WebAssembly.Module(region.bytes), members: region.members, modeMask: region.modeMask };
    } catch {
      // Nothing compiled: the CPU runs the block as it did.
    }
    port.postMessage(reply);
  });
}
