import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { startNatsServer, freePort, type NatsServer } from '@quasivm/testing';
import { TrafficTap, subjects } from '../src/index.js';

let nats: NatsServer;
let nc: NatsConnection;
const json = JSONCodec();

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

async function collect(subject: string, n: number, timeoutMs = 5000): Promise<Array<{ subject: string; data: Record<string, unknown> }>> {
  const sub = nc.subscribe(subject, { max: n, timeout: timeoutMs });
  await nc.flush();
  const out: Array<{ subject: string; data: Record<string, unknown> }> = [];
  return {
    then(resolve: (v: typeof out) => void, reject: (e: unknown) => void) {
      (async () => {
        for await (const m of sub) out.push({ subject: m.subject, data: json.decode(m.data) as Record<string, unknown> });
        return out;
      })().then(resolve, reject);
    },
  } as unknown as Promise<typeof out>;
}

test('device traffic, IRQs and events arrive as readable JSON on their subjects', async () => {
  const tap = new TrafficTap({ servers: nats.url, vmId: 'vm1', tracedDevices: ['ide'] }).start();
  const got = collect('vm.vm1.>', 4);
  await new Promise((r) => setTimeout(r, 200)); // let the tap connect
  tap.io('ide', 'in', 0x1f7, 1, 0x58, 123456789);
  tap.io('ide', 'out', 0x1f6, 1, 0xe0, 123456790);
  tap.io('vga', 'out', 0x3d4, 1, 0x0e, 1); // not traced: not published
  tap.irq(14, true, 123456800);
  tap.event('started', { backend: 'soft' });
  const msgs = await got;
  expect(msgs).toContainEqual({ subject: 'vm.vm1.io.ide.in', data: { port: '0x1f7', size: 1, value: '0x58', t: 123456789 } });
  expect(msgs).toContainEqual({ subject: 'vm.vm1.io.ide.out', data: { port: '0x1f6', size: 1, value: '0xe0', t: 123456790 } });
  expect(msgs).toContainEqual({ subject: 'vm.vm1.irq', data: { line: 14, level: 'raise', t: 123456800 } });
  expect(msgs.find((m) => m.subject === 'vm.vm1.events')?.data).toMatchObject({ kind: 'started', backend: 'soft' });
  expect(msgs.some((m) => m.subject.includes('vga'))).toBe(false);
  await tap.close();
});

test('tracing is switched per device over NATS itself', async () => {
  const tap = new TrafficTap({ servers: nats.url, vmId: 'vm2' }).start();
  await new Promise((r) => setTimeout(r, 200));
  const reply = await nc.request(subjects.tapControl('vm2'), json.encode({ device: 'vga', enabled: true }), { timeout: 2000 });
  expect(json.decode(reply.data)).toEqual({ ok: true, traced: ['vga'] });
  const bad = await nc.request(subjects.tapControl('vm2'), json.encode({ device: 3 }), { timeout: 2000 });
  expect(json.decode(bad.data)).toMatchObject({ ok: false });
  const got = collect('vm.vm2.io.>', 1);
  tap.io('vga', 'out', 0x3c8, 1, 7, 42);
  expect((await got)[0]).toEqual({ subject: 'vm.vm2.io.vga.out', data: { port: '0x3c8', size: 1, value: '0x7', t: 42 } });
  await tap.close();
});

test('NATS unreachable: recording goes on, one warning, records counted as dropped', async () => {
  const warnings: string[] = [];
  const port = await freePort(); // nothing listens there
  const tap = new TrafficTap({
    servers: `nats://127.0.0.1:${port}`,
    vmId: 'vm3',
    tracedDevices: ['*'],
    flushIntervalMs: 10,
    logger: { warn: (_o, msg) => warnings.push(msg), info: () => undefined },
  }).start();
  for (let i = 0; i < 1000; i++) tap.io('timer', 'in', 0x40, 1, i & 0xff, i);
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 1000; i++) tap.io('timer', 'in', 0x40, 1, i & 0xff, i);
  tap.flush();
  expect(tap.dropped).toBe(2000);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('keeps running');
  await tap.close();
});

test('a VM id that cannot be a subject token is refused clearly', () => {
  expect(() => new TrafficTap({ servers: nats.url, vmId: 'a.b' })).toThrow(/NATS subject/);
});
