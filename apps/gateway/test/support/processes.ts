// Real processes for the tests: vcpu service instances and the gateway itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const VCPU_MAIN = path.join(REPO, 'apps/vcpu/src/main.ts');
export const GATEWAY_MAIN = path.join(REPO, 'apps/gateway/src/main.ts');
export const TEST_TOKEN = 'test-token-0123456789abcdef';

export const VGA_MAIN = path.join(REPO, 'apps/vga/src/main.ts');

/** A vcpu service; with `nats` it publishes its VMs' events and (when asked) device traffic there. */
export function startVcpu(o: { nats?: string } = {}): Promise<ServiceProcess> {
  return startServiceProcess(VCPU_MAIN, unixAddress('vcpu'), o.nats ? ['--nats', o.nats] : []);
}

/** The remote VGA device service (with its Display API). */
export function startVga(): Promise<ServiceProcess> {
  return startServiceProcess(VGA_MAIN, unixAddress('vga'));
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  grpcAddress: string;
  token: string;
  stateDir: string;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export interface GatewayOptions {
  vcpus: string[];
  /** QUASIVM_TOKEN; '' leaves it unset so the gateway uses its state dir. */
  token?: string;
  stateDir?: string;
  args?: string[];
}

export const tempDir = (name: string) => mkdtempSync(path.join(tmpdir(), `qvm-gw-${name}-`));

/** Runs apps/gateway/src/main.ts and waits for "gateway listening on <url> (gRPC <address>;". */
export async function startGatewayProcess(o: GatewayOptions): Promise<GatewayProcess> {
  const stateDir = o.stateDir ?? tempDir('state');
  const token = o.token ?? TEST_TOKEN;
  const args = ['--import', 'tsx', GATEWAY_MAIN, '--port', '0', '--grpc-port', '0', '--state-dir', stateDir, ...o.vcpus.flatMap((v) => ['--vcpu', v]), ...(o.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: path.join(REPO, 'apps/gateway'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QUASIVM_TOKEN: token, QUASIVM_VCPU: '', QUASIVM_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const found = /gateway listening on (\S+) \(gRPC ([^;]+);/.exec(out);
      if (found) resolve(found);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`gateway exited early (${code}): ${out}`)));
  });
  const printed = /API token \(generated[^)]*\): (\S+)/.exec(out)?.[1];
  return {
    child,
    url: m[1],
    grpcAddress: m[2],
    token: token || printed || '',
    stateDir,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
