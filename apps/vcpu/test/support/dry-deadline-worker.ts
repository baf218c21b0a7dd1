// The IRQ deadline thread without a VM: the same loop as the KVM entry, but a pulse raises
// nothing (no /dev/kvm needed); what the tests and bench read is the loop's edge log.
import { workerData } from 'node:worker_threads';
import { runDeadlineLoop, type DeadlineWorkerData } from '../../src/kvm/deadline-loop.js';
import { tightenTimerSlack } from '../../src/kvm/timer-slack.js';

tightenTimerSlack();
runDeadlineLoop(workerData as DeadlineWorkerData, () => undefined);
