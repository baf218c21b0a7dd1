// bench/gateway: how fast a change on a guest's screen reaches browsers through the gateway.
// Stack: the VGA service, a vcpu service (soft CPU) and the gateway as real processes; the
// vga-echo guest writes each typed character into video memory at 0xB8000. For each key:
// t0 = the keys request is sent; t1 = a viewer's display WebSocket receives the changed
// rectangle. t1 - t0 bounds the guest-write -> client latency from above (it adds the key's
// trip to the guest, well under a millisecond of the total). Display streams run at 60 fps,
// so up to one frame interval (16.7 ms) of it is waiting for the next frame.
// Figures: p50/p99 with 1 viewer and with 10 viewers on one VM.
// Run: npx tsx bench/gateway.ts
import WebSocket from 'ws';
import { startScreenStack } from '../apps/gateway/test/support/screen-stack.js';
import { client, waitFor, wsUrl } from '../apps/gateway/test/support/http.js';

const KEYS = 100;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const stack = await startScreenStack();
const api = client(stack.gw.url, stack.gw.token);
try {
  const vm = (await api('POST', '/api/vms', { body: stack.spec('bench') })).json;
  await api('POST', `/api/vms/${vm.id}/start`);
  await waitFor('the guest', async () => (await api('GET', `/api/vms/${vm.id}/screen-text`)).json.rows?.[0]?.startsWith('vga-echo: ready'));

  for (const viewers of [1, 10]) {
    const sockets = await Promise.all(
      Array.from({ length: viewers }, async () => {
        const ws = new WebSocket(wsUrl(stack.gw.url, `/api/vms/${vm.id}/display?fps=60`), { headers: { authorization: `Bearer ${stack.gw.token}` } });
        const v = { ws, frames: 0, lastAt: 0 };
        ws.on('message', () => {
          v.frames++;
          v.lastAt = performance.now();
        });
        await new Promise((r) => ws.once('open', r));
        await waitFor('the first frame', async () => v.frames > 0);
        return v;
      }),
    );
    const latencies: number[] = [];
    for (let i = 0; i < KEYS; i++) {
      await new Promise((r) => setTimeout(r, 40)); // let the last change settle
      const before = sockets.map((s) => s.frames);
      const t0 = performance.now();
      await api('POST', `/api/vms/${vm.id}/keys`, { body: { text: 'abcdefghij'[i % 10] } });
      await waitFor('the change on every viewer', async () => sockets.every((s, j) => s.frames > before[j]), 5000);
      for (const s of sockets) latencies.push(s.lastAt - t0);
    }
    for (const s of sockets) s.ws.close();
    console.log(`${viewers} viewer${viewers > 1 ? 's' : ' '} : key -> changed rectangle at the client  p50 ${pct(latencies, 50).toFixed(1)} ms  p99 ${pct(latencies, 99).toFixed(1)} ms  (${latencies.length} samples, 60 fps stream)`);
  }
} finally {
  await stack.stop();
}
