// Preload for a soft VM's CPU thread (see README.md here): every PROFILE_STEP million guest
// instructions (default 100), the wall time they took and how they ran: interpreted, as decoded
// closures, or compiled (wasm regions, JavaScript blocks); block runs, compiled chains entered,
// block lookups (jump-cache misses) and slices. Appends to PROFILE_OUT (default /tmp/tier-counts.txt).
// PROFILE_TOP=n adds the n blocks that ran the most instructions as closures in the window, by
// EIP (look a kernel's up in its System.map: the Debian package has /boot/System.map-*).
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
  const top = Number(process.env.PROFILE_TOP ?? 0);
  const closureEips = new Map<number, number>();
  if (top > 0) {
    const runBlock = p.runBlock;
    p.runBlock = function (this: { eip: number }, ...a: unknown[]) {
      const eip = this.eip;
      const n = runBlock.apply(this, a) as number;
      closureEips.set(eip, (closureEips.get(eip) ?? 0) + n);
      return n;
    };
  }
  const interpretedEips = new Map<number, number>();
  if (top > 0) {
    const execute = p.executeInstruction;
    p.executeInstruction = function (this: { eip: number; segBase: Uint32Array }, ...a: unknown[]) {
      const at = (this.segBase[1] + this.eip) >>> 0; // CS base + EIP: real-mode code has many CS values
      interpretedEips.set(at, (interpretedEips.get(at) ?? 0) + 1);
      return execute.apply(this, a);
    };
  }
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
      if (top > 0) {
        const hot = [...closureEips].sort((x, y) => y[1] - x[1]).slice(0, top);
        appendFileSync(out, hot.map(([eip, k]) => `    closures at ${eip.toString(16).padStart(8, '0')}: ${m(k)}\n`).join(''));
        closureEips.clear();
        const interp = [...interpretedEips].sort((x, y) => y[1] - x[1]).slice(0, top);
        appendFileSync(out, interp.map(([at, k]) => `    interpreted at linear ${at.toString(16).padStart(8, '0')}: ${m(k)}\n`).join(''));
        interpretedEips.clear();
      }
      for (const k of Object.keys(c) as Array<keyof typeof c>) c[k] = 0;
      t = now;
      last = n;
      next = n + step;
    }
    return r;
  };
}
