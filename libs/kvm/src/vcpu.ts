/** A vCPU file descriptor: KVM_RUN with its mapped kvm_run, registers, CPUID. */
import { ExitReason } from './constants.js';
import { cpuid2Size, encodeCpuid2, type CpuidEntry } from './cpuid.js';
import { check, KvmError } from './errors.js';
import { Ioctl } from './ioctl-numbers.js';
import { KvmRun } from './kvm-run.js';
import { lastErrno, libc } from './libc.js';
import { MappedMemory, PAGE_SIZE } from './mapped-memory.js';
import { decodeRegs, encodeRegs, type KvmRegs } from './regs.js';
import { decodeSregs, encodeSregs, type KvmSregs } from './sregs.js';

const EINTR = 4;
const EAGAIN = 11;

export class KvmVcpu {
  readonly fd: number;
  readonly id: number;
  /** The mapped kvm_run of this vCPU; its getters decode the latest exit. */
  readonly exit: KvmRun;
  private readonly runArea: MappedMemory;
  private readonly scratch = MappedMemory.allocate(PAGE_SIZE);
  private closed = false;

  constructor(fd: number, id: number, mmapSize: number) {
    this.fd = fd;
    this.id = id;
    this.runArea = MappedMemory.mapFd(fd, mmapSize, 'KVM_CREATE_VCPU');
    this.exit = new KvmRun(this.runArea.bytes);
  }

  /**
   * KVM_RUN until the next exit to userspace; returns kvm_run.exit_reason.
   * A signal or immediate_exit returns ExitReason.INTR. Blocks the calling thread while
   * the guest runs (including a guest HLT handled by the in-kernel irqchip).
   * Allocation-free: decode the exit through `this.exit`.
   */
  run(): number {
    const r = libc.ioctl(this.fd, Ioctl.KVM_RUN, 0);
    if (r < 0) return this.runFailed(lastErrno());
    return this.exit.exitReason;
  }

  /**
   * KVM_RUN on a koffi worker thread, so this thread stays free (to inject interrupts
   * with KvmVm.irqLine while the guest halts, for example). Same result as run().
   */
  runAsync(): Promise<number> {
    return new Promise((resolve, reject) => {
      libc.ioctl.async(this.fd, Ioctl.KVM_RUN, 0, (err, r) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        try {
          resolve(r < 0 ? this.runFailed(lastErrno()) : this.exit.exitReason);
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  private runFailed(errno: number): number {
    if (errno === EINTR || errno === EAGAIN) return ExitReason.INTR;
    throw new KvmError('KVM_RUN', errno, `vcpu ${this.id}`);
  }

  getRegs(): KvmRegs {
    check('KVM_GET_REGS', libc.ioctl(this.fd, Ioctl.KVM_GET_REGS, this.scratch.address));
    return decodeRegs(this.scratch.view);
  }

  setRegs(regs: KvmRegs): void {
    encodeRegs(this.scratch.view, regs);
    check('KVM_SET_REGS', libc.ioctl(this.fd, Ioctl.KVM_SET_REGS, this.scratch.address));
  }

  getSregs(): KvmSregs {
    check('KVM_GET_SREGS', libc.ioctl(this.fd, Ioctl.KVM_GET_SREGS, this.scratch.address));
    return decodeSregs(this.scratch.view);
  }

  setSregs(sregs: KvmSregs): void {
    encodeSregs(this.scratch.view, sregs);
    check('KVM_SET_SREGS', libc.ioctl(this.fd, Ioctl.KVM_SET_SREGS, this.scratch.address));
  }

  /** KVM_SET_CPUID2: what CPUID returns in the guest (usually Kvm.getSupportedCpuid()). */
  setCpuid2(entries: readonly CpuidEntry[]): void {
    const buf = MappedMemory.allocate(cpuid2Size(entries.length));
    try {
      encodeCpuid2(buf.view, entries);
      check('KVM_SET_CPUID2', libc.ioctl(this.fd, Ioctl.KVM_SET_CPUID2, buf.address), `${entries.length} entries`);
    } finally {
      buf.free();
    }
  }

  /** KVM_INTERRUPT: queue an external interrupt vector (only without an in-kernel irqchip). */
  interrupt(vector: number): void {
    this.scratch.view.setUint32(0, vector, true);
    check('KVM_INTERRUPT', libc.ioctl(this.fd, Ioctl.KVM_INTERRUPT, this.scratch.address), `vector ${vector}`);
  }

  /** KVM_GET_TSC_KHZ: the rate of the guest's time stamp counter (what its rdtsc counts per ms). */
  tscKhz(): number {
    return check('KVM_GET_TSC_KHZ', libc.ioctl(this.fd, Ioctl.KVM_GET_TSC_KHZ, 0));
  }

  /** KVM_NMI: queue a non-maskable interrupt. */
  nmi(): void {
    check('KVM_NMI', libc.ioctl(this.fd, Ioctl.KVM_NMI, 0));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runArea.free();
    this.scratch.free();
    libc.close(this.fd);
  }
}
