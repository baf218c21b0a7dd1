// WebSocket endpoints: /api/vms/:id/{console,events,display,traffic}. The upgrade is refused
// with a plain HTTP status (401 token, 403 foreign origin, 404 VM, 429 too many streams)
// before any WebSocket exists.
import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { bearerFromHeaders, WS_PROTOCOL } from '../auth.js';
import { ApiError, toApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StreamLimiter } from '../stream-limits.js';
import { tokenMatches } from '../token.js';
import type { VmService } from '../vm-service.js';
import { bridgeConsole } from './console-socket.js';
import { bridgeEvents } from './events-socket.js';
import { bridgeDisplay, PendingViewer } from './display-socket.js';
import type { DisplayHub } from '../display/display-hub.js';
import { bridgeTraffic, TrafficQueue } from './traffic-socket.js';
import type { TrafficHub } from '../traffic/traffic-hub.js';
import { trafficFilterFromQuery } from '../traffic/traffic-filter.js';
import { rejectUpgrade } from './reject.js';

/** Largest frame a client may send (console input). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;
const ENDPOINT = /^\/api\/vms\/([^/]+)\/(console|events|display|traffic)$/;
const DEFAULT_FPS = 30;

export interface UpgradeDeps {
  token: string;
  limiter: StreamLimiter;
  vms: VmService;
  traffic: TrafficHub;
  display: DisplayHub;
  log: Logger;
}

function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (!origin) return; // not a browser
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== req.headers.host) throw new ApiError(grpc.status.PERMISSION_DENIED, `WebSocket from origin ${origin} refused: only pages served by this gateway may connect`);
}

export function createUpgradeHandler(deps: UpgradeDeps): { onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void; close: () => void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    let release: (() => void) | null = null;
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      const path = url.pathname;
      const m = ENDPOINT.exec(path);
      if (!m) throw new ApiError(grpc.status.NOT_FOUND, `no WebSocket endpoint at ${path}; use /api/vms/<id>/{console,events,display,traffic}`);
      if (!tokenMatches(bearerFromHeaders(req.headers), deps.token)) throw new ApiError(grpc.status.UNAUTHENTICATED, 'a valid bearer token is required (Authorization header, or WebSocket protocol "bearer.<token>")');
      checkOrigin(req);
      const [, rawId, kind] = m;
      const id = decodeURIComponent(rawId);
      release = deps.limiter.acquire(deps.token);
      if (!release) throw new ApiError(grpc.status.RESOURCE_EXHAUSTED, `too many open streams for this client (at most ${deps.limiter.maxPerClient})`);
      const done = release;
      if (kind === 'console') {
        const upstream = await deps.vms.openConsole(id);
        wss.handleUpgrade(req, socket, head, (ws) => bridgeConsole(ws, upstream, done));
      } else if (kind === 'events') {
        const upstream = await deps.vms.watchEvents(id);
        wss.handleUpgrade(req, socket, head, (ws) => bridgeEvents(ws, upstream, done));
      } else if (kind === 'display') {
        const fps = Number(url.searchParams.get('fps') ?? DEFAULT_FPS);
        if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new ApiError(grpc.status.INVALID_ARGUMENT, 'field "fps" must be an integer from 1 to 60');
        const viewer = new PendingViewer();
        const leave = await deps.display.watch(id, fps, viewer);
        socket.once('close', leave);
        wss.handleUpgrade(req, socket, head, (ws) => bridgeDisplay(ws, viewer, leave, done));
      } else {
        const filter = trafficFilterFromQuery(url.searchParams);
        await deps.vms.get(id);
        const queue = new TrafficQueue();
        const watch = await deps.traffic.watch(id, filter, queue.push);
        socket.once('close', () => watch.stop());
        wss.handleUpgrade(req, socket, head, (ws) => bridgeTraffic(ws, watch, queue, done));
      }
      deps.log.debug({ vmId: id, kind }, 'WebSocket opened');
    } catch (e) {
      release?.();
      const err = toApiError(e);
      deps.log.info({ url: req.url, code: err.code, err: err.message }, 'WebSocket refused');
      rejectUpgrade(socket, err, err.code === grpc.status.UNAUTHENTICATED ? { 'WWW-Authenticate': 'Bearer' } : {});
    }
  };
  return {
    onUpgrade: (req, socket, head) => void onUpgrade(req, socket, head),
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
