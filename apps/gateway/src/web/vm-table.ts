// The VM list with one row of controls per VM.
import type { VmInfo } from './api.js';

export const ROW_ACTIONS = ['start', 'pause', 'resume', 'reset', 'stop', 'delete', 'console'] as const;
export type RowAction = (typeof ROW_ACTIONS)[number];

const shortState = (s: string) => s.replace(/^VM_STATE_/, '').toLowerCase().replace('_', '-');
const shortBackend = (s: string) => s.replace(/^CPU_BACKEND_/, '').toLowerCase();

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export function renderVmTable(body: HTMLTableSectionElement, vms: VmInfo[], selected: string | null, onAction: (action: RowAction, vm: VmInfo) => void): void {
  const rows = vms.map((vm) => {
    const tr = document.createElement('tr');
    tr.dataset.vmId = vm.id;
    if (vm.id === selected) tr.className = 'selected';
    const controls = cell('', 'controls');
    for (const action of ROW_ACTIONS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = action;
      b.title = `${action} ${vm.id}`;
      b.addEventListener('click', () => onAction(action, vm));
      controls.append(b);
    }
    const reason = cell(vm.exitReason.split('\n')[0], 'exit-reason');
    reason.title = vm.exitReason;
    tr.append(cell(vm.id), cell(vm.name), cell(shortState(vm.state), `state state-${vm.state}`), cell(shortBackend(vm.backend)), cell(uptime(vm.uptimeMs)), cell(vm.vcpuHost), reason, controls);
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('No VMs yet.');
    td.colSpan = 8;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}
