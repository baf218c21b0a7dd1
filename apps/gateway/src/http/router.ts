// A minimal route table: "/api/vms/:id/start" patterns, 404 for unknown paths,
// 405 (with Allow) for a known path with the wrong method.
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../errors.js';

export interface Match<C> {
  handler: (ctx: C, params: Record<string, string>) => Promise<void>;
  params: Record<string, string>;
}

interface Entry<C> {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Match<C>['handler'];
}

export class Router<C> {
  private readonly entries: Entry<C>[] = [];

  add(method: string, path: string, handler: Match<C>['handler']): this {
    const names: string[] = [];
    const source = path.replace(/:(\w+)/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.entries.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** The handler for `method path`; throws 404 / 405 ApiErrors otherwise. */
  match(method: string, path: string): Match<C> {
    const allowed: string[] = [];
    for (const e of this.entries) {
      const m = e.pattern.exec(path);
      if (!m) continue;
      if (e.method !== method) {
        allowed.push(e.method);
        continue;
      }
      const params: Record<string, string> = {};
      e.names.forEach((name, i) => (params[name] = safeDecode(m[i + 1])));
      return { handler: e.handler, params };
    }
    if (allowed.length > 0) throw new ApiError(grpc.status.UNIMPLEMENTED, `${method} is not allowed on ${path}; use ${allowed.join(', ')}`, 405);
    throw new ApiError(grpc.status.NOT_FOUND, `no such endpoint: ${method} ${path}`);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
