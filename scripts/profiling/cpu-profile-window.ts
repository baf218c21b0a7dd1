// Preload for a soft VM's CPU thread (see README.md here): a V8 CPU profile of the thread from
// PROFILE_FROM to PROFILE_TO million guest instructions (the inspector, in the thread itself),
// written to PROFILE_OUT (default /tmp/cpu-window.cpuprofile; Chrome DevTools opens it), with
// the functions that took most samples appended to PROFILE_OUT.txt.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { workerData } from 'node:worker_threads';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

if ((workerData as { config?: unknown } | undefined)?.config) {
  const { Cpu } = await import('../../libs/x86/src/cpu.ts');
  const from = Number(process.env.PROFILE_FROM ?? 0) * 1e6;
  const to = Number(process.env.PROFILE_TO ?? Infinity) * 1e6;
  const out = process.env.PROFILE_OUT ?? '/tmp/cpu-window.cpuprofile';
  const session = new Session();
  let state: 'before' | 'on' | 'done' = 'before';
  let t0 = 0;
  const p = Cpu.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const run = p.run;
  p.run = function (this: { instructionCount: number }, ...a: unknown[]) {
    const n = this.instructionCount;
    if (state === 'before' && n >= from) {
      state = 'on';
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 200 });
      session.post('Profiler.start');
      t0 = performance.now();
    } else if (state === 'on' && n >= to) {
      state = 'done';
      const ms = performance.now() - t0;
      session.post('Profiler.stop', (err, result) => {
        if (err) return;
        const profile = result.profile as unknown as { nodes: ProfileNode[]; samples: number[] };
        writeFileSync(out, JSON.stringify(profile));
        const byId = new Map(profile.nodes.map((node) => [node.id, node]));
        const self = new Map<string, number>();
        for (const id of profile.samples) {
          const f = byId.get(id)!.callFrame;
          const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
          self.set(key, (self.get(key) ?? 0) + 1);
        }
        const total = profile.samples.length;
        const rows = [...self].sort((x, y) => y[1] - x[1]).slice(0, 40).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} % ${k}`);
        writeFileSync(`${out}.txt`, `${(ms).toFixed(0)} ms, ${((n - from) / 1e6).toFixed(0)} M instructions, ${total} samples (self time)\n${rows.join('\n')}\n`);
      });
    }
    return run.apply(this, a);
  };
}
