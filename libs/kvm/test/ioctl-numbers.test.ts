import { describe, expect, it } from 'vitest';
import { Ioctl } from '../src/index.js';

/** The request numbers linux/kvm.h expands to on x86_64 (printed by a C program including it). */
const FROM_KVM_H: Record<string, number> = {
  KVM_GET_API_VERSION: 0xae00,
  KVM_CREATE_VM: 0xae01,
  KVM_CHECK_EXTENSION: 0xae03,
  KVM_GET_VCPU_MMAP_SIZE: 0xae04,
  KVM_GET_SUPPORTED_CPUID: 0xc008ae05,
  KVM_CREATE_VCPU: 0xae41,
  KVM_GET_DIRTY_LOG: 0x4010ae42,
  KVM_SET_USER_MEMORY_REGION: 0x4020ae46,
  KVM_SET_TSS_ADDR: 0xae47,
  KVM_SET_IDENTITY_MAP_ADDR: 0x4008ae48,
  KVM_CREATE_IRQCHIP: 0xae60,
  KVM_IRQ_LINE: 0x4008ae61,
  KVM_IRQ_LINE_STATUS: 0xc008ae67,
  KVM_RUN: 0xae80,
  KVM_GET_REGS: 0x8090ae81,
  KVM_SET_REGS: 0x4090ae82,
  KVM_GET_SREGS: 0x8138ae83,
  KVM_SET_SREGS: 0x4138ae84,
  KVM_INTERRUPT: 0x4004ae86,
  KVM_SET_CPUID2: 0x4008ae90,
  KVM_NMI: 0xae9a,
  KVM_GET_TSC_KHZ: 0xaea3,
};

describe('KVM ioctl request numbers', () => {
  it('match linux/kvm.h for every request the binding issues', () => {
    expect(Object.keys(Ioctl).sort()).toEqual(Object.keys(FROM_KVM_H).sort());
    for (const [name, value] of Object.entries(FROM_KVM_H)) {
      expect({ name, value: Ioctl[name as keyof typeof Ioctl] }).toEqual({ name, value });
    }
  });
});
