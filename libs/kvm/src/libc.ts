/**
 * The few libc entry points the KVM binding needs, bound through koffi (no C addon).
 * ioctl is variadic in C; on x86_64 SysV an integer third argument is passed the same
 * way whether or not the prototype is variadic, so it is bound with a fixed
 * `unsigned long` argument: callers pass either a plain integer or a BigInt address.
 */
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

export const libc = {
  open: lib.func('int open(const char *path, int flags)') as (path: string, flags: number) => number,
  close: lib.func('int close(int fd)') as (fd: number) => number,
  ioctl: lib.func('int ioctl(int fd, unsigned long request, unsigned long arg)') as IoctlFn,
  mmap: lib.func(
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  ) as (addr: null, length: number, prot: number, flags: number, fd: number, offset: number) => bigint | null,
  munmap: lib.func('int munmap(void *addr, size_t length)') as (addr: bigint, length: number) => number,
  strerror: lib.func('const char *strerror(int errnum)') as (errnum: number) => string,
};

export interface IoctlFn {
  (fd: number, request: number, arg: number | bigint): number;
  async(fd: number, request: number, arg: number | bigint, cb: (err: unknown, result: number) => void): void;
}

/** errno of the last failed libc call made through koffi on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** A pointer-backed ArrayBuffer over native memory: no copy, same bytes. */
export function viewNative(address: bigint, length: number): ArrayBuffer {
  return koffi.view(address, length);
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno as Record<string, number>)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Symbolic name of an errno value ("EINVAL"), or "errno N" when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
/** mmap's failure value, (void *)-1. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
