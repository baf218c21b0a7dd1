/**
 * KVM_IRQ_LINE on a VM fd from the main thread, while the CPU thread sits in KVM_RUN.
 * The VM (and its KvmVm wrapper) belongs to the CPU thread; this is the one ioctl the
 * main thread needs, bound on its own so the main thread holds no wrapper that could
 * close the fd or keep memory of its own.
 */
import koffi from 'koffi';
import { Ioctl, KvmError } from '@quasivm/kvm';

const ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, void *arg)') as (fd: number, request: number, arg: Uint32Array) => number;

export class IrqLine {
  /** struct kvm_irq_level { __u32 irq; __u32 level; } */
  private readonly arg = new Uint32Array(2);

  constructor(private readonly vmFd: number) {}

  set(irq: number, level: boolean): void {
    this.arg[0] = irq;
    this.arg[1] = level ? 1 : 0;
    if (ioctl(this.vmFd, Ioctl.KVM_IRQ_LINE, this.arg) < 0) throw new KvmError('KVM_IRQ_LINE', koffi.errno(), `irq ${irq}`);
  }

  pulse(irq: number): void {
    this.set(irq, true);
    this.set(irq, false);
  }
}
