// Which traffic a watcher wants: one device (or all) and some ports (or all), checked like
// any other request field so a bad filter is a 400 / INVALID_ARGUMENT naming it.
import * as grpc from '@grpc/grpc-js';
import { validSubjectToken } from '@quasivm/nats-tap';
import { ApiError } from '../errors.js';

export interface TrafficFilter {
  /** '' = every device. */
  device: string;
  /** Empty = every port. */
  ports: number[];
}

const MAX_PORTS = 64;

export function checkTrafficFilter(device: string, ports: number[]): TrafficFilter {
  if (device && (!validSubjectToken(device) || device.length > 32)) throw new ApiError(grpc.status.INVALID_ARGUMENT, `field "device": ${JSON.stringify(device)} is not a device name`);
  if (ports.length > MAX_PORTS) throw new ApiError(grpc.status.INVALID_ARGUMENT, `field "ports": at most ${MAX_PORTS} ports`);
  ports.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new ApiError(grpc.status.INVALID_ARGUMENT, `field "ports[${i}]" must be a port number 0-65535`);
  });
  return { device, ports };
}

/** From a WebSocket URL's query: ?device=vga&port=0x3d4,980 */
export function trafficFilterFromQuery(query: URLSearchParams): TrafficFilter {
  const ports = (query.get('port') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => {
      const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
      if (Number.isNaN(n)) throw new ApiError(grpc.status.INVALID_ARGUMENT, `field "port[${i}]": ${JSON.stringify(s)} is not a port (decimal or 0x hex)`);
      return n;
    });
  return checkTrafficFilter(query.get('device') ?? '', ports);
}

export function matches(filter: TrafficFilter, port: number): boolean {
  return filter.ports.length === 0 || filter.ports.includes(port);
}
