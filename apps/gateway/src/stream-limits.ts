// Caps the long-lived streams (WebSockets and gRPC streams) one client may hold at once.
// Clients are told apart by their token.
import { createHash } from 'node:crypto';

export class StreamLimiter {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerClient: number) {
    if (!Number.isInteger(maxPerClient) || maxPerClient < 1) throw new Error(`max streams per client must be a positive integer, got ${maxPerClient}`);
  }

  private key(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** Takes a slot for `token`; returns its release function, or null when the client is at its limit. */
  acquire(token: string): (() => void) | null {
    const key = this.key(token);
    const n = this.open.get(key) ?? 0;
    if (n >= this.maxPerClient) return null;
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }

  count(token: string): number {
    return this.open.get(this.key(token)) ?? 0;
  }
}
