// quasivm: a small command line client over the gateway's HTTP API.
//   quasivm create --firmware guests/build/serial-hello.bin --backend soft --start
//   quasivm list | start <id> | stop <id> | console <id> | screenshot <id> -o s.png | screen <id> | keys <id> --text hi
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { defaultStateDir } from './config.js';
import { GatewayClient, GatewayError } from './cli/gateway-client.js';
import { runConsole } from './cli/console-session.js';
import { table, VM_HEADER, vmRow } from './cli/format.js';
import type { Vm } from './proto-types.js';
import { VM_ACTIONS } from './proto-types.js';

interface GlobalOptions {
  url: string;
  token?: string;
  stateDir: string;
  json?: boolean;
}

const program = new Command('quasivm')
  .description('Drive quasivm VMs through the gateway')
  .option('--url <url>', 'gateway base URL', process.env.QUASIVM_URL ?? 'http://127.0.0.1:8080')
  .option('--token <token>', 'API token (default: QUASIVM_TOKEN, else <state-dir>/token)')
  .option('--state-dir <dir>', "the gateway's state directory, to read its token from", process.env.QUASIVM_STATE_DIR ?? defaultStateDir(process.env))
  .option('--json', 'print the API replies as JSON')
  .showHelpAfterError();

function gateway(): GatewayClient {
  const o = program.opts<GlobalOptions>();
  let token = o.token ?? process.env.QUASIVM_TOKEN;
  if (!token) {
    const file = path.join(o.stateDir, 'token');
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      throw new GatewayError(0, `no API token: pass --token, set QUASIVM_TOKEN, or point --state-dir at the gateway's state directory (no ${file})`);
    }
  }
  return new GatewayClient(o.url, token);
}

function printVms(vms: Vm[]): void {
  if (program.opts<GlobalOptions>().json) process.stdout.write(`${JSON.stringify(vms.length === 1 ? vms[0] : vms, null, 2)}\n`);
  else process.stdout.write(table(VM_HEADER, vms.map(vmRow)));
}

function deviceOption(value: string, previous: Array<{ device: string; address: string }>) {
  const m = /^([a-z]+)=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`"${value}" is not <device>=<address>, e.g. timer=unix:/run/quasivm/timer.sock`);
  return [...previous, { device: m[1], address: m[2] }];
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return Number(value);
}

program
  .command('list')
  .description('list the VMs on every vcpu instance')
  .action(async () => printVms(await gateway().list()));

program
  .command('create')
  .description('create a VM (prints it; --start starts it too)')
  .option('--name <name>', 'a name for the VM')
  .option('--ram <mib>', 'guest RAM in MiB', integer)
  .option('--backend <backend>', 'CPU backend: soft, kvm or auto', 'soft')
  .option('--firmware <path>', '"seabios" or the path of a flat firmware image')
  .option('--device <device=address>', 'a device service, e.g. timer=unix:/tmp/timer.sock (repeatable)', deviceOption, [])
  .option('--start', 'start the VM once created')
  .action(async (o: { name?: string; ram?: number; backend: string; firmware?: string; device: Array<{ device: string; address: string }>; start?: boolean }) => {
    const gw = gateway();
    const spec = { name: o.name, ramMib: o.ram, backend: o.backend, firmware: o.firmware && o.firmware !== 'seabios' ? path.resolve(o.firmware) : o.firmware, devices: o.device.length ? o.device : undefined };
    let vm = await gw.request<Vm>('POST', '/api/vms', JSON.parse(JSON.stringify(spec)));
    if (o.start) vm = await gw.request<Vm>('POST', `/api/vms/${encodeURIComponent(vm.id)}/start`);
    printVms([vm]);
  });

program
  .command('get <id>')
  .description('show one VM')
  .action(async (id: string) => printVms([await gateway().request<Vm>('GET', `/api/vms/${encodeURIComponent(id)}`)]));

for (const action of VM_ACTIONS) {
  program
    .command(`${action} <id>`)
    .description(`${action} a VM`)
    .action(async (id: string) => printVms([await gateway().request<Vm>('POST', `/api/vms/${encodeURIComponent(id)}/${action}`)]));
}

program
  .command('delete <id>')
  .description('stop and remove a VM')
  .action(async (id: string) => {
    await gateway().request('DELETE', `/api/vms/${encodeURIComponent(id)}`);
    process.stdout.write(`deleted ${id}\n`);
  });

program
  .command('console <id>')
  .description("attach to a VM's serial console (output to stdout, stdin to the guest; Ctrl-] leaves)")
  .option('--until <text>', 'leave (exit 0) once the output contains this text')
  .option('--timeout <seconds>', 'give up (exit 1) after this long', integer)
  .option('--no-input', 'do not read stdin')
  .action(async (id: string, o: { until?: string; timeout?: number; input: boolean }) => {
    process.exitCode = await runConsole(gateway().console(id), { until: o.until, timeoutMs: o.timeout ? o.timeout * 1000 : undefined, input: o.input && !o.until });
  });

program
  .command('screenshot <id>')
  .description("save a VM's screen as a PNG (needs a VGA device)")
  .requiredOption('-o, --output <file>', 'where to write the PNG')
  .action(async (id: string, o: { output: string }) => {
    const png = await gateway().bytes(`/api/vms/${encodeURIComponent(id)}/screenshot`);
    writeFileSync(o.output, png);
    process.stdout.write(`wrote ${o.output} (${png.readUInt32BE(16)}x${png.readUInt32BE(20)})\n`);
  });

program
  .command('screen <id>')
  .description("print a VM's text-mode screen")
  .action(async (id: string) => {
    const { rows } = await gateway().request<{ rows: string[] }>('GET', `/api/vms/${encodeURIComponent(id)}/screen-text`);
    process.stdout.write(rows.map((r) => `${r.trimEnd()}\n`).join(''));
  });

function hexBytes(value: string): string {
  const bytes = value.split(/[\s,]+/).filter(Boolean);
  if (bytes.some((b) => !/^(0x)?[0-9a-f]{1,2}$/i.test(b))) throw new InvalidArgumentError(`"${value}" is not a list of hex bytes, e.g. "1c f0 1c"`);
  return Buffer.from(bytes.map((b) => parseInt(b.replace(/^0x/i, ''), 16))).toString('base64');
}

program
  .command('keys <id>')
  .description('type on the VM\'s keyboard: --text (US layout) or --scancodes (PS/2 set 2 bytes in hex)')
  .option('--text <text>', 'text to type ("\\n" for Enter)')
  .option('--scancodes <hex>', 'raw set 2 bytes, make and break, e.g. "1c f0 1c"', hexBytes)
  .action(async (id: string, o: { text?: string; scancodes?: string }) => {
    if (!o.text === !o.scancodes) throw new GatewayError(0, 'give exactly one of --text and --scancodes');
    const body = o.text ? { text: o.text.replace(/\\n/g, '\n') } : { scancodes: o.scancodes };
    await gateway().request('POST', `/api/vms/${encodeURIComponent(id)}/keys`, body);
  });

try {
  await program.parseAsync();
} catch (e) {
  process.stderr.write(`quasivm: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
