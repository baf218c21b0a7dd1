import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { afterEach, expect, test } from 'vitest';
import { quirksFor, serveRegionCompiles, StopReason, type RegionReply, type RegionRequest } from '../src/index.js';
import { compileRegion } from '../src/wasm/region-compiler.js';
import { DS } from '../src/registers.js';
import { CODE, protectedMachine, put32, SEL, type ProtectedMachine } from './support/protected-machine.js';

// mov ecx, 3000; xor eax, eax; top: add eax, [0x60000]; add eax, ecx; dec ecx; jnz top; hlt
const LOOP = [0xb9, 0xb8, 0x0b, 0, 0, 0x31, 0xc0, 0x03, 0x05, 0x00, 0x00, 0x06, 0x00, 0x01, 0xc8, 0x49, 0x75, 0xf5, 0xf4];
const ADD_ECX = 13; // the loop's "add eax, ecx" (01 c8), later rewritten to "sub eax, ecx" (29 c8)

const channels: MessageChannel[] = [];
afterEach(() => channels.splice(0).forEach((c) => (c.port1.close(), c.port2.close())));

/** A machine whose wasm regions compile through a service on a MessageChannel (served between slices). */
function withService(code: number[]): ProtectedMachine {
  const channel = new MessageChannel();
  channels.push(channel);
  const m = protectedMachine(code, { decodedCache: true, wasmJit: true, jitThreshold: 16, wasmCompileService: channel.port1 });
  serveRegionCompiles(channel.port2, m.ram, quirksFor('i686'));
  put32(m.ram, 0x60000, 7);
  return m;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('regions compiled by a compile service on the other end of a port are installed between slices and compute as interpreted', async () => {
  const m = withService(LOOP);
  while (!m.cpu.halted) {
    m.cpu.run(500);
    await turn(); // the service answers while the CPU thread would run on
  }
  const interpreted = protectedMachine(LOOP, { decodedCache: false });
  put32(interpreted.ram, 0x60000, 7);
  expect(interpreted.cpu.run(1_000_000)).toBe(StopReason.Halted);
  expect(m.cpu.wasmJit!.compiled, 'regions installed from the service').toBeGreaterThan(0);
  expect([...m.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(m.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});

test('a region compiled from code that changed while it was being compiled never runs', () => {
  // The service's side by hand: it reads the page before the code changes and answers after
  // the CPU has run the new code for a while (a service thread can be that late).
  const channel = new MessageChannel();
  channels.push(channel);
  const m = protectedMachine(LOOP, { decodedCache: true, wasmJit: true, jitThreshold: 16, wasmCompileService: channel.port1 });
  put32(m.ram, 0x60000, 7);
  let request: RegionRequest | undefined;
  while (request === undefined && m.cpu.instructionCount < 2000) {
    m.cpu.run(1);
    request = receiveMessageOnPort(channel.port2)?.message as RegionRequest | undefined;
  }
  expect(request, 'the loop\'s page was asked for').toBeDefined();
  const asRead = m.ram.slice();
  const changedAt = m.cpu.instructionCount;
  m.ram[CODE + ADD_ECX] = 0x29; // sub eax, ecx, as a DMA would write it
  m.cpu.invalidateCode(CODE + ADD_ECX, 1);
  m.cpu.run(300); // the new code is decoded and runs while the region is in flight
  const r = request!;
  const stale = compileRegion(quirksFor('i686'), asRead, r.page, r.offsets, new Set(r.entries), r.state, r.mode, r.memoryPages, r.tail)!;
  channel.port2.postMessage({ id: r.id, module: new WebAssembly.Module(stale.bytes), members: stale.members } satisfies RegionReply);
  while (!m.cpu.halted) m.cpu.run(500);
  const interpreted = protectedMachine(LOOP, { decodedCache: false });
  put32(interpreted.ram, 0x60000, 7);
  interpreted.cpu.run(changedAt);
  interpreted.ram[CODE + ADD_ECX] = 0x29;
  expect(interpreted.cpu.run(1_000_000)).toBe(StopReason.Halted);
  expect([...m.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(m.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});

test('a request whose page was written after it was asked is answered at once without compiling; one still current is compiled', async () => {
  const toCpu = new MessageChannel();
  const service = new MessageChannel();
  channels.push(toCpu, service);
  const m = protectedMachine(LOOP, { decodedCache: true, wasmJit: true, jitThreshold: 16, wasmCompileService: toCpu.port1 });
  put32(m.ram, 0x60000, 7);
  serveRegionCompiles(service.port2, m.ram, quirksFor('i686'));
  let request: RegionRequest | undefined;
  while (request === undefined && m.cpu.instructionCount < 2000) {
    m.cpu.run(1);
    request = receiveMessageOnPort(toCpu.port2)?.message as RegionRequest | undefined;
  }
  expect(request, "the loop's page was asked for").toBeDefined();
  const served = (r: RegionRequest): Promise<RegionReply> =>
    new Promise((resolve) => {
      service.port1.once('message', resolve);
      service.port1.postMessage(r);
    });
  const current = await served(request!);
  expect(current.module, 'the page unchanged: compiled').toBeInstanceOf(WebAssembly.Module);
  m.ram[CODE + ADD_ECX] = 0x29;
  m.cpu.invalidateCode(CODE + ADD_ECX, 1);
  const stale = await served({ ...request!, id: request!.id + 1 });
  expect(stale).toEqual({ id: request!.id + 1 });
});

// Four loops in one page, one after another: each gets hot (16 runs) in turn.
const loop = (body: number[]) => [0xb9, 0xb8, 0x0b, 0, 0, ...body, 0x49, 0x75, 0xfb]; // mov ecx, 3000; top: body; dec ecx; jnz top
const FOUR_LOOPS = [...loop([0x01, 0xc8]), ...loop([0x01, 0xcb]), ...loop([0x01, 0xca]), ...loop([0x29, 0xc8]), 0xf4]; // add eax/ebx/edx, ecx; sub eax, ecx
const LOOP_TOPS = [5, 15, 25, 35];

/** Runs FOUR_LOOPS with the compile service played by hand, each request served before the CPU steps on (then `onStep`); the requests it made. */
function runFourLoops(onStep: (m: ProtectedMachine, requests: readonly RegionRequest[]) => void = () => undefined): { m: ProtectedMachine; requests: RegionRequest[] } {
  const toCpu = new MessageChannel();
  channels.push(toCpu);
  const m = protectedMachine(FOUR_LOOPS, { decodedCache: true, wasmJit: true, jitThreshold: 16, wasmCompileService: toCpu.port1 });
  const requests: RegionRequest[] = [];
  while (!m.cpu.halted) {
    m.cpu.run(1);
    for (let r = receiveMessageOnPort(toCpu.port2)?.message as RegionRequest | undefined; r !== undefined; r = receiveMessageOnPort(toCpu.port2)?.message as RegionRequest | undefined) {
      requests.push(r);
      const region = compileRegion(quirksFor('i686'), m.ram, r.page, r.offsets, new Set(r.entries), r.state, r.mode, r.memoryPages, r.tail)!;
      toCpu.port2.postMessage({ id: r.id, module: new WebAssembly.Module(region.bytes), members: region.members, modeMask: region.modeMask } satisfies RegionReply);
    }
    onStep(m, requests);
  }
  return { m, requests };
}

test("the rebuild asked when a page's last part is in is for the part's segment mode, not the one the CPU is in then", () => {
  // DS moved to a segment with a base (the loops never use it) while the second part's reply waits: the CPU's mode then differs.
  let moved = false;
  const { requests } = runFourLoops((m, requests) => {
    if (requests.length === 3 && !moved) {
      moved = true;
      m.cpu.loadSegment(DS, SEL.code16);
    } else if (requests.length === 4 && m.cpu.segBase[DS] !== 0) m.cpu.loadSegment(DS, SEL.data0);
  });
  expect(moved).toBe(true);
  expect(requests[3].offsets.length, 'the rebuild').toBe(3);
  expect(requests[3].mode).toBe(requests[2].mode);
});

test('queued requests are served smallest first: a page rebuild does not hold up small regions asked after it', async () => {
  const { m, requests } = runFourLoops();
  const rebuild = requests.find((r) => r.offsets.length === 3)!;
  const small = requests.filter((r) => r.offsets.length === 1).slice(0, 2);
  // Asked again as they would be now (the rebuild changed the page's generation), all three queued before the service looks.
  const generation = m.cpu.memory.codeCache.regionGenerations[rebuild.page];
  const service = new MessageChannel();
  channels.push(service);
  for (const r of [rebuild, ...small]) service.port1.postMessage({ ...r, generation });
  const replies: RegionReply[] = [];
  const all = new Promise<void>((resolve) =>
    service.port1.on('message', (reply: RegionReply) => {
      replies.push(reply);
      if (replies.length === 3) resolve();
    }),
  );
  serveRegionCompiles(service.port2, m.ram, quirksFor('i686'));
  await all;
  expect(replies.map((r) => r.id)).toEqual([small[0].id, small[1].id, rebuild.id]);
  expect(replies.every((r) => r.module instanceof WebAssembly.Module), 'all three compiled').toBe(true);
});

test("blocks of a page that get hot after its region are compiled as small parts beside it; the region is rebuilt with them as soon as the last part is in", () => {
  const tops = LOOP_TOPS;
  const compiledAt = (m: ProtectedMachine, offset: number) => m.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)![(CODE & 0xfff) + offset]?.compiled as { slot: number } | null | undefined;
  let firstRegion: { slot: number } | null | undefined;
  let secondCompiled: Array<{ slot: number } | null | undefined> | undefined;
  const { m, requests } = runFourLoops((m) => {
    if (m.cpu.eip !== CODE + tops[1]) return;
    firstRegion ??= compiledAt(m, tops[0]);
    if (compiledAt(m, tops[1]) !== undefined) secondCompiled ??= tops.map((t) => compiledAt(m, t));
  });
  expect(requests.map((r) => r.offsets.length), 'the first loop alone, two parts of one block each, the rebuild, the last loop as a part of it').toEqual([1, 1, 1, 3, 1]);
  expect(requests.filter((r) => r.offsets.length === 1).map((r) => r.offsets[0] - (CODE & 0xfff))).toEqual(tops);
  expect(requests[3].offsets.map((o) => o - (CODE & 0xfff)).sort((a, b) => a - b), 'asked when the second part was in, before the last loop got hot').toEqual(tops.slice(0, 3));
  expect(firstRegion, 'the first loop ran compiled').toBeTruthy();
  // Once the second loop ran compiled, it was in a part beside the first loop's region, which was not rebuilt for it.
  expect(secondCompiled![0]).toBe(firstRegion);
  expect(secondCompiled![1]?.slot).not.toBe(firstRegion!.slot);
  // After the rebuild the first three loops are members of one region, the last loop of a part beside it.
  const slots = tops.map((t) => compiledAt(m, t)!.slot);
  expect(new Set(slots.slice(0, 3)).size).toBe(1);
  expect(slots[3]).not.toBe(slots[0]);
  const interpreted = protectedMachine(FOUR_LOOPS, { decodedCache: false });
  expect(interpreted.cpu.run(1_000_000)).toBe(StopReason.Halted);
  expect([...m.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(m.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});
