import { expect, test } from 'vitest';
import { StopReason } from '../src/index.js';
import { CODE, protectedMachine } from './support/protected-machine.js';
import { DS, FS } from '../src/registers.js';
import { random, register } from './support/random-code.js';

/**
 * Random ALU, shift, move and increment instructions (8, 16 and 32-bit,
 * register, immediate and memory forms), each followed by PUSHFD so every
 * intermediate flags value lands in memory.
 */
function program(seed: number, count: number): number[] {
  const pick = random(seed);
  const code: number[] = [];
  for (let i = 0; i < count; i++) {
    const op = pick(8);
    const dst = register(pick);
    const src = register(pick);
    const modrm = 0xc0 | (src << 3) | dst;
    const imm = [pick(256), pick(256), pick(256), pick(256)];
    const address = 0x60000 + pick(64) * 4;
    const disp32 = [address & 0xff, (address >>> 8) & 0xff, address >>> 16, 0];
    switch (pick(41)) {
      case 35: code.push(0x0f, 0xba, 0xc0 | ((4 + pick(4)) << 3) | dst, imm[0]); break; // bt/bts/btr/btc r32, imm8
      case 36: code.push(0x0f, 0xba, 0x05 | ((4 + pick(4)) << 3), ...disp32, imm[0]); break; // the same on dword [disp32]
      case 37: code.push(0x0f, [0xa3, 0xab, 0xb3, 0xbb][pick(4)], modrm); break; // bt/bts/btr/btc r32, r32
      case 38: code.push(0xb8 + src, imm[0] - 128, 0xff * (imm[0] < 128 ? 1 : 0), 0xff * (imm[0] < 128 ? 1 : 0), 0xff * (imm[0] < 128 ? 1 : 0), 0x0f, [0xa3, 0xab, 0xb3, 0xbb][pick(4)], 0x05 | (src << 3), ...disp32); break; // bit offset -128..127 in a register: another dword around [disp32]
      case 39: code.push(0x0f, [0xa4, 0xac][pick(2)], modrm, imm[0]); break; // shld/shrd r32, r32, imm8
      case 40: if (pick(2) === 0) code.push(0x0f, [0xa5, 0xad][pick(2)], modrm); else code.push(0x0f, [0xa4, 0xac][pick(2)], 0x05 | (src << 3), ...disp32, imm[0]); break; // shld/shrd by CL, or on dword [disp32]
      case 32: if (pick(2) === 0) code.push(0x69, modrm, ...imm); else code.push(0x6b, modrm, imm[0]); break; // imul r32, r/m32, imm32 / imm8
      case 33: code.push([0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xf5][pick(6)]); break; // clc/stc/cli/cld/std/cmc
      case 34: code.push(0x66, 0x9c, 0x58 + dst); break; // pushf (16-bit); pop r32 (two pushes' worth)
      case 24: code.push(pick(2) === 0 ? 0xa1 : 0xa3, ...disp32); break; // mov eax, [moffs32] / mov [moffs32], eax
      case 25: code.push(pick(2) === 0 ? 0xa0 : 0xa2, ...disp32); break; // mov al, [moffs32] / mov [moffs32], al
      case 26: code.push(0x66, 0xa1, ...disp32); break; // mov ax, [moffs32]
      case 27: if (pick(2) === 0) code.push(0xa8, imm[0]); else code.push(0xa9, ...imm); break; // test al, imm8 / test eax, imm32
      case 28: code.push(0xf7, 0xc0 | ((2 + pick(2)) << 3) | dst); break; // not/neg r32
      case 29: code.push(0xf7, 0x05 | ((2 + pick(2)) << 3), ...disp32); break; // not/neg dword [disp32]
      case 30: code.push(0x0f, 0xc8 + dst); break; // bswap r32
      case 31: code.push(pick(2) === 0 ? 0xf7 : 0xf6, 0xc0 | ((4 + pick(2)) << 3) | dst); break; // mul/imul r32 or r8
      case 20: code.push(0x0f, 0xaf, modrm); break; // imul r32, r/m32
      case 21: code.push(0xff, 0xc0 | (pick(2) << 3) | dst); break; // inc/dec r/m32
      case 22: code.push(0xff, 0x05 | (pick(2) << 3), ...disp32); break; // inc/dec dword [disp32]
      case 23: code.push(0xff, 0x35, ...disp32, 0x58 + dst); break; // push dword [disp32]; pop r32
      case 19: code.push(0x55, 0x89, 0xe5, 0x6a, imm[0], 0xc9, 0x90); break; // push ebp; mov ebp, esp; push imm8; leave; nop
      case 15: code.push(0x0f, 0x90 + pick(16), 0xc0 | (dst & 3)); break; // setcc r8
      case 16: code.push(0x0f, 0x40 + pick(16), modrm); break; // cmovcc r32, r/m32
      case 17: code.push(0xf7, 0xc0 | dst, ...imm); break; // test r/m32, imm32
      case 18: code.push(0x6a, imm[0], 0x58 + dst); break; // push imm8; pop r32
      case 11: code.push(0x01 + op * 8, 0x05 | (src << 3), ...disp32); break; // op [disp32], r32
      case 12: code.push(0x03 + op * 8, 0x05 | (dst << 3), ...disp32); break; // op r32, [disp32]
      case 13: code.push(0x80, 0x05 | (op << 3), ...disp32, imm[0]); break; // op byte [disp32], imm8
      case 14: code.push(0xc7, 0x05, ...disp32, ...imm); break; // mov dword [disp32], imm32
      case 0: code.push(0x01 + op * 8, modrm); break; // op r/m32, r32
      case 1: code.push(0x03 + op * 8, modrm); break; // op r32, r/m32
      case 2: code.push(0x00 + op * 8, 0xc0 | (src << 3) | (dst & 3)); break; // op r/m8, r8
      case 3: code.push(0x66, 0x01 + op * 8, modrm); break; // op r/m16, r16
      case 4: code.push(0x83, 0xc0 | (op << 3) | dst, imm[0]); break; // op r/m32, imm8
      case 5: code.push(0x81, 0xc0 | (op << 3) | dst, ...imm); break; // op r/m32, imm32
      case 6: code.push((pick(2) === 0 ? 0x40 : 0x48) + dst); break; // inc/dec r32
      case 7: code.push(0xc1, 0xc0 | (op << 3) | dst, imm[0] & 0x3f); break; // shift r/m32, imm8
      case 8: code.push(0x0f, pick(2) === 0 ? 0xb6 : 0xbf, modrm); break; // movzx/movsx
      case 9: code.push(0x05 + op * 8, ...imm); break; // op eax, imm32
      default: code.push(0xb8 + dst, ...imm); break; // mov r32, imm32
    }
    code.push(0x9c); // pushfd
  }
  code.push(0xf4);
  return code;
}

