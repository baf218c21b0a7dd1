import { DEFAULT_KVM_PATH, Kvm } from '@quasivm/kvm';

/** The KVM device the vcpu service opens; QUASIVM_KVM_PATH overrides it (tests use it to check the no-KVM path). */
export function kvmDevicePath(): string {
  return process.env.QUASIVM_KVM_PATH || DEFAULT_KVM_PATH;
}

/** Why KVM cannot be used here, or null when it can. */
export function kvmUnavailableReason(): string | null {
  try {
    Kvm.open(kvmDevicePath()).close();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The backend a VM spec asks for: 'kvm' must open (else a clear error), 'auto' is kvm
 * when /dev/kvm opens and soft otherwise, anything else is soft.
 */
export function chooseBackend(kind: 'soft' | 'kvm' | 'auto' | undefined): 'soft' | 'kvm' {
  if (kind !== 'kvm' && kind !== 'auto') return 'soft';
  const why = kvmUnavailableReason();
  if (why === null) return 'kvm';
  if (kind === 'auto') return 'soft';
  throw new Error(`backend "kvm" needs ${kvmDevicePath()}: ${why}`);
}
