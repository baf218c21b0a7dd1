import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServer } from '@quasivm/testing';
import { TrafficTap } from '@quasivm/nats-tap';
import { hex, IdeRig } from './support/ide-guest-harness.js';

/**
 * A DMA's completion interrupt (and the Status read that lowers it) travels on the IDE
 * service's fast lane while the vCPU thread waits there (proto OpenStream.irqs_on_lane),
 * not through the gRPC stream and the main thread: the guest's interrupt controller and the
 * NATS tap still see every change, in order.
 */
const rig = new IdeRig();
let nats: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  await rig.start();
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await rig.stop();
  await nc?.close();
  await nats?.stop();
});

/** Runs ide-speed's READ DMA over `chunks` chunks with the tap on; `dmaAhead` false: every command goes to the device (QUASIVM_DMA_AHEAD=0). */
async function readDmaIrqs(chunks: number, dmaAhead: boolean) {
  const CHUNKS = chunks;
  const img = `irq-lane-${dmaAhead}.img`;
  rig.makeImage(img, CHUNKS * 128, [...Array(CHUNKS).keys()].map((c) => c * 128));
  const tap = new TrafficTap({ servers: nats.url, vmId: 'ide-speed-soft' }).start();
  const json = JSONCodec();
  const irqs: Array<{ line: number; level: string; source?: string }> = [];
  const sub = nc.subscribe('vm.ide-speed-soft.irq');
  void (async () => {
    for await (const m of sub) irqs.push(json.decode(m.data) as (typeof irqs)[number]);
  })();
  await nc.flush();
  await new Promise((r) => setTimeout(r, 300)); // the tap connects in the background
  const was = process.env.QUASIVM_DMA_AHEAD;
  if (!dmaAhead) process.env.QUASIVM_DMA_AHEAD = '0'; // read by the vCPU worker when it starts
  try {
    const vm = await rig.launch('soft', 'ide-speed', { 'primary.master': img, 'primary.master.mode': 'ro' }, [2, CHUNKS], tap);
    const log = await vm.waitForSerial(/ide-speed: done sum=0x\w{8} errors=0x\w{8}/, 60_000);
    const stats = await vm.stats();
    await vm.stop();
    rig.vm = null;
    const sum = [...Array(CHUNKS).keys()].reduce((s, c) => (s + 0x5ec00000 + c * 128) >>> 0, 0);
    expect(log).toContain(`ide-speed: done sum=${hex(sum)} errors=0x00000000`);
    await new Promise((r) => setTimeout(r, 500)); // the tap publishes in batches
    await tap.close();
    sub.unsubscribe();
    return { stats, ide: irqs.filter((i) => i.line === 14 && i.source === 'ide') };
  } finally {
    if (was === undefined) delete process.env.QUASIVM_DMA_AHEAD;
    else process.env.QUASIVM_DMA_AHEAD = was;
  }
}

test('READ DMA commands: IRQ 14 rises and falls once per command, on the fast lane, and the tap publishes each change from the ide device', async () => {
  const CHUNKS = 8;
  const { stats, ide } = await readDmaIrqs(CHUNKS, false);
  expect(stats?.remoteDmaServed ?? 0).toBe(0);
  // The vCPU thread waits in the bus-master poll while each transfer runs: the raise comes there;
  // the lower (the next command's Status read) comes with the next poll.
  expect(stats?.remoteLaneIrqs).toBeGreaterThanOrEqual(2 * CHUNKS - 2);
  expect(ide.filter((i) => i.level === 'raise').length).toBeGreaterThanOrEqual(CHUNKS);
  expect(ide.filter((i) => i.level === 'lower').length).toBeGreaterThanOrEqual(CHUNKS - 1);
  // Alternating: no change overtook another.
  for (let i = 1; i < ide.length; i++) expect(ide[i].level).not.toBe(ide[i - 1].level);
}, 120_000);

test('READ DMA commands the vCPU carries out itself (proto DmaServed): their IRQ changes still come from the device, alternating, and the line ends low', async () => {
  const CHUNKS = 24;
  const { stats, ide } = await readDmaIrqs(CHUNKS, true);
  expect(stats?.remoteDmaServed).toBeGreaterThan(CHUNKS / 2);
  // Changes of commands applied in one batch are collapsed (an 8259 latches one edge as well as several); none is out of order.
  expect(ide.filter((i) => i.level === 'raise').length).toBeGreaterThanOrEqual(1);
  for (let i = 1; i < ide.length; i++) expect(ide[i].level).not.toBe(ide[i - 1].level);
  expect(ide[ide.length - 1].level).toBe('lower'); // the last Status read lowered it
}, 120_000);