test('random ALU sequences give the same registers, flags and counts with and without the decoded cache', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const code = program(seed, 300);
    const [cached, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(code, { decodedCache });
      m.cpu.reg32.set([0x80000001, 0x7fffffff, 0xffffffff, 0x12345678, 0, 0x0000ff80, 0x8000, 1]);
      m.cpu.reg32[4] = 0x20000;
      expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
      return m;
    });
    expect([...cached.cpu.reg32], `seed ${seed}`).toEqual([...interpreted.cpu.reg32]);
    expect(cached.cpu.getFlags(), `seed ${seed}`).toBe(interpreted.cpu.getFlags());
    expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
    expect(cached.ram.subarray(0x60000, 0x60100), `seed ${seed}: memory operands`).toEqual(interpreted.ram.subarray(0x60000, 0x60100));
    expect(cached.ram.subarray(0x1e000, 0x20000), `seed ${seed}: pushed flags`).toEqual(interpreted.ram.subarray(0x1e000, 0x20000));
  }
});

test('LOCK/FS-prefixed CMPXCHG8B, CMPXCHG, XADD and POP r/m run inside a decoded block (by the interpreter\'s handlers) with the same results and counts', () => {
  // ebp = 200; top: edx:eax = [esi]; ecx:ebx = edx:(eax + ebp); lock cmpxchg8b [esi] (equal:
  // stores); cmpxchg8b [esi] (now unequal: loads); pushfd; fs cmpxchg [edi], ebx; lock xadd
  // [edi+4], eax; push ebp; pop dword [edi+8]; dec ebp; jnz top; hlt
  const body = [
    0x8b, 0x06, 0x8b, 0x56, 0x04, 0x8d, 0x1c, 0x28, 0x89, 0xd1,
    0xf0, 0x0f, 0xc7, 0x0e, 0x0f, 0xc7, 0x0e, 0x9c,
    0x64, 0x0f, 0xb1, 0x1f, 0xf0, 0x0f, 0xc1, 0x47, 0x04, 0x55, 0x8f, 0x47, 0x08, 0x4d,
  ];
  const code = [0xbd, 0xc8, 0, 0, 0, ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4];
  const [cached, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache });
    m.cpu.reg32[6] = 0x60000; // esi
    m.cpu.reg32[7] = 0x60100; // edi
    m.cpu.setSegmentCache(FS, m.cpu.segSelector[DS], 0x100, 0xffffffff, m.cpu.segAttr[DS]);
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    return m;
  });
  expect([...cached.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(cached.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  expect(cached.ram.subarray(0x60000, 0x60300)).toEqual(interpreted.ram.subarray(0x60000, 0x60300));
  expect(cached.ram.subarray(0x1e000, 0x20000), 'pushed flags').toEqual(interpreted.ram.subarray(0x1e000, 0x20000));
  const loop = cached.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)![5];
  expect(loop?.instructions.length, 'the loop is one block, jnz included').toBe(13);
});

