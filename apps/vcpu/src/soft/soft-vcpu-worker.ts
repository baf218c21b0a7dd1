// CPU thread of a soft-backend VM: builds the machine from workerData and runs it.
import { parentPort, workerData } from 'node:worker_threads';
import { SoftMachine } from './soft-machine.js';
import type { FromCpu } from '../machine/worker-messages.js';

const send = (m: FromCpu) => parentPort!.postMessage(m);
try {
  const machine = new SoftMachine(workerData.config, workerData.wasmMemory, workerData.control, workerData.bridge, send);
  machine.run();
  machine.sendStats();
} catch (e) {
  send({ type: 'state', state: 'crashed', reason: `machine failed: ${(e as Error).stack ?? e}` });
}
