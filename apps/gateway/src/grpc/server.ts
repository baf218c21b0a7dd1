// The gateway's gRPC face: the same VmControl service the vcpu instances serve, for all of
// them at once, behind the bearer token ("authorization: Bearer <token>" metadata).
import * as grpc from '@grpc/grpc-js';
import { loadVmProto, type VmControlHandlers } from '@quasivm/proto';
import { bearerFromAuthorization } from '../auth.js';
import { ApiError, toApiError } from '../errors.js';
import { checkCreateVmMessage, moveDeviceRequestFromJson } from '../json-mapping.js';
import type { Logger } from '../logger.js';
import type { ConsoleOutput, VmAction } from '../proto-types.js';
import type { StreamLimiter } from '../stream-limits.js';
import { tokenMatches } from '../token.js';
import type { VmService } from '../vm-service.js';
import { checkTrafficFilter } from '../traffic/traffic-filter.js';
import type { TrafficHub, TrafficWatch } from '../traffic/traffic-hub.js';

export interface GrpcDeps {
  token: string;
  limiter: StreamLimiter;
  vms: VmService;
  traffic: TrafficHub;
  log: Logger;
}

const status = (e: unknown): Partial<grpc.StatusObject> => {
  const err = toApiError(e);
  return { code: err.code, details: err.message };
};

function authenticate(metadata: grpc.Metadata, token: string): void {
  const value = metadata.get('authorization')[0];
  if (!tokenMatches(bearerFromAuthorization(typeof value === 'string' ? value : value?.toString()), token)) {
    throw new ApiError(grpc.status.UNAUTHENTICATED, value ? 'the bearer token is not valid' : 'missing "authorization: Bearer <token>" metadata');
  }
}

function takeStream(deps: GrpcDeps): () => void {
  const release = deps.limiter.acquire(deps.token);
  if (!release) throw new ApiError(grpc.status.RESOURCE_EXHAUSTED, `too many open streams for this client (at most ${deps.limiter.maxPerClient})`);
  return release;
}

/** A server stream fed by a vcpu stream (events, display): token, stream slot, cancel both ways. */
function forwardStream<T>(deps: GrpcDeps, call: grpc.ServerWritableStream<unknown, T>, open: () => Promise<grpc.ClientReadableStream<T>>): void {
  let release: (() => void) | undefined;
  try {
    authenticate(call.metadata, deps.token);
    release = takeStream(deps);
  } catch (e) {
    return void call.emit('error', status(e));
  }
  const done = release;
  open().then(
    (up) => {
      if (call.cancelled) {
        up.cancel();
        return done();
      }
      up.on('data', (m: T) => call.write(m));
      up.on('error', (e) => {
        done();
        if ((e as grpc.ServiceError).code !== grpc.status.CANCELLED) call.emit('error', status(e));
      });
      up.on('end', () => {
        done();
        call.end();
      });
      call.on('cancelled', () => {
        up.cancel();
        done();
      });
    },
    (e) => {
      done();
      call.emit('error', status(e));
    },
  );
}

export function gatewayHandlers(deps: GrpcDeps): VmControlHandlers {
  const { vms } = deps;
  const forward = <T>(call: grpc.ServerWritableStream<unknown, T>, open: () => Promise<grpc.ClientReadableStream<T>>) => forwardStream(deps, call, open);
  const unary =
    <Q, R>(fn: (req: Q) => Promise<R>) =>
    async (call: grpc.ServerUnaryCall<Q, R>, cb: grpc.sendUnaryData<R>) => {
      try {
        authenticate(call.metadata, deps.token);
        cb(null, await fn(call.request));
      } catch (e) {
        cb(status(e));
      }
    };
  const action = (a: VmAction) => unary((req: { id: string }) => vms.act(a, req.id));
  return {
    CreateVm: unary((req) => vms.create(checkCreateVmMessage(req))),
    StartVm: action('start'),
    PauseVm: action('pause'),
    ResumeVm: action('resume'),
    ResetVm: action('reset'),
    StopVm: action('stop'),
    GetVm: unary((req) => vms.get(req.id)),
    DeleteVm: unary(async (req) => {
      await vms.delete(req.id);
      return {};
    }),
    ListVms: unary(async () => ({ vms: await vms.list() })),
    Screenshot: unary((req) => vms.screenshot(req.id)),
    ScreenText: unary((req) => vms.screenText(req.id)),
    MoveDevice: unary((req) => vms.moveDevice(moveDeviceRequestFromJson(req.id, req.device, { address: req.address }))),
    SendKeys: unary(async (req) => {
      await vms.sendKeys(req);
      return {};
    }),
    Console: (call) => {
      let release: (() => void) | undefined;
      let upstream: Awaited<ReturnType<VmService['openConsole']>> | undefined;
      let opening = false;
      const pending: Buffer[] = [];
      const fail = (e: unknown) => {
        release?.();
        upstream?.cancel();
        call.emit('error', status(e));
      };
      try {
        authenticate(call.metadata, deps.token);
        release = takeStream(deps);
      } catch (e) {
        return fail(e);
      }
      call.on('data', (msg: { id: string; data: Buffer }) => {
        if (upstream) {
          if (msg.data?.length) upstream.write({ data: msg.data });
          return;
        }
        if (msg.data?.length) pending.push(msg.data);
        if (opening) return;
        opening = true;
        vms.openConsole(msg.id).then((up) => {
          upstream = up;
          if (call.cancelled) return up.cancel();
          if (pending.length) up.write({ data: Buffer.concat(pending.splice(0)) });
          up.on('data', (out: ConsoleOutput) => call.write(out));
          up.on('error', (e) => (e as grpc.ServiceError).code !== grpc.status.CANCELLED && fail(e));
          up.on('end', () => {
            release?.();
            call.end();
          });
        }, fail);
      });
      call.on('end', () => {
        upstream?.end();
        release?.();
        if (!upstream) call.end();
      });
      call.on('cancelled', () => {
        upstream?.cancel();
        release?.();
      });
    },
    WatchEvents: (call) => forward(call, () => vms.watchEvents(call.request.id)),
    WatchDisplay: (call) => forward(call, () => vms.watchDisplay(call.request.id, call.request.maxFps || 30)),
    WatchTraffic: (call) => {
      let release: (() => void) | undefined;
      try {
        authenticate(call.metadata, deps.token);
        release = takeStream(deps);
      } catch (e) {
        return void call.emit('error', status(e));
      }
      const done = release;
      const r = call.request;
      let watch: TrafficWatch | undefined;
      call.on('cancelled', () => {
        watch?.stop();
        done();
      });
      (async () => {
        const filter = checkTrafficFilter(r.device, r.ports);
        await vms.get(r.id);
        return deps.traffic.watch(r.id, filter, (rec) => call.write(rec));
      })().then(
        (w) => {
          watch = w;
          if (call.cancelled) return w.stop();
          call.sendMetadata(new grpc.Metadata()); // headers say: watching now
        },
        (e) => {
          done();
          call.emit('error', status(e));
        },
      );
    },
  };
}

export function createGrpcServer(deps: GrpcDeps): grpc.Server {
  const server = new grpc.Server();
  server.addService(loadVmProto().quasivm.vm.v1.VmControl.service, gatewayHandlers(deps));
  return server;
}
