// The gateway's page: sign in with the token, create VMs, drive them, watch their serial
// console, screen (with keyboard capture), device traffic and events.
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { ApiRequestError, GatewayApi, type VmInfo } from './api.js';
import { ConsoleView } from './console-view.js';
import { EventsView } from './events-view.js';
import { ScreenView } from './screen-view.js';
import { TrafficView } from './traffic-view.js';
import { renderVmTable, type RowAction } from './vm-table.js';

const TOKEN_KEY = 'quasivm.token';
const REFRESH_MS = 2000;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let api: GatewayApi | null = null;
let vms: VmInfo[] = [];
let refreshTimer: ReturnType<typeof setInterval> | undefined;
const consoleView = new ConsoleView($('terminal'), $('console-vm'));
const eventsView = new EventsView($<HTMLOListElement>('event-list'), () => void refresh());
const screenView = new ScreenView($<HTMLCanvasElement>('screen'), $('screen-status'));
const trafficView = new TrafficView($<HTMLFormElement>('traffic-form'), $<HTMLTableElement>('traffic-table').tBodies[0], $('traffic-status'));
const detachAll = () => {
  consoleView.detach();
  eventsView.detach();
  screenView.detach();
  trafficView.detach();
  $('screen-vm').textContent = '';
};

function showSignIn(message = ''): void {
  clearInterval(refreshTimer);
  detachAll();
  api = null;
  $('app').hidden = true;
  $('forget-token').hidden = true;
  $('token-form').hidden = false;
  $('token-error').textContent = message;
  $('connection').textContent = 'not signed in';
  $<HTMLInputElement>('token-input').focus();
}

function explain(e: unknown): string {
  if (e instanceof ApiRequestError) return `${e.message}${e.field ? ` (field ${e.field})` : ''}`;
  return (e as Error).message;
}

async function refresh(): Promise<void> {
  if (!api) return;
  try {
    vms = await api.listVms();
    $('connection').textContent = `signed in, ${vms.length} VM${vms.length === 1 ? '' : 's'}`;
    renderVmTable($<HTMLTableElement>('vm-table').tBodies[0], vms, consoleView.current, (a, vm) => void onAction(a, vm));
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 401) return showSignIn('The token was refused; enter it again.');
    $('connection').textContent = `cannot list VMs: ${explain(e)}`;
  }
}

function select(vmId: string): void {
  if (!api) return;
  consoleView.attach(api, vmId);
  eventsView.attach(api, vmId);
  screenView.attach(api, vmId);
  trafficView.attach(api, vmId);
  $('screen-vm').textContent = vmId;
}

async function onAction(action: RowAction, vm: VmInfo): Promise<void> {
  if (!api) return;
  $('action-error').textContent = '';
  try {
    if (action === 'console') select(vm.id);
    else if (action === 'delete') {
      await api.request('DELETE', `/api/vms/${encodeURIComponent(vm.id)}`);
      if (consoleView.current === vm.id) detachAll();
    } else await api.request('POST', `/api/vms/${encodeURIComponent(vm.id)}/${action}`);
  } catch (e) {
    $('action-error').textContent = `${action} ${vm.id}: ${explain(e)}`;
  }
  await refresh();
}

async function signIn(token: string): Promise<void> {
  const candidate = new GatewayApi(token);
  try {
    await candidate.listVms();
  } catch (e) {
    return showSignIn(e instanceof ApiRequestError && e.status === 401 ? 'That token is not valid.' : `Cannot reach the gateway: ${explain(e)}`);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  api = candidate;
  $('token-form').hidden = true;
  $('app').hidden = false;
  $('forget-token').hidden = false;
  await refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => void refresh(), REFRESH_MS);
}

function specFromForm(form: HTMLFormElement): Record<string, unknown> {
  const f = new FormData(form);
  const text = (k: string) => String(f.get(k) ?? '').trim();
  const spec: Record<string, unknown> = { backend: text('backend') };
  if (text('name')) spec.name = text('name');
  if (text('ramMib')) spec.ramMib = Number(text('ramMib'));
  if (text('firmware')) spec.firmware = text('firmware');
  const devices = text('devices')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [device, ...rest] = l.split('=');
      return { device: device.trim(), address: rest.join('=').trim() };
    });
  if (devices.length) spec.devices = devices;
  return spec;
}

$<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn($<HTMLInputElement>('token-input').value.trim());
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn();
});

$<HTMLFormElement>('create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!api) return;
  const form = e.currentTarget as HTMLFormElement;
  $('create-error').textContent = '';
  try {
    const vm = await api.request<VmInfo>('POST', '/api/vms', specFromForm(form));
    select(vm.id);
    if ((form.elements.namedItem('startNow') as HTMLInputElement).checked) await api.request('POST', `/api/vms/${encodeURIComponent(vm.id)}/start`);
  } catch (err) {
    $('create-error').textContent = `Cannot create the VM: ${explain(err)}`;
  }
  await refresh();
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
else showSignIn();
