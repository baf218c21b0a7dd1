import koffi from 'koffi';

/**
 * A blocking unix stream socket made through libc (koffi): the fast lane's client runs on
 * a vCPU thread that must wait for a reply without an event loop. Reads and writes then
 * go through fs.readSync / fs.writeSync on the descriptor.
 */
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SUN_PATH_MAX = 108;

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
/**
 * Send buffer of a fast lane socket: a large frame (512 KiB of DMA data or predicted PIO
 * sectors) then goes in one write instead of filling the default ~208 KiB and waiting for the
 * reader several times, each a wake-up of both sides. The kernel caps it at wmem_max.
 */
export const LANE_SEND_BUFFER_BYTES = 2 << 20;

let libc:
  | {
      socket: (d: number, t: number, p: number) => number;
      connect: (fd: number, addr: Buffer, len: number) => number;
      close: (fd: number) => number;
      setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
      ioctl: (fd: number, request: number, arg: Buffer) => number;
    }
  | undefined;

function bind() {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      connect: lib.func('int connect(int fd, const void *addr, uint32_t addrlen)'),
      close: lib.func('int close(int fd)'),
      setsockopt: lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
      ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    };
  }
  return libc;
}

/** Asks for a send buffer of `bytes` on socket `fd`; false when the kernel refused (the default stays: only slower). */
export function setSendBuffer(fd: number, bytes = LANE_SEND_BUFFER_BYTES): boolean {
  const v = Buffer.alloc(4);
  v.writeInt32LE(bytes);
  return bind().setsockopt(fd, SOL_SOCKET, SO_SNDBUF, v, 4) === 0;
}

const FIONREAD = 0x541b;
const readable = Buffer.alloc(4);

/** Bytes that can be read from socket `fd` now without blocking (FIONREAD); 0 when unknown. */
export function bytesReadable(fd: number): number {
  return bind().ioctl(fd, FIONREAD, readable) === 0 ? readable.readInt32LE(0) : 0;
}

/** Connects a blocking AF_UNIX stream socket to `path`; returns its descriptor. */
export function connectUnixBlocking(path: string): number {
  const c = bind();
  const name = Buffer.from(path);
  if (name.length >= SUN_PATH_MAX) throw new Error(`unix socket path too long (${name.length} bytes): ${path}`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket(AF_UNIX) failed: errno ${koffi.errno()}`);
  if (c.connect(fd, addr, 2 + name.length + 1) !== 0) {
    const errno = koffi.errno();
    c.close(fd);
    throw new Error(`connect(${path}) failed: errno ${errno}`);
  }
  setSendBuffer(fd);
  return fd;
}

export function closeFd(fd: number): void {
  bind().close(fd);
}
