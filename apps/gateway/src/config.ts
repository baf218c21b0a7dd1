// Command line and environment of the gateway process.
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import path from 'node:path';

export interface GatewayConfig {
  host: string;
  port: number;
  grpcPort: number;
  vcpus: string[];
  stateDir: string;
  maxStreams: number;
  /** NATS server for device traffic (none: traffic streams answer FAILED_PRECONDITION). */
  nats?: string;
  /** Traffic records one stream delivers a second at most. */
  maxTrafficRate: number;
  /** QUASIVM_TOKEN, when set. */
  envToken?: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535; 0 picks a free one)`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state'), 'quasivm');
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const program = new Command('gateway')
    .description('quasivm gateway: the VM control API over HTTP JSON + WebSocket and gRPC, and the web page')
    .option('--host <host>', 'address to bind HTTP and gRPC on', env.QUASIVM_HOST ?? '127.0.0.1')
    .option('--port <port>', 'HTTP port (page, JSON API, WebSockets)', port, env.QUASIVM_PORT ? port(env.QUASIVM_PORT) : 8080)
    .option('--grpc-port <port>', 'gRPC port (quasivm.vm.v1.VmControl)', port, env.QUASIVM_GRPC_PORT ? port(env.QUASIVM_GRPC_PORT) : 50051)
    .option('--vcpu <address>', 'a vcpu service (host:port or unix:/path); repeat for several (default: QUASIVM_VCPU, a comma list, or 127.0.0.1:50050)', collect, [])
    .option('--state-dir <dir>', 'where the generated API token is kept', env.QUASIVM_STATE_DIR ?? defaultStateDir(env))
    .option('--max-streams <n>', 'WebSockets and gRPC streams one client (token) may hold open at once', positive, 16)
    .option('--nats <url>', 'NATS server the vcpu services publish device traffic to', env.QUASIVM_NATS)
    .option('--max-traffic-rate <n>', 'device-traffic records a second one stream delivers at most (the rest are counted as dropped)', positive, 500)
    .addHelpText('after', '\nThe API token comes from QUASIVM_TOKEN, else <state-dir>/token, else is generated there and printed once.')
    .parse(argv, { from: 'user' });
  const o = program.opts<{ host: string; port: number; grpcPort: number; vcpu: string[]; stateDir: string; maxStreams: number; nats?: string; maxTrafficRate: number }>();
  const fromEnv = (env.QUASIVM_VCPU ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const vcpus = o.vcpu.length ? o.vcpu : fromEnv.length ? fromEnv : ['127.0.0.1:50050'];
  return { host: o.host, port: o.port, grpcPort: o.grpcPort, vcpus, stateDir: path.resolve(o.stateDir), maxStreams: o.maxStreams, nats: o.nats, maxTrafficRate: o.maxTrafficRate, envToken: env.QUASIVM_TOKEN };
}
