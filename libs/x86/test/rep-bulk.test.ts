import { expect, test } from 'vitest';
import { StopReason } from '../src/index.js';
import { protectedMachine } from './support/protected-machine.js';

/** What REP MOVS/STOS must leave in memory: one element after another (backwards with DF set), as the SDM describes. */
function reference(ram: Uint8Array, movs: boolean, size: number, esi: number, edi: number, ecx: number, eax: number, backwards = false): Uint8Array {
  const out = ram.slice();
  const step = backwards ? -size : size;
  for (let i = 0; i < ecx; i++) {
    for (let b = 0; b < size; b++) out[edi + i * step + b] = movs ? out[esi + i * step + b] : (eax >>> (8 * b)) & 0xff;
  }
  return out;
}

const CASES = [
  { name: 'rep movsd across a page boundary', code: [0xf3, 0xa5], movs: true, size: 4, esi: 0x60ff0, edi: 0x70ff8, ecx: 300 },
  { name: 'rep movsb overlapping forwards (replicates the pattern)', code: [0xf3, 0xa4], movs: true, size: 1, esi: 0x61000, edi: 0x61003, ecx: 100 },
  { name: 'rep movsb with the destination below the source', code: [0xf3, 0xa4], movs: true, size: 1, esi: 0x62010, edi: 0x62000, ecx: 5000 },
  { name: 'rep stosb', code: [0xf3, 0xaa], movs: false, size: 1, esi: 0, edi: 0x63001, ecx: 9000 },
  { name: 'rep stosd of a non-uniform dword, unaligned, across pages', code: [0xf3, 0xab], movs: false, size: 4, esi: 0, edi: 0x64ffe, ecx: 1500 },
  { name: 'rep stosw of a uniform word', code: [0x66, 0xf3, 0xab], movs: false, size: 2, esi: 0, edi: 0x66000, ecx: 2048 },
  { name: 'rep movsd with ECX = 0 changes nothing', code: [0xf3, 0xa5], movs: true, size: 4, esi: 0x60000, edi: 0x70000, ecx: 0 },
  // STD first: DF set, the elements go down from ESI/EDI (Linux's decompressor moves itself up so).
  { name: 'std; rep movsd backwards across page boundaries', code: [0xfd, 0xf3, 0xa5], movs: true, size: 4, esi: 0x62ffc, edi: 0x74004, ecx: 3000, backwards: true },
  { name: 'std; rep movsd backwards, destination above and overlapping the source', code: [0xfd, 0xf3, 0xa5], movs: true, size: 4, esi: 0x66ffc, edi: 0x67ff0, ecx: 5000, backwards: true },
  { name: 'std; rep movsb backwards, destination below and overlapping (replicates the pattern)', code: [0xfd, 0xf3, 0xa4], movs: true, size: 1, esi: 0x65010, edi: 0x6500d, ecx: 3000, backwards: true },
  { name: 'std; rep movsd backwards, unaligned elements across pages', code: [0xfd, 0xf3, 0xa5], movs: true, size: 4, esi: 0x63ffe, edi: 0x71ffd, ecx: 2000, backwards: true },
  { name: 'std; rep stosd backwards of a non-uniform dword', code: [0xfd, 0xf3, 0xab], movs: false, size: 4, esi: 0, edi: 0x68ffc, ecx: 2500, backwards: true },
];

for (const c of CASES) {
  test(`${c.name}: memory and ESI/EDI/ECX as element by element`, () => {
    const m = protectedMachine([...c.code, 0xf4]);
    for (let i = 0x60000; i < 0x78000; i++) m.ram[i] = (i * 7 + (i >>> 8)) & 0xff;
    const eax = 0x12345678 & (c.size === 2 ? 0x0000ffff : 0xffffffff);
    const expected = reference(m.ram, c.movs, c.size, c.esi, c.edi, c.ecx, c.size === 2 ? 0x4141 : eax, c.backwards);
    m.cpu.reg32.set([c.size === 2 ? 0x4141 : eax, c.ecx, 0, 0, 0x20000, 0, c.esi, c.edi]);
    expect(m.cpu.run(10_000_000)).toBe(StopReason.Halted);
    expect(m.ram.subarray(0x60000, 0x78000)).toEqual(expected.subarray(0x60000, 0x78000));
    expect(m.cpu.reg32[1]).toBe(0);
    const moved = (c.backwards ? -c.ecx : c.ecx) * c.size;
    expect(m.cpu.reg32[7]).toBe(c.edi + moved);
    if (c.movs) expect(m.cpu.reg32[6]).toBe(c.esi + moved);
  });
}

test('rep stosb over compiled code: the next call runs the rewritten code', () => {
  const code = [
    0xe8, 0x1b, 0, 0, 0, //       call 10020h   (inc edx; ret: compiled on this first run)
    0xbf, 0x20, 0, 1, 0, //       mov edi, 10020h
    0xb9, 0x01, 0, 0, 0, //       mov ecx, 1
    0xb0, 0x43, //                mov al, 43h   (inc ebx)
    0xf3, 0xaa, //                rep stosb
    0xe8, 0x08, 0, 0, 0, //       call 10020h   (now inc ebx; ret)
    0xf4, //                      hlt
  ];
  const m = protectedMachine(code, { jitThreshold: 1 });
  m.ram.set([0x42, 0xc3], 0x10020);
  m.cpu.reg32.fill(0);
  m.cpu.reg32[4] = 0x20000;
  expect(m.cpu.run(10_000_000)).toBe(StopReason.Halted);
  expect(m.cpu.reg32[2]).toBe(1);
  expect(m.cpu.reg32[3]).toBe(1);
});

test('a REP longer than the slice yields between elements (EIP back at the REP, registers moved on) and resumes to the same memory', () => {
  // rep stosd of 200,000 dwords (0x60000-0x12D400), then hlt; slices of 1000 instructions.
  const ecx = 200_000;
  const m = protectedMachine([0xf3, 0xab, 0xf4]);
  const expected = reference(m.ram, false, 4, 0, 0x60000, ecx, 0x5a5aa5a5);
  m.cpu.reg32.set([0x5a5aa5a5, ecx, 0, 0, 0x20000, 0, 0, 0x60000]);
  const start = m.cpu.eip;
  expect(m.cpu.run(1000)).toBe(StopReason.InstructionLimit);
  const left = m.cpu.reg32[1];
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(ecx);
  expect(m.cpu.eip).toBe(start); // the REP runs again next time, prefix and all
  expect(m.cpu.reg32[7]).toBe(0x60000 + (ecx - left) * 4);
  expect(m.cpu.instructionCount).toBe(ecx - left);
  let slices = 1;
  while (m.cpu.run(1000) !== StopReason.Halted) slices++;
  expect(slices).toBeGreaterThan(2);
  expect(m.cpu.reg32[1]).toBe(0);
  expect(m.ram.subarray(0x60000, 0x60000 + ecx * 4)).toEqual(expected.subarray(0x60000, 0x60000 + ecx * 4));
  expect(m.cpu.instructionCount).toBe(ecx + 1);
});
