// Preload for a soft VM's CPU thread (see README.md here): every PROFILE_STEP million guest
// instructions (default 100), the wall time they took and how they ran: interpreted, as decoded
// closures, or compiled (wasm regions, JavaScript blocks); block runs, compiled chains entered,
// block lookups (jump-cache misses) and slices. Appends to PROFILE_OUT (default /tmp/tier-counts.txt).
import { appendFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

if ((workerData as { config?: unknown } | undefined)?.config) {
  const { Cpu } = await import('../../libs/x86/src/cpu.ts');
  const step = Number(process.env.PROFILE_STEP ?? 100) * 1e6;
  const out = process.env.PROFILE_OUT ?? '/tmp/tier-counts.txt';
  const c = { interpreted: 0, closures: 0, compiled: 0, blocks: 0, chains: 0, lookups: 0, slices: 0 };
  // Private methods of Cpu, wrapped on its prototype: names as in libs/x86/src/cpu.ts.
  const p = Cpu.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const wrap = (name: string, after: (result: unknown) => void) => {
    const original = p[name];
    p[name] = function (this: unknown, ...a: unknown[]) {
      const r = original.apply(this, a);
      after(r);
      return r;
    };
  };
  wrap('executeInstruction', () => c.interpreted++);
  wrap('runBlock', (n) => ((c.closures += n as number), c.blocks++));
  wrap('runChain', (n) => ((c.compiled += Math.max(0, n as number)), c.chains++));
  wrap('lookupBlock', () => c.lookups++);
  let next = step;
  let last = 0;
  let t = performance.now();
  const run = p.run;
  p.run = function (this: { instructionCount: number }, ...a: unknown[]) {
    const r = run.apply(this, a);
    c.slices++;
    const n = this.instructionCount;
    if (n >= next) {
      const now = performance.now();
      const m = (x: number) => `${(x / 1e6).toFixed(2)}M`;
      appendFileSync(out, `${m(n)} +${m(n - last)} ${(now - t).toFixed(0)} ms: interpreted ${m(c.interpreted)} closures ${m(c.closures)} compiled ${m(c.compiled)}; block runs ${c.blocks}, chains ${c.chains}, lookups ${c.lookups}, slices ${c.slices}\n`);
      for (const k of Object.keys(c) as Array<keyof typeof c>) c[k] = 0;
      t = now;
      last = n;
      next = n + step;
    }
    return r;
  };
}
