import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { afterEach, expect, test } from 'vitest';
import { quirksFor, serveRegionCompiles, StopReason, type RegionReply, type RegionRequest } from '../src/index.js';
import { compileRegion } from '../src/wasm/region-compiler.js';
import { CODE, protectedMachine, put32, type ProtectedMachine } from './support/protected-machine.js';

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
