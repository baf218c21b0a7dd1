import { DEFAULT_KVM_PATH, Kvm } from '../../src/index.js';

/** The KVM device the tests use; QUASIVM_KVM_PATH overrides it (e.g. to check the skip path). */
export const KVM_PATH = process.env.QUASIVM_KVM_PATH || DEFAULT_KVM_PATH;
/** Whether this host can run the KVM tests at all. */
export const kvmAvailable = Kvm.isAvailable(KVM_PATH);
export const SKIP_NAME = 'skipped: /dev/kvm not available';
