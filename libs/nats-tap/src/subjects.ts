/** NATS subjects of one VM, readable as a path (DESIGN.md, "Device traffic on NATS"). */
export const subjects = {
  io: (vmId: string, device: string, dir: 'in' | 'out') => `vm.${vmId}.io.${device}.${dir}`,
  irq: (vmId: string) => `vm.${vmId}.irq`,
  events: (vmId: string) => `vm.${vmId}.events`,
  /** Control: publish {"device":"ide","enabled":true} (or "device":"*") to switch tracing. */
  tapControl: (vmId: string) => `vm.${vmId}.tap.control`,
  /** Everything of one VM, for `nats sub`. */
  all: (vmId: string) => `vm.${vmId}.>`,
};

/** NATS subject tokens may not contain '.', '*', '>' or whitespace. */
export function validSubjectToken(token: string): boolean {
  return token.length > 0 && !/[.*>\s]/.test(token);
}

export const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;
