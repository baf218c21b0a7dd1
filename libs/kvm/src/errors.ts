import { errnoName, lastErrno, libc } from './libc.js';

/** A failed KVM ioctl (or other syscall). Names the call and the errno. */
export class KvmError extends Error {
  /** The call that failed, e.g. "KVM_SET_USER_MEMORY_REGION". */
  readonly call: string;
  readonly errno: number;
  /** Symbolic errno, e.g. "EINVAL". */
  readonly code: string;

  constructor(call: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    super(`${call} failed: ${code} (${libc.strerror(errno)})${detail ? `: ${detail}` : ''}`);
    this.name = 'KvmError';
    this.call = call;
    this.errno = errno;
    this.code = code;
  }
}

/** Throws a KvmError naming `call` when a syscall returned a negative value. */
export function check(call: string, result: number, detail?: string): number {
  if (result < 0) throw new KvmError(call, lastErrno(), detail);
  return result;
}
