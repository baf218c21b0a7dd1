// Puts the gateway together: token, vcpu pool, HTTP + WebSocket server, gRPC server.
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config.js';
import { createGrpcServer } from './grpc/server.js';
import { createHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import { StreamLimiter } from './stream-limits.js';
import { resolveToken, type ResolvedToken } from './token.js';
import { VcpuPool } from './vcpu-pool.js';
import { VmService } from './vm-service.js';
import { TrafficHub } from './traffic/traffic-hub.js';
import { DisplayHub } from './display/display-hub.js';
import { buildWebAssets } from './web/assets.js';

export interface RunningGateway {
  httpUrl: string;
  grpcAddress: string;
  token: ResolvedToken;
  close(): Promise<void>;
}

const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const token = resolveToken(config.envToken, config.stateDir);
  const pool = new VcpuPool(config.vcpus, log);
  const vms = new VmService(pool);
  const limiter = new StreamLimiter(config.maxStreams);
  const traffic = new TrafficHub(config.nats, config.maxTrafficRate, log);
  const display = new DisplayHub(vms);
  const deps = { token: token.token, limiter, vms, pool, traffic, display, log };
  const assets = await buildWebAssets();
  const http = createHttpServer({ ...deps, assets });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const grpcServer = createGrpcServer(deps);
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync(`${hostForUrl(config.host)}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((e) => {
    http.close();
    throw new Error(`cannot bind gRPC on ${config.host}:${config.grpcPort}: ${(e as Error).message}`);
  });
  const listings = await pool.survey();
  for (const l of listings) log.info({ vcpu: l.client.address, reachable: l.vms !== null, vms: l.vms?.length ?? 0 }, 'vcpu instance');
  const { port } = http.address() as AddressInfo;
  return {
    httpUrl: `http://${hostForUrl(config.host)}:${port}`,
    grpcAddress: `${hostForUrl(config.host)}:${grpcPort}`,
    token,
    close: async () => {
      http.closeStreams();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      display.close();
      pool.close();
      await traffic.close();
    },
  };
}
