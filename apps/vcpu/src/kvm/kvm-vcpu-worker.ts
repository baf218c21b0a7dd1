// CPU thread of a KVM-backend VM: builds the machine from workerData, runs it, and frees
// the VM once the main thread has released its views.
import { parentPort, workerData } from 'node:worker_threads';
import { KvmMachine } from './kvm-machine.js';
import type { FromCpu } from '../machine/worker-messages.js';
import { ConsoleWriter } from './console-output.js';

const output = new ConsoleWriter(workerData.link.console);
// Every message is marked in the console ring, so output and messages keep their order.
const send = (m: FromCpu) => {
  output.beforeMessage();
  parentPort!.postMessage(m);
};
let machine: KvmMachine | undefined;
try {
  machine = new KvmMachine(workerData.config, workerData.control, workerData.bridge, workerData.link, send);
  machine.run();
  machine.sendStats();
} catch (e) {
  send({ type: 'state', state: 'crashed', reason: `machine failed: ${(e as Error).stack ?? e}` });
} finally {
  machine?.close();
}
