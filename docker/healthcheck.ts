// Container health probe, run by each image's HEALTHCHECK with tsx. Exit 0 = healthy.
//   healthcheck.ts grpc <host:port> [service]   grpc.health.v1.Health/Check answers SERVING (device services)
//   healthcheck.ts vmcontrol <host:port>         quasivm.vm.v1.VmControl/ListVms answers (vcpu)
//   healthcheck.ts http <url>                    GET answers 2xx (gateway page)
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loadVmProto } from '@quasivm/proto';

const DEADLINE_MS = 10_000;
type Unary = (req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status?: string }) => void) => void;

function call(client: grpc.Client, method: Unary, req: object): Promise<{ status?: string }> {
  return new Promise((resolve, reject) =>
    method.call(client, req, { deadline: Date.now() + DEADLINE_MS }, (e, r) => (e ? reject(e) : resolve(r ?? {}))),
  );
}

async function grpcHealth(address: string, service = ''): Promise<string> {
  const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const { Health } = (grpc.loadPackageDefinition(def) as any).grpc.health.v1;
  const client = new Health(address, grpc.credentials.createInsecure());
  const res = await call(client, client.Check, { service });
  if (res.status !== 'SERVING') throw new Error(`health status ${res.status}`);
  return 'SERVING';
}

async function vmControl(address: string): Promise<string> {
  const client = new (loadVmProto().quasivm.vm.v1.VmControl)(address, grpc.credentials.createInsecure());
  const res = (await call(client, client.ListVms as unknown as Unary, {})) as { vms?: unknown[] };
  return `${res.vms?.length ?? 0} VMs`;
}

async function http(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(DEADLINE_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return `HTTP ${res.status}`;
}

const [kind, target, extra] = process.argv.slice(2);
const probes: Record<string, (t: string, x?: string) => Promise<string>> = { grpc: grpcHealth, vmcontrol: vmControl, http };
if (!probes[kind] || !target) {
  console.error('usage: healthcheck.ts grpc|vmcontrol|http <address-or-url> [service]');
  process.exit(2);
}
try {
  console.log(`healthy: ${await probes[kind](target, extra)}`);
  process.exit(0);
} catch (e) {
  console.log(`unhealthy: ${(e as Error).message}`);
  process.exit(1);
}
