// The IRQ deadline thread of a KVM VM (DeadlineThread): pulses the lines with
// KVM_IRQ_LINE on the VM fd itself (an fd is process-wide, so any thread may use it).
import { parentPort, workerData } from 'node:worker_threads';
import { runDeadlineLoop, type DeadlineWorkerData } from './deadline-loop.js';
import { IrqLine } from './irq-line.js';
import { tightenTimerSlack } from './timer-slack.js';

const data = workerData as DeadlineWorkerData;
try {
  tightenTimerSlack();
  const line = new IrqLine(data.vmFd!);
  runDeadlineLoop(data, (irq) => line.pulse(irq));
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
