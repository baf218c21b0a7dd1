// The gateway process: `tsx src/main.ts [--host h] [--port p] [--grpc-port p] [--vcpu addr]...`
import { parseConfig } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './logger.js';

const log = createLogger();
let config;
try {
  config = parseConfig(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`gateway: ${(e as Error).message}\n`);
  process.exit(2);
}
let gateway;
try {
  gateway = await startGateway(config, log);
} catch (e) {
  process.stderr.write(`gateway: cannot start: ${(e as Error).message}\n`);
  process.exit(1);
}
const { token } = gateway;
if (token.source === 'generated') process.stdout.write(`API token (generated, stored in ${token.file}; shown only this once): ${token.token}\n`);
else process.stdout.write(`API token ${token.source === 'env' ? 'from QUASIVM_TOKEN' : `read from ${token.file}`}\n`);
process.stdout.write(`gateway listening on ${gateway.httpUrl} (gRPC ${gateway.grpcAddress}; vcpu ${config.vcpus.join(', ')})\n`);
log.info({ http: gateway.httpUrl, grpc: gateway.grpcAddress, vcpus: config.vcpus }, 'gateway listening');

const stop = async (signal: string) => {
  log.info({ signal }, 'shutting down');
  setTimeout(() => process.exit(0), 3000).unref();
  await gateway.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
