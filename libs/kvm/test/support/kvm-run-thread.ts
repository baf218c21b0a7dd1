/**
 * Finds the thread of this process that sits in KVM_RUN on a given vCPU fd, from
 * /proc/self/task/<tid>/syscall ("16 0x<fd> 0xae80 ..." = ioctl(fd, KVM_RUN)). The tests
 * need it because runAsync() executes on a libuv pool thread whose id is not known.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ioctl } from '../../src/index.js';

const SYS_IOCTL = 16;

export function threadInKvmRun(vcpuFd: number): number | undefined {
  for (const tid of readdirSync('/proc/self/task')) {
    let fields: string[];
    try {
      fields = readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8').trim().split(' ');
    } catch {
      continue;
    }
    if (Number(fields[0]) === SYS_IOCTL && Number(fields[1]) === vcpuFd && Number(fields[2]) === Ioctl.KVM_RUN) {
      return Number(tid);
    }
  }
  return undefined;
}

/** Polls until a thread is in KVM_RUN on `vcpuFd` (the guest is running or halted). */
export async function waitForThreadInKvmRun(vcpuFd: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const tid = threadInKvmRun(vcpuFd);
    if (tid !== undefined) return tid;
    if (performance.now() > deadline) throw new Error(`no thread entered KVM_RUN on fd ${vcpuFd} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
