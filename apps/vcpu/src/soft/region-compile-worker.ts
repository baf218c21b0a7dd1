// Region compile thread of a soft-backend VM: emits and compiles the wasm of hot guest pages
// for the CPU thread (@quasivm/x86 wasm/region-compile-service.ts), which installs them.
import { workerData, type MessagePort } from 'node:worker_threads';
import { quirksFor, serveRegionCompiles } from '@quasivm/x86';

const { memory, ramBytes, port } = workerData as { memory: WebAssembly.Memory; ramBytes: number; port: MessagePort };
serveRegionCompiles(port, new Uint8Array(memory.buffer, 0, ramBytes), quirksFor('i686'));
