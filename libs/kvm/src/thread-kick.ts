/**
 * Getting a vCPU out of KVM_RUN from another thread (pause, stop, a halted guest with
 * interrupts off). KVM_RUN returns EINTR when its thread receives a signal that has a
 * handler; KvmVcpu.run() reports that as ExitReason.INTR. Set `vcpu.exit.immediateExit`
 * first so a signal that lands just before KVM_RUN is not lost, and clear it afterwards.
 *
 * Intended use: the thread that calls run() publishes currentThreadId(); another thread
 * calls kickThread(thatId). The handler is installed in the main thread by Node
 * (process.on), a no-op whose only job is to make the signal interrupt the syscall.
 */
import koffi from 'koffi';
import { check } from './errors.js';

const lib = koffi.load('libc.so.6');
const gettid = lib.func('int gettid(void)') as () => number;
const getpid = lib.func('int getpid(void)') as () => number;
const tgkill = lib.func('int tgkill(int tgid, int tid, int sig)') as (tgid: number, tid: number, sig: number) => number;

/** The signal used to kick a vCPU thread. SIGUSR1 is Node's inspector signal, so USR2. */
export const KICK_SIGNAL = 'SIGUSR2';
const KICK_SIGNAL_NUMBER = 12;

let handlerInstalled = false;

/** Installs the no-op kick handler (main thread only; idempotent). */
export function installKickHandler(): void {
  if (handlerInstalled) return;
  process.on(KICK_SIGNAL, () => {});
  handlerInstalled = true;
}

/** Kernel thread id of the calling thread (what kickThread wants). */
export function currentThreadId(): number {
  return gettid();
}

/** Sends the kick signal to one thread of this process. */
export function kickThread(tid: number): void {
  installKickHandler();
  check('tgkill', tgkill(getpid(), tid, KICK_SIGNAL_NUMBER), `tid ${tid}`);
}
