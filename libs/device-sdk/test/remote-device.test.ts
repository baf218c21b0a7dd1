import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { RemoteDevice, RemoteDeviceError, deviceClient } from '../src/index.js';
import { DEADLINE_PORT, DMA_PORT, FIFO_PORT, IRQ_PORT, SCRATCH_BASE, SCRATCH_IRQ } from './fixtures/scratch-device.js';
import { startScratchService, type ChildService } from './fixtures/child-service.js';

let svc: ChildService;
const open: RemoteDevice[] = [];

async function connect(vmId: string, events = {}) {
  const dev = await RemoteDevice.connect(svc.address, vmId, {}, events);
  open.push(dev);
  return dev;
}

beforeAll(async () => {
  svc = await startScratchService(65536);
});

afterAll(async () => {
  for (const d of open) d.close();
  svc.child.kill('SIGKILL');
});

describe('a device model served in a child process over real gRPC', () => {
  test('posted writes and reads stay in order', async () => {
    const dev = await connect('vm-order');
    for (let i = 0; i < 300; i++) dev.ioWrite(FIFO_PORT, 2, i, i);
    const reads = [];
    for (let i = 0; i < 300; i++) reads.push(dev.ioRead(FIFO_PORT, 2, 1000 + i));
    expect(await Promise.all(reads)).toEqual([...Array(300).keys()]);
    // A write posted after a read lands after it.
    dev.ioWrite(SCRATCH_BASE, 4, 0x11, 0);
    const first = dev.ioRead(SCRATCH_BASE, 4, 0);
    dev.ioWrite(SCRATCH_BASE, 4, 0x22, 0);
    const second = dev.ioRead(SCRATCH_BASE, 4, 0);
    expect([await first, await second]).toEqual([0x11, 0x22]);
  });

  test('string I/O crosses as one message with all its data', async () => {
    const dev = await connect('vm-string');
    const words = new Uint8Array(4096).map((_, i) => i * 7);
    dev.ioWriteString(FIFO_PORT, 2, words, 5);
    const back = await dev.ioReadString(FIFO_PORT, 2, 2048, 6);
    expect(back).toEqual(words);
  });

  test('IRQ line changes, deadlines and device events reach the vCPU side', async () => {
    const irqs: Array<[number, boolean]> = [];
    const deadlines: Array<[number, number | null, number]> = [];
    const dev = await connect('vm-irq', {
      onIrq: (line: number, level: boolean) => irqs.push([line, level]),
      onIrqDeadline: (line: number, at: number | null, period: number) => deadlines.push([line, at, period]),
    });
    dev.ioWrite(IRQ_PORT, 1, 1, 100);
    dev.ioWrite(IRQ_PORT, 1, 0, 200);
    dev.ioWrite(DEADLINE_PORT, 1, 50, 1_000_000);
    await dev.ioRead(SCRATCH_BASE, 1, 300); // a read round trip: everything before it has been applied
    expect(irqs).toEqual([
      [SCRATCH_IRQ, true],
      [SCRATCH_IRQ, false],
    ]);
    expect(deadlines).toEqual([[SCRATCH_IRQ, 1_050_000, 1000]]);
  });

  test('a device reads and writes guest memory through the stream (DMA)', async () => {
    const guest = new Uint8Array(0x4000);
    guest.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 0x100);
    let raised = false;
    const dev = await connect('vm-dma', {
      onMemoryRead: (addr: number, len: number) => guest.slice(addr, addr + len),
      onMemoryWrite: (addr: number, data: Uint8Array) => void guest.set(data, addr),
      onIrq: () => (raised = true),
    });
    dev.ioWrite(DMA_PORT, 4, 0x100, 0);
    for (let i = 0; i < 100 && !raised; i++) await new Promise((r) => setTimeout(r, 10));
    expect(raised).toBe(true);
    expect([...guest.slice(0x1100, 0x1110)]).toEqual([...Array(16).keys()].map((i) => i + 1));
    expect(await dev.ioRead(DMA_PORT, 1, 0)).toBe(1);
  });

  test('save/restore round trip through SaveState and LoadState', async () => {
    const dev = await connect('vm-state');
    dev.ioWrite(SCRATCH_BASE + 3, 4, 0xcafe, 0);
    const saved = await dev.saveState();
    dev.ioWrite(SCRATCH_BASE + 3, 4, 0xbeef, 0);
    expect(await dev.ioRead(SCRATCH_BASE + 3, 4, 0)).toBe(0xbeef);
    await dev.loadState(saved);
    expect(await dev.ioRead(SCRATCH_BASE + 3, 4, 0)).toBe(0xcafe);
    expect(await dev.saveState()).toEqual(saved);
  });

  test('50 concurrent sessions keep their own state', async () => {
    const devs = await Promise.all([...Array(50).keys()].map((i) => connect(`vm-many-${i}`)));
    devs.forEach((d, i) => d.ioWrite(SCRATCH_BASE, 4, 1000 + i, 0));
    const values = await Promise.all(devs.map((d) => d.ioRead(SCRATCH_BASE, 4, 0)));
    expect(values).toEqual(devs.map((_, i) => 1000 + i));
  });
});

