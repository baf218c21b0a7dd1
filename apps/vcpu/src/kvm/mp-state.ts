/**
 * KVM_GET_MP_STATE / KVM_SET_MP_STATE on a vCPU fd (linux/kvm.h; not in @quasivm/kvm).
 * With an in-kernel irqchip a guest HLT puts the vCPU in KVM_MP_STATE_HALTED inside the
 * kernel; registers alone do not wake it, so a reset must make it runnable again.
 */
import koffi from 'koffi';
import { KvmError } from '@quasivm/kvm';

const ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, void *arg)') as (fd: number, request: number, arg: Uint32Array) => number;

/** _IOR(KVMIO, 0x98, struct kvm_mp_state) and _IOW(KVMIO, 0x99, ...): struct kvm_mp_state { __u32 mp_state; }. */
const KVM_GET_MP_STATE = 0x8004ae98;
const KVM_SET_MP_STATE = 0x4004ae99;

export const MpState = { RUNNABLE: 0, UNINITIALIZED: 1, INIT_RECEIVED: 2, HALTED: 3, SIPI_RECEIVED: 4, STOPPED: 5 } as const;

export class VcpuMpState {
  private readonly arg = new Uint32Array(1);

  constructor(private readonly vcpuFd: number) {}

  get(): number {
    if (ioctl(this.vcpuFd, KVM_GET_MP_STATE, this.arg) < 0) throw new KvmError('KVM_GET_MP_STATE', koffi.errno());
    return this.arg[0];
  }

  set(state: number): void {
    this.arg[0] = state;
    if (ioctl(this.vcpuFd, KVM_SET_MP_STATE, this.arg) < 0) throw new KvmError('KVM_SET_MP_STATE', koffi.errno(), `state ${state}`);
  }
}
