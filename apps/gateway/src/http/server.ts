// The HTTP server: the page and its assets (no token needed: the page asks for it),
// the JSON API under /api (bearer token required), WebSocket upgrades.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import { bearerFromAuthorization } from '../auth.js';
import { ApiError, toApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import { tokenMatches } from '../token.js';
import type { VcpuPool } from '../vcpu-pool.js';
import type { VmService } from '../vm-service.js';
import type { WebAssets } from '../web/assets.js';
import { createUpgradeHandler, type UpgradeDeps } from '../ws/upgrade.js';
import { apiRouter } from './api-routes.js';
import { sendBytes, sendError } from './respond.js';

export interface HttpDeps extends UpgradeDeps {
  pool: VcpuPool;
  vms: VmService;
  assets: WebAssets;
  log: Logger;
}

const PAGE_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export function createHttpServer(deps: HttpDeps): Server & { closeStreams: () => void } {
  const router = apiRouter();
  const ws = createUpgradeHandler(deps);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    try {
      if (!url.pathname.startsWith('/api/')) {
        const asset = deps.assets.get(url.pathname);
        if (!asset) throw new ApiError(grpc.status.NOT_FOUND, `nothing at ${url.pathname}`);
        if (method !== 'GET' && method !== 'HEAD') throw new ApiError(grpc.status.UNIMPLEMENTED, `${method} is not allowed on ${url.pathname}`, 405);
        return sendBytes(res, 200, asset.type, asset.body, { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' });
      }
      if (!tokenMatches(bearerFromAuthorization(req.headers.authorization), deps.token)) {
        const why = req.headers.authorization ? 'the bearer token is not valid' : 'missing "Authorization: Bearer <token>" header';
        throw new ApiError(grpc.status.UNAUTHENTICATED, why);
      }
      const { handler, params } = router.match(method, url.pathname);
      await handler({ req, res, vms: deps.vms, pool: deps.pool }, params);
    } catch (e) {
      const err = toApiError(e);
      if (err.code === grpc.status.INTERNAL) deps.log.error({ err: err.message, url: req.url }, 'request failed');
      if (!res.headersSent) sendError(res, err, err.code === grpc.status.UNAUTHENTICATED ? { 'www-authenticate': 'Bearer' } : {});
      else res.destroy();
    }
  });
  server.on('upgrade', ws.onUpgrade);
  return Object.assign(server, { closeStreams: ws.close });
}
