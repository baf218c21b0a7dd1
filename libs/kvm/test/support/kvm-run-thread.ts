/**
 * Finds the thread of this process that runs KVM_RUN on a given vCPU fd. runAsync()
 * executes on a libuv pool thread whose id is not known, so the tests read /proc:
 * a thread blocked in the ioctl (a halted vCPU) shows "16 0x<fd> 0xae80 ..." in
 * /proc/self/task/<tid>/syscall; a thread running guest code (or the kernel's
 * instruction emulator) shows "running", and is the one whose CPU time grows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ioctl } from '../../src/index.js';

const SYS_IOCTL = 16;
const KICK_SIGNAL_BIT = 1n << BigInt(12 - 1); // SIGUSR2

function read(tid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/self/task/${tid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * KVM's own worker (the vhost task that recovers NX huge pages) is forked inside the
 * first KVM_RUN and inherits its syscall registers, so it too reads "ioctl(fd, KVM_RUN)"
 * forever; it blocks every signal. Only a thread that can take the kick is a vCPU thread.
 */
function takesKick(tid: string): boolean {
  const blocked = /^SigBlk:\s*([0-9a-f]+)$/m.exec(read(tid, 'status') ?? '');
  return blocked !== null && (BigInt(`0x${blocked[1]}`) & KICK_SIGNAL_BIT) === 0n;
}

/** utime + stime in clock ticks (fields 14 and 15 of stat, after the parenthesised name). */
function cpuTicks(tid: string): number {
  const stat = read(tid, 'stat') ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function otherThreads(): string[] {
  return readdirSync('/proc/self/task').filter((tid) => Number(tid) !== process.pid && takesKick(tid));
}

/** The thread blocked in KVM_RUN on `vcpuFd`, if one is. */
export function threadInKvmRun(vcpuFd: number): number | undefined {
  for (const tid of otherThreads()) {
    const fields = (read(tid, 'syscall') ?? '').trim().split(' ');
    if (Number(fields[0]) === SYS_IOCTL && Number(fields[1]) === vcpuFd && Number(fields[2]) === Ioctl.KVM_RUN) return Number(tid);
  }
  return undefined;
}

/** Polls until a thread is blocked in KVM_RUN on `vcpuFd` (a halted guest). */
export async function waitForThreadInKvmRun(vcpuFd: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const tid = threadInKvmRun(vcpuFd);
    if (tid !== undefined) return tid;
    if (performance.now() > deadline) throw new Error(`no thread entered KVM_RUN on fd ${vcpuFd} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * The thread running a guest that makes no exits: of the threads not blocked in a
 * syscall, the one that used the most CPU time over `sampleMs`.
 */
export async function busyVcpuThread(sampleMs = 100): Promise<number> {
  const running = () => otherThreads().filter((tid) => (read(tid, 'syscall') ?? '').startsWith('running'));
  const before = new Map(otherThreads().map((tid) => [tid, cpuTicks(tid)]));
  await new Promise((r) => setTimeout(r, sampleMs));
  let best: string | undefined;
  let bestTicks = 0;
  for (const tid of running()) {
    const used = cpuTicks(tid) - (before.get(tid) ?? cpuTicks(tid));
    if (used > bestTicks) [best, bestTicks] = [tid, used];
  }
  if (best === undefined) throw new Error(`no thread of this process ran guest code over ${sampleMs} ms`);
  return Number(best);
}
