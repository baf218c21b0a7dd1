import { Kvm } from '../../src/index.js';

/** Whether this host can run the KVM tests at all. */
export const kvmAvailable = Kvm.isAvailable();
export const SKIP_NAME = 'skipped: /dev/kvm not available';