test('every 32-bit addressing form reads, writes and updates memory in a decoded block as the interpreter does', () => {
  // A loop (so its blocks are decoded, then run as closures) over [disp32], [base], [base+disp8],
  // [base+disp32], [base+index*scale+disp8], [index*scale+disp32], [esp+disp8], [ebp-disp8], a
  // base plus a negative disp32 (the sum wraps past 4 GiB), LEA, read-modify-writes, and the
  // register forms of MOV, PUSH and POP that have closures of their own.
  const body = [
    0x8b, 0x05, 0x10, 0x00, 0x06, 0x00, // mov eax, [0x60010]
    0x89, 0x03, // mov [ebx], eax
    0x01, 0x43, 0x08, // add [ebx+8], eax
    0x8b, 0x93, 0x80, 0x00, 0x00, 0x00, // mov edx, [ebx+0x80]
    0x89, 0x54, 0xbe, 0x10, // mov [esi+edi*4+0x10], edx
    0x03, 0x04, 0x7d, 0x00, 0x00, 0x06, 0x00, // add eax, [edi*2+0x60000]
    0x89, 0x44, 0x24, 0x04, // mov [esp+4], eax
    0x2b, 0x45, 0xf8, // sub eax, [ebp-8]
    0x8b, 0x96, 0xf0, 0xff, 0xff, 0xff, // mov edx, [esi-0x10] (disp32)
    0x83, 0x7c, 0x8b, 0x04, 0x07, // cmp dword [ebx+ecx*4+4], 7
    0x9c, 0x5a, // pushfd; pop edx
    0xc1, 0x64, 0x24, 0x04, 0x03, // shl dword [esp+4], 3
    0x8d, 0x44, 0xbb, 0x09, // lea eax, [ebx+edi*4+9]
    0x8b, 0xd3, 0x89, 0xc2, // mov edx, ebx; mov edx, eax (register to register, both encodings)
    0x53, 0x5a, // push ebx; pop edx
    0x47, // inc edi
    0x49, // dec ecx
  ];
  const code = [0xb9, 0x06, 0, 0, 0, ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4];
  const [cached, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache });
    for (let i = 0; i < 0x200; i++) m.ram[0x60000 + i] = (i * 37 + 11) & 0xff;
    m.cpu.reg32[3] = 0x60020; // ebx
    m.cpu.reg32[5] = 0x60080; // ebp
    m.cpu.reg32[6] = 0x60040; // esi
    m.cpu.reg32[7] = 0x10; // edi
    m.cpu.reg32[4] = 0x20000; // esp
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    return m;
  });
  expect([...cached.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(cached.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  expect(cached.ram.subarray(0x60000, 0x60200), 'memory operands').toEqual(interpreted.ram.subarray(0x60000, 0x60200));
  expect(cached.ram.subarray(0x1f000, 0x20010), 'stack').toEqual(interpreted.ram.subarray(0x1f000, 0x20010));
  expect(cached.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)?.[5]?.instructions.length, 'the loop ran as a decoded block').toBe(21);
});
