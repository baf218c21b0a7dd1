/** The /dev/kvm system handle: API version, extensions, supported CPUID, VM creation. */
import { check, KvmError } from './errors.js';
import { Cap, KVM_API_VERSION } from './constants.js';
import { cpuid2Size, decodeCpuid2, encodeCpuid2Capacity, type CpuidEntry } from './cpuid.js';
import { Ioctl } from './ioctl-numbers.js';
import { lastErrno, libc, O_CLOEXEC, O_RDWR } from './libc.js';
import { MappedMemory } from './mapped-memory.js';
import { KvmVm } from './vm.js';
import { readdirSync } from 'node:fs';

export const DEFAULT_KVM_PATH = '/dev/kvm';
const E2BIG = 7;

export class Kvm {
  readonly fd: number;
  readonly apiVersion: number;
  /** Size of the per-vCPU mmap area (kvm_run plus its data pages). */
  readonly vcpuMmapSize: number;
  private closed = false;

  private constructor(fd: number) {
    this.fd = fd;
    this.apiVersion = check('KVM_GET_API_VERSION', libc.ioctl(fd, Ioctl.KVM_GET_API_VERSION, 0));
    if (this.apiVersion !== KVM_API_VERSION) {
      libc.close(fd);
      throw new Error(`KVM API version ${this.apiVersion}, expected ${KVM_API_VERSION}`);
    }
    this.vcpuMmapSize = check('KVM_GET_VCPU_MMAP_SIZE', libc.ioctl(fd, Ioctl.KVM_GET_VCPU_MMAP_SIZE, 0));
  }

  /** Opens /dev/kvm and checks the API version. Throws a KvmError naming "open" if it cannot. */
  static open(path = DEFAULT_KVM_PATH): Kvm {
    const fd = libc.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) throw new KvmError('open', lastErrno(), path);
    return new Kvm(fd);
  }

  /** True when `path` opens and speaks API version 12. Never throws. */
  static isAvailable(path = DEFAULT_KVM_PATH): boolean {
    try {
      Kvm.open(path).close();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The vendor modules loaded beside kvm ("kvm_intel", "kvm_amd", "kvm_pvm", ...), read
   * from /sys/module: which one serves /dev/kvm. Empty when none is visible.
   */
  static backendModules(): string[] {
    try {
      return readdirSync('/sys/module').filter((m) => m.startsWith('kvm_')).sort();
    } catch {
      return [];
    }
  }

  /** KVM_CHECK_EXTENSION: 0 when absent, otherwise a capability-specific positive value. */
  checkExtension(cap: number): number {
    return check('KVM_CHECK_EXTENSION', libc.ioctl(this.fd, Ioctl.KVM_CHECK_EXTENSION, cap), `cap ${cap}`);
  }

  /** Throws unless every listed capability is present. */
  requireExtensions(caps: Record<string, number> = { USER_MEMORY: Cap.USER_MEMORY }): void {
    const missing = Object.entries(caps).filter(([, cap]) => this.checkExtension(cap) === 0);
    if (missing.length) throw new Error(`KVM lacks capabilities: ${missing.map(([n]) => n).join(', ')}`);
  }

  /** KVM_GET_SUPPORTED_CPUID: the leaves this host's KVM can expose to a guest. */
  getSupportedCpuid(): CpuidEntry[] {
    for (let capacity = 64; capacity <= 4096; capacity *= 2) {
      const buf = MappedMemory.allocate(cpuid2Size(capacity));
      try {
        encodeCpuid2Capacity(buf.view, capacity);
        const r = libc.ioctl(this.fd, Ioctl.KVM_GET_SUPPORTED_CPUID, buf.address);
        if (r < 0) {
          const errno = lastErrno();
          if (errno === E2BIG) continue;
          throw new KvmError('KVM_GET_SUPPORTED_CPUID', errno);
        }
        return decodeCpuid2(buf.view);
      } finally {
        buf.free();
      }
    }
    throw new KvmError('KVM_GET_SUPPORTED_CPUID', E2BIG, 'more than 4096 entries');
  }

  /** KVM_CREATE_VM (default machine type). */
  createVm(): KvmVm {
    const vmFd = check('KVM_CREATE_VM', libc.ioctl(this.fd, Ioctl.KVM_CREATE_VM, 0));
    return new KvmVm(vmFd, this.vcpuMmapSize);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }
}
