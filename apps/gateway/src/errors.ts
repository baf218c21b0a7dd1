// One error type for the whole gateway: a gRPC status code plus a message a user can act on.
// HTTP, WebSocket and gRPC faces all turn it into their own form.
import * as grpc from '@grpc/grpc-js';

export class ApiError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    /** When HTTP has a more precise status than the code's usual one (413, 415). */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const HTTP_STATUS: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.FAILED_PRECONDITION]: 409,
  [grpc.status.ABORTED]: 409,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
};

export function httpStatusOf(code: grpc.status): number {
  return HTTP_STATUS[code] ?? 500;
}

/** The name of a status code as the proto spells it ("NOT_FOUND"). */
export function codeName(code: grpc.status): string {
  return grpc.status[code] ?? 'UNKNOWN';
}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'number' && 'details' in e;
}

/** Turns whatever a call threw (a vcpu's gRPC error, our own ApiError, a bug) into an ApiError. */
export function toApiError(e: unknown, upstream?: string): ApiError {
  if (e instanceof ApiError) return e;
  if (isServiceError(e)) {
    if (e.code === grpc.status.UNAVAILABLE && upstream) return new ApiError(e.code, `vcpu service ${upstream} is unavailable: ${e.details}`);
    return new ApiError(e.code, e.details || e.message);
  }
  return new ApiError(grpc.status.INTERNAL, (e as Error)?.message ?? String(e));
}

export const notFound = (id: string) => new ApiError(grpc.status.NOT_FOUND, `no VM with id ${JSON.stringify(id)}`);
