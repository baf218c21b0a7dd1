// The vcpu service: hosts VMs (guest RAM, CPU backend, I/O bus, chipset) and serves the
// VmControl gRPC API for them. Device services are reached at the addresses in each VM spec.
import * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { createLogger } from '@quasivm/device-sdk';
import { VmManager } from './vm-manager.js';
import { createVmControlServer } from './vm-control-service.js';

const program = new Command('vcpu')
  .description('quasivm vcpu service (gRPC, quasivm.vm.v1.VmControl)')
  .option('--listen <address>', 'host:port or unix:/path to serve on', process.env.QUASIVM_LISTEN ?? '127.0.0.1:50050')
  .option('--nats <url>', 'NATS server for device traffic and VM events', process.env.QUASIVM_NATS)
  .parse();
const opts = program.opts<{ listen: string; nats?: string }>();
const log = createLogger('vcpu');
const manager = new VmManager(log, opts.nats);
const server = createVmControlServer(manager, log, opts.listen);
await new Promise<void>((resolve, reject) =>
  server.bindAsync(opts.listen, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
);
log.info({ listen: opts.listen, nats: opts.nats ?? null }, 'vcpu service listening');
process.stdout.write(`vcpu service listening on ${opts.listen}\n`);
const stop = async (signal: string) => {
  log.info({ signal, vms: manager.vms.size }, 'shutting down');
  await manager.shutdown();
  server.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
