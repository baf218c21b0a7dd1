/**
 * KVM ioctl request numbers, computed the way linux/ioctl.h builds them
 * (asm-generic layout used on x86_64: nr bits 0-7, type 8-15, size 16-29, dir 30-31),
 * with the sizes of the x86_64 structs from linux/kvm.h and asm/kvm.h.
 */

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

/** The ioctl "type" byte of every KVM request. */
const KVMIO = 0xae;

function ioc(dir: number, nr: number, size: number): number {
  // >>> 0 keeps the number unsigned when the READ bit (bit 31) is set.
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}
const io = (nr: number) => ioc(IOC_NONE, nr, 0);
const ior = (nr: number, size: number) => ioc(IOC_READ, nr, size);
const iow = (nr: number, size: number) => ioc(IOC_WRITE, nr, size);
const iowr = (nr: number, size: number) => ioc(IOC_READ | IOC_WRITE, nr, size);

/** Byte sizes of the structs that appear in request numbers. */
export const StructSize = {
  kvm_cpuid2: 8, // header only: nent, padding, then a flexible array
  kvm_cpuid_entry2: 40,
  kvm_dirty_log: 16,
  kvm_userspace_memory_region: 32,
  kvm_irq_level: 8,
  kvm_regs: 144,
  kvm_sregs: 312,
  kvm_interrupt: 4,
  u64: 8,
} as const;

export const Ioctl = {
  // system ioctls (on the /dev/kvm fd)
  KVM_GET_API_VERSION: io(0x00),
  KVM_CREATE_VM: io(0x01),
  KVM_CHECK_EXTENSION: io(0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(0x05, StructSize.kvm_cpuid2),
  // VM ioctls
  KVM_CREATE_VCPU: io(0x41),
  KVM_GET_DIRTY_LOG: iow(0x42, StructSize.kvm_dirty_log),
  KVM_SET_USER_MEMORY_REGION: iow(0x46, StructSize.kvm_userspace_memory_region),
  KVM_SET_TSS_ADDR: io(0x47),
  KVM_SET_IDENTITY_MAP_ADDR: iow(0x48, StructSize.u64),
  KVM_CREATE_IRQCHIP: io(0x60),
  KVM_IRQ_LINE: iow(0x61, StructSize.kvm_irq_level),
  KVM_IRQ_LINE_STATUS: iowr(0x67, StructSize.kvm_irq_level),
  // vCPU ioctls
  KVM_RUN: io(0x80),
  KVM_GET_REGS: ior(0x81, StructSize.kvm_regs),
  KVM_SET_REGS: iow(0x82, StructSize.kvm_regs),
  KVM_GET_SREGS: ior(0x83, StructSize.kvm_sregs),
  KVM_SET_SREGS: iow(0x84, StructSize.kvm_sregs),
  KVM_INTERRUPT: iow(0x86, StructSize.kvm_interrupt),
  KVM_SET_CPUID2: iow(0x90, StructSize.kvm_cpuid2),
  KVM_NMI: io(0x9a),
  KVM_GET_TSC_KHZ: io(0xa3),
} as const;

export type IoctlName = keyof typeof Ioctl;
