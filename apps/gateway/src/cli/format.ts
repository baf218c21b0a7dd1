// How the CLI prints VMs.
import type { Vm } from '../proto-types.js';

const short = (s: string, prefix: string) => s.replace(prefix, '').toLowerCase().replace(/_/g, '-');

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

export function vmRow(vm: Vm): string[] {
  return [vm.id, vm.name, short(vm.state, 'VM_STATE_'), short(vm.backend, 'CPU_BACKEND_'), uptime(Number(vm.uptimeMs)), vm.vcpuHost, vm.exitReason.split('\n')[0]];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

export const VM_HEADER = ['ID', 'NAME', 'STATE', 'BACKEND', 'UPTIME', 'VCPU', 'EXIT REASON'];