describe('bad requests get a status code and other sessions go on', () => {
  test('each bad request is refused with its code while a bystander session keeps working', async () => {
    const bystander = await connect('vm-bystander');
    const victim = await connect('vm-victim');
    const client = deviceClient(svc.address);
    const call = <T>(fn: (req: T, cb: (e: grpc.ServiceError | null) => void) => void, req: T) =>
      new Promise<grpc.ServiceError | null>((resolve) => fn.call(client, req, (e) => resolve(e)));

    // Unknown session on every call that names one.
    expect((await call(client.SaveState, { sessionId: 'nope' }))?.code).toBe(grpc.status.NOT_FOUND);
    expect((await call(client.Detach, { sessionId: 'nope' }))?.code).toBe(grpc.status.NOT_FOUND);
    const ghost = new RemoteDevice(client);
    ghost.sessionId = 'nope';
    await expect(ghost.openStream()).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });

    // Attach without a VM id, and with a configuration the model refuses.
    expect((await call(client.Attach, { vmId: '' }))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const refused = await call(client.Attach, { vmId: 'x', config: { fail: 'no disk' } });
    expect(refused?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused?.details).toContain('no disk');

    // Port outside the claimed ranges, bad width, oversized string I/O.
    await expect(victim.ioRead(0x3f8, 1, 0)).rejects.toMatchObject({ code: grpc.status.OUT_OF_RANGE });
    await expect(victim.ioRead(SCRATCH_BASE, 3 as 1, 0)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(victim.ioReadString(FIFO_PORT, 2, 65536, 0)).rejects.toBeInstanceOf(RemoteDeviceError);
    await expect(victim.ioReadString(FIFO_PORT, 2, 65536, 0)).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });

    // Malformed state blobs.
    const badBlob = (json: string) => call(client.LoadState, { sessionId: victim.sessionId, state: { device: 'scratch', version: 1, stateJson: Buffer.from(json) } });
    expect((await badBlob('{not json'))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await badBlob('{"device":"scratch","version":1,"regs":[1]}'))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await badBlob('[1,2]'))?.code).toBe(grpc.status.INVALID_ARGUMENT);

    // The victim's stream is still usable, and the bystander never noticed.
    victim.ioWrite(SCRATCH_BASE, 1, 0x42, 0);
    expect(await victim.ioRead(SCRATCH_BASE, 1, 0)).toBe(0x42);
    bystander.ioWrite(SCRATCH_BASE, 2, 0x1234, 0);
    expect(await bystander.ioRead(SCRATCH_BASE, 2, 0)).toBe(0x1234);
    client.close();
  });

  test('the health service answers SERVING', async () => {
    const { service } = await import('grpc-health-check');
    const Health = grpc.makeClientConstructor(service, 'grpc.health.v1.Health');
    const health = new Health(svc.address, grpc.credentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (e: Error | null, r: { status: string }) => void): void;
      close(): void;
    };
    const res = await new Promise<{ status: string }>((resolve, reject) => health.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r))));
    expect(res.status).toBe('SERVING');
    health.close();
  });
});

test('SIGTERM shuts the service down cleanly with exit code 0 and a log line', async () => {
  const own = await startScratchService();
  const dev = await RemoteDevice.connect(own.address, 'vm-term', {});
  own.child.kill('SIGTERM');
  dev.close();
  expect(await own.exited).toBe(0);
  const lines = own.stderr().trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
});
