import { expect, test } from 'vitest';
import { StopReason } from '../src/index.js';
import { DS, EAX, EBP, EBX, EDI, EDX, ESI, FS } from '../src/registers.js';
import { CODE, protectedMachine, put32, type ProtectedMachine } from './support/protected-machine.js';
import { random, register } from './support/random-code.js';

/**
 * Random straight-line code in the forms the JIT compiles, with flags flowing
 * between instructions the way compilers use them (ALU then Jcc/SETcc/CMOVcc,
 * ADC/SBB chains, INC/DEC keeping CF), memory and stack operands, and a
 * PUSHFD only now and then, so dropped flag records and direct conditions
 * are both exercised.
 */
/** FS's base in the straight-line tests (like Linux's per-CPU segment): FS:x is x + FS_BASE. */
const FS_BASE = 0x40;

/** disp32 bytes of an FS-relative operand at linear `address`. */
function fsRelative(address: number): number[] {
  const offset = address - FS_BASE;
  return [offset & 0xff, (offset >>> 8) & 0xff, (offset >>> 16) & 0xff, offset >>> 24];
}

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
    switch (pick(50)) {
      case 0: code.push(0x01 + op * 8, modrm); break; // op r/m32, r32
      case 1: code.push(0x03 + op * 8, modrm); break; // op r32, r/m32
      case 2: code.push(0x00 + op * 8, 0xc0 | (src << 3) | (dst & 3) | (pick(2) << 2)); break; // op r/m8, r8 (AH..BH too)
      case 3: code.push(0x66, 0x01 + op * 8, modrm); break; // op r/m16, r16
      case 4: code.push(0x83, 0xc0 | (op << 3) | dst, imm[0]); break; // op r/m32, imm8
      case 5: code.push(0x81, 0xc0 | (op << 3) | dst, ...imm); break; // op r/m32, imm32
      case 6: code.push((pick(2) === 0 ? 0x40 : 0x48) + dst); break; // inc/dec r32
      case 7: code.push(0xc1, 0xc0 | (op << 3) | dst, imm[0] & 0x3f); break; // shift r/m32, imm8
      case 8: code.push(0x0f, [0xb6, 0xb7, 0xbe, 0xbf][pick(4)], modrm); break; // movzx/movsx
      case 9: code.push(0x05 + op * 8, ...imm); break; // op eax, imm32
      case 10: code.push(0x70 + pick(16), 2, 0x01 + op * 8, modrm); break; // jcc over an ALU op
      case 11: code.push(0x01 + op * 8, 0x05 | (src << 3), ...disp32); break; // op [disp32], r32
      case 12: code.push(0x03 + op * 8, 0x05 | (dst << 3), ...disp32); break; // op r32, [disp32]
      case 13: code.push(0x80, 0x05 | (op << 3), ...disp32, imm[0]); break; // op byte [disp32], imm8
      case 14: code.push(0xc7, 0x05, ...disp32, ...imm); break; // mov dword [disp32], imm32
      case 15: code.push(0x0f, 0x90 + pick(16), 0xc0 | (dst & 3)); break; // setcc r8
      case 16: code.push(0x0f, 0x40 + pick(16), modrm); break; // cmovcc r32, r/m32
      case 17: code.push(0xf7, 0xc0 | dst, ...imm); break; // test r/m32, imm32
      case 18: code.push(0x6a, imm[0], 0x58 + dst); break; // push imm8; pop r32
      case 19: code.push(0x55, 0x89, 0xe5, 0x6a, imm[0], 0xc9, 0x90); break; // push ebp; mov ebp, esp; push imm8; leave; nop
      case 20: code.push(0x0f, 0xaf, modrm); break; // imul r32, r/m32
      case 21: code.push(0xf7, 0xd0 | (pick(2) << 3) | dst); break; // not/neg r32
      case 22: code.push(0xff, 0x05 | (pick(2) << 3), ...disp32); break; // inc/dec dword [disp32]
      case 23: code.push(0xff, 0x35, ...disp32, 0x58 + dst); break; // push dword [disp32]; pop r32
      case 24: code.push(0x8d, 0x84 | (dst << 3), (pick(4) << 6) | (register(pick) << 3) | src, ...imm); break; // lea r32, [base + index*s + disp32]
      case 25: code.push(0x87, modrm); break; // xchg r/m32, r32
      case 26: code.push(0x0f, 0x80 + pick(16), 2, 0, 0, 0, 0x31, modrm); break; // jcc near over xor
      case 27: code.push(0xf7, 0xe0 | (pick(2) << 3) | src); break; // mul/imul eax, r32
      case 28: code.push(0x31, 0xd2, 0xb9, imm[0] | 1, imm[1], 0, 0, 0xf7, 0xf1); break; // xor edx, edx; mov ecx, imm; div ecx
      case 29: code.push(0x98 + pick(2)); break; // cwde / cdq
      case 30: code.push(0x66, 0x83, 0xc0 | (op << 3) | dst, imm[0]); break; // op r/m16, imm8
      case 31: code.push(0xd3, 0xc0 | (op << 3) | dst); break; // shift r/m32, cl
      case 32: code.push(0x9c); break; // pushfd (now and then)
      case 33: code.push(0xd0 + pick(2), 0xc0 | (op << 3) | dst); break; // shift r/m8 or r/m32 by 1
      case 34: code.push(0x66, 0xc1, 0xc0 | (op << 3) | dst, imm[0] & 0x1f); break; // shift r/m16, imm8
      case 35: code.push(0xc0, 0xc0 | (op << 3) | (dst & 3), imm[0] & 0x1f); break; // shift r/m8, imm8
      case 36: code.push(0x0f, 0xb1, 0x05 | (src << 3), ...disp32); break; // cmpxchg [disp32], r32
      case 37: code.push(0xf0, 0x0f, 0xc1, 0x05 | (src << 3), ...disp32); break; // lock xadd [disp32], r32
      case 38: code.push(0x0f, 0xc8 + dst); break; // bswap r32
      case 39: code.push(0xbe, ...disp32, 0xbf, ...disp32.map((b, i) => (i === 0 ? b ^ 0x40 : b)), [0xa4, 0xa5, 0xa6, 0xa7, 0xac, 0xad, 0xae, 0xaf, 0xaa, 0xab][pick(10)]); break; // mov esi/edi, string op
      case 40: code.push(pick(2) === 0 ? 0xfc : 0xfd); break; // cld / std
      case 41: code.push(0x0f, 0xb0, 0xc0 | (src << 3) | (dst & 3)); break; // cmpxchg r8, r8
      case 42: code.push(0xf3, 0x90); break; // pause
      case 43: code.push(0x6b, modrm, imm[0]); break; // imul r32, r/m32, imm8
      case 44: code.push(0x69, modrm, ...imm); break; // imul r32, r/m32, imm32
      case 45: code.push(0x0f, 0xaf, 0x05 | (dst << 3), ...disp32); break; // imul r32, [disp32]
      case 46: code.push(0x0f, 0x31); break; // rdtsc: the count where it runs, compiled or not
      case 47: code.push([0xf8, 0xf9, 0xf5][pick(3)], 0x0f, 0x42, modrm); break; // clc/stc/cmc, then cmovc: CF set by a decoded closure
      case 48: code.push(0x64, 0x01 + op * 8, 0x05 | (src << 3), ...fsRelative(address)); break; // op fs:[disp32], r32 (FS has a base)
      case 49: code.push(0x64, 0xff, 0x05 | (pick(2) << 3), ...fsRelative(address)); break; // inc/dec dword fs:[disp32]
      default: code.push(0xb8 + dst, ...imm); break; // mov r32, imm32
    }
  }
  code.push(0x9c, 0xf4); // pushfd; hlt
  return code;
}

const JITS = [
  { name: 'JavaScript', wasmJit: false },
  { name: 'wasm', wasmJit: true },
];

/**
 * Runs `compiled` in slices of 1..maxSlice instructions (from `seed`) to its HLT, and the
 * interpreter to the same count after each: registers, flags and EIP must agree at every
 * slice end.
 */
function runInLockstep(compiled: ProtectedMachine, interpreted: ProtectedMachine, seed: number, maxSlice: number, label = ''): void {
  const slices = random(seed);
  let stop: StopReason = StopReason.InstructionLimit;
  while (stop !== StopReason.Halted) {
    stop = compiled.cpu.run(1 + slices(maxSlice));
    const behind = compiled.cpu.instructionCount - interpreted.cpu.instructionCount;
    if (behind > 0) interpreted.cpu.run(behind);
    const at = `${label}at ${compiled.cpu.instructionCount}`;
    expect(interpreted.cpu.instructionCount, at).toBe(compiled.cpu.instructionCount);
    expect([...compiled.cpu.reg32], at).toEqual([...interpreted.cpu.reg32]);
    expect(compiled.cpu.getFlags(), at).toBe(interpreted.cpu.getFlags());
    expect(compiled.cpu.eip, at).toBe(interpreted.cpu.eip);
  }
}

test.each(JITS)('random straight-line code gives the same registers, flags, memory and counts compiled ($name JIT) as interpreted', ({ wasmJit }) => {
  for (let seed = 1; seed <= 40; seed++) {
    const code = program(seed, 400);
    const [compiled, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(code, { decodedCache, jitThreshold: 1, wasmJit: decodedCache && wasmJit });
      m.cpu.reg32.set([0x80000001, 0x7fffffff, 0xffffffff, 0x12345678, 0, 0x0000ff80, 0x8000, 1]);
      m.cpu.reg32[4] = 0x20000;
      m.cpu.setSegmentCache(FS, m.cpu.segSelector[DS], FS_BASE, 0xffffffff, m.cpu.segAttr[DS]);
      expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
      return m;
    });
    if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, `seed ${seed}: wasm regions`).toBeGreaterThan(0);
    expect([...compiled.cpu.reg32], `seed ${seed}`).toEqual([...interpreted.cpu.reg32]);
    expect(compiled.cpu.getFlags(), `seed ${seed}`).toBe(interpreted.cpu.getFlags());
    expect(compiled.cpu.instructionCount, `seed ${seed}`).toBe(interpreted.cpu.instructionCount);
    expect(compiled.ram.subarray(0x60000, 0x60100), `seed ${seed}: memory operands`).toEqual(interpreted.ram.subarray(0x60000, 0x60100));
    if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, `seed ${seed}: wasm regions`).toBeGreaterThan(0);
    expect(compiled.ram.subarray(0x1e000, 0x20000), `seed ${seed}: stack`).toEqual(interpreted.ram.subarray(0x1e000, 0x20000));
  }
}, 120_000);

test.each(JITS)('a loop compiled ($name JIT) after its threshold keeps counting and computing as the interpreter does', ({ wasmJit }) => {
  // mov ecx, 1000; xor eax, eax; top: add eax, ecx; adc edx, 0; dec ecx; jnz top; hlt
  const code = [0xb9, 0xe8, 0x03, 0, 0, 0x31, 0xc0, 0x01, 0xc8, 0x83, 0xd2, 0x00, 0x49, 0x75, 0xf8, 0xf4];
  const [compiled, interpreted] = [{ decodedCache: true, jitThreshold: 16, wasmJit }, { decodedCache: false }].map((options) => {
    const m = protectedMachine(code, options);
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    return m;
  });
  expect(compiled.cpu.reg32[0]).toBe(500500);
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});

/**
 * A random register-only loop body (ECX is the counter; flags flow between the body's
 * instructions and into Jcc/SETcc/CMOVcc/ADC/SBB), so the compiled block keeps the
 * registers in locals and records the flags only on its way out.
 */
function loopProgram(seed: number): number[] {
  const pick = random(seed);
  const notEcx = (): number => [0, 2, 3, 5, 6, 7][pick(6)];
  const body: number[] = [];
  const length = 3 + pick(12);
  for (let i = 0; i < length; i++) {
    const op = pick(8);
    const modrm = 0xc0 | (register(pick) << 3) | notEcx();
    switch (pick(11)) {
      case 0: body.push(0x01 + op * 8, modrm); break; // op r/m32, r32 (CMP/ADC/SBB too)
      case 1: body.push(0x83, 0xc0 | (op << 3) | notEcx(), pick(256)); break; // op r/m32, imm8
      case 2: body.push(0xc1, 0xc0 | ([0, 1, 4, 5, 7][pick(5)] << 3) | notEcx(), 1 + pick(31)); break; // rol/ror/shl/shr/sar
      case 3: body.push((pick(2) === 0 ? 0x40 : 0x48) + notEcx()); break; // inc/dec (CF kept)
      case 4: body.push(0x0f, 0x90 + pick(16), 0xc0 | [0, 2, 3][pick(3)]); break; // setcc al/dl/bl
      case 5: body.push(0x0f, 0x40 + pick(16), 0xc0 | (notEcx() << 3) | register(pick)); break; // cmovcc
      case 6: body.push(0x00 + op * 8, 0xc0 | (register(pick) << 3) | [0, 2, 3, 4, 6, 7][pick(6)]); break; // op r/m8, r8 (AH, DH, BH too)
      case 7: body.push(0x66, 0x01 + op * 8, modrm); break; // op r/m16, r16
      case 8: body.push(0x8d, 0x44 | (notEcx() << 3), (pick(4) << 6) | (register(pick) << 3) | register(pick), pick(256)); break; // lea
      case 9: body.push(0x0f, 0x31); break; // rdtsc: exact counts inside a looping block
      default: body.push(0x89, modrm); break; // mov
    }
  }
  const iterations = 50 + pick(200);
  // mov ecx, n; top: body; dec ecx; jnz top; pushfd; hlt
  const jump = -(body.length + 3);
  return [0xb9, iterations, 0, 0, 0, ...body, 0x49, 0x75, jump & 0xff, 0x9c, 0xf4];
}

test.each(JITS)('random loops compiled ($name JIT) with registers in locals match the interpreter at every slice boundary (flags recorded on the way out)', ({ wasmJit }) => {
  for (let seed = 1; seed <= 60; seed++) {
    const code = loopProgram(seed);
    const [compiled, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(code, { decodedCache, jitThreshold: 1, wasmJit: decodedCache && wasmJit });
      m.cpu.reg32.set([0x80000001, 0x7fffffff, 0xffffffff, 0x12345678, 0, 0x0000ff80, 0x8000, 1]);
      m.cpu.reg32[4] = 0x20000;
      return m;
    });
    runInLockstep(compiled, interpreted, seed * 7919, 400, `seed ${seed} `);
    if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, `seed ${seed}: wasm regions`).toBeGreaterThan(0);
    expect(compiled.ram.subarray(0x1e000, 0x20000), `seed ${seed}: stack`).toEqual(interpreted.ram.subarray(0x1e000, 0x20000));
  }
}, 120_000);

test.each(JITS)('flags set on one page and read first thing on the next ($name JIT) come out as the interpreter has them', ({ wasmJit }) => {
  // Page 1 (CODE): mov esi, 3000; mov ebx, 0x9e3779b9; top: add eax, ebx; jmp page2
  // Page 2 (CODE + 0x1000): adc edx, 0; jc +1; inc ecx; sbb edi, 0; dec esi; jnz top; pushfd; hlt
  // ADC, JC and SBB read CF as the other page's block left it; a JIT that loses the flag
  // record between two compiled pages gets EDX, ECX or EDI wrong.
  const code = new Array<number>(0x1020).fill(0x90);
  const page1 = [0xbe, 0xb8, 0x0b, 0, 0, 0xbb, 0xb9, 0x79, 0x37, 0x9e, 0x01, 0xd8];
  const jmpAt = page1.length;
  const rel = 0x1000 - (jmpAt + 5);
  page1.push(0xe9, rel & 0xff, (rel >>> 8) & 0xff, 0, 0);
  page1.forEach((b, i) => (code[i] = b));
  const top = 10; // add eax, ebx
  const page2 = [0x83, 0xd2, 0x00, 0x72, 0x01, 0x41, 0x83, 0xdf, 0x00, 0x4e];
  const jnzAt = 0x1000 + page2.length;
  const back = top - (jnzAt + 6);
  page2.push(0x0f, 0x85, back & 0xff, (back >>> 8) & 0xff, (back >>> 16) & 0xff, (back >>> 24) & 0xff, 0x9c, 0xf4);
  page2.forEach((b, i) => (code[0x1000 + i] = b));
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, jitThreshold: 16, wasmJit: decodedCache && wasmJit });
    m.cpu.reg32[4] = 0x20000;
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    return m;
  });
  if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(1);
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});

/**
 * The page-fault tests' machine: paging on, the first 4 MiB identity-mapped except linear
 * 0x70000 (not present), #PF to its HLT stub, ESI walking up to that page from 0x6f000.
 */
function faultingMachine(code: number[], decodedCache: boolean, wasmJit: boolean): ProtectedMachine {
  const m = protectedMachine(code, { decodedCache, jitThreshold: 16, wasmJit: decodedCache && wasmJit });
  for (let page = 0; page < 1024; page++) put32(m.ram, 0x81000 + page * 4, page === 0x70 ? 0 : (page << 12) | 7);
  put32(m.ram, 0x80000, 0x81000 | 7);
  m.cpu.setControlRegister3(0x80000);
  m.cpu.setControlRegister0((m.cpu.cr0 | 0x80000000) >>> 0);
  m.setGate(14);
  m.cpu.reg32.set([0x7fffff00, 5000, 0, 0x1234, 0x20000, 0, 0x6f000, 0]);
  return m;
}

/** The #PF as the interpreter delivered it: CR2, the faulting EIP pushed, EFLAGS, registers, count. */
function expectSameFault(compiled: ProtectedMachine, interpreted: ProtectedMachine, eip: number): void {
  expect(compiled.cpu.cr2).toBe(0x70000);
  expect(compiled.cpu.peekStack(4, 4)).toBe(eip);
  expect(compiled.cpu.peekStack(4, 12)).toBe(interpreted.cpu.peekStack(4, 12)); // EFLAGS (the ADD's)
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
}

test.each(JITS)('a page fault inside a compiled loop ($name JIT) is delivered where and with what the interpreter has', ({ wasmJit }) => {
  // esi walks a present page dword by dword into a not-present one (linear 0x70000):
  //   l: add eax, ecx; mov edx, [esi]; add esi, 4; sub ebx, edx; loop l; hlt
  // The load faults once the loop is compiled (its slow path through JavaScript), with
  // the ADD's flags live: the #PF frame must hold the load's EIP and those flags, CR2 the
  // address, and the registers and instruction count what the interpreter has.
  const code = [0x01, 0xc8, 0x8b, 0x16, 0x83, 0xc6, 0x04, 0x29, 0xd3, 0xe2, 0xf5, 0xf4];
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = faultingMachine(code, decodedCache, wasmJit);
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    expect(m.handlerVector()).toBe(14);
    return m;
  });
  if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(0);
  expectSameFault(compiled, interpreted, CODE + 2); // EIP of mov edx, [esi]
});

test.each(JITS)('a page fault in a function on another page, reached region to region ($name JIT), is counted and delivered as interpreted', ({ wasmJit }) => {
  // Page 1 (CODE): l: add eax, ecx; call f; add esi, 4; loop l; hlt
  // Page 2 (CODE + 0x1000): f: mov edx, [esi]; sub ebx, edx; ret
  // Compiled, the call and the return go from one page's region straight into the
  // other's; the load faults at linear 0x70000 (not present) after ~1000 of them.
  const code = new Array<number>(0x1010).fill(0x90);
  const rel = 0x1000 - 7;
  [0x01, 0xc8, 0xe8, rel & 0xff, (rel >>> 8) & 0xff, 0, 0, 0x83, 0xc6, 0x04, 0xe2, 0xf4, 0xf4].forEach((b, i) => (code[i] = b));
  [0x8b, 0x16, 0x29, 0xd3, 0xc3].forEach((b, i) => (code[0x1000 + i] = b));
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = faultingMachine(code, decodedCache, wasmJit);
    for (let slice = 0; slice < 200 && !m.cpu.halted; slice++) m.cpu.run(997);
    expect(m.handlerVector()).toBe(14);
    return m;
  });
  if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(1);
  expectSameFault(compiled, interpreted, CODE + 0x1000); // EIP of mov edx, [esi]
});

test.each(JITS)('a function on another page rewritten while compiled loops call it ($name JIT) runs its new code', ({ wasmJit }) => {
  // Page 1: mov ecx, 1000; l: call f; add ebx, eax; cmp ecx, 500; jne s; mov byte [f+1], 2;
  //         s: dec ecx; jnz l; hlt          Page 2: f: mov eax, 1; ret
  // Halfway, the loop patches f to return 2: a way into f's old region (a link, the jump
  // cache, the wasm chain table) must not be taken after that.
  const code = new Array<number>(0x1010).fill(0x90);
  const rel = 0x1000 - 10;
  const f1 = CODE + 0x1001;
  [0xb9, 0xe8, 0x03, 0, 0, 0xe8, rel & 0xff, (rel >>> 8) & 0xff, 0, 0, 0x01, 0xc3, 0x81, 0xf9, 0xf4, 0x01, 0, 0, 0x75, 0x07,
    0xc6, 0x05, f1 & 0xff, (f1 >>> 8) & 0xff, (f1 >>> 16) & 0xff, 0, 0x02, 0x49, 0x75, 0xe7, 0xf4].forEach((b, i) => (code[i] = b));
  [0xb8, 0x01, 0, 0, 0, 0xc3].forEach((b, i) => (code[0x1000 + i] = b));
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, jitThreshold: 16, wasmJit: decodedCache && wasmJit });
    m.cpu.reg32[4] = 0x20000;
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    return m;
  });
  if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(1);
  expect(interpreted.cpu.reg32[3]).toBe(501 * 1 + 499 * 2); // ecx 1000..500 add 1, 499..1 add 2
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
});

test.each(JITS)('REP MOVS/STOS in a compiled loop ($name JIT): memory, registers and counts as interpreted, in slices', ({ wasmJit }) => {
  // Each pass: ECX = (ebx & 0x3ff) - 8 (some negative: huge counts, left to the
  // interpreter and cut by the slice), copies and fills at offsets that move (page
  // crossings, overlaps both ways, zero counts), with bytes, words and dwords:
  //   l: mov ecx, ebx; and ecx, 3ffh; sub ecx, 8; jb skip          (negative: skip)
  //      mov esi, 60000h; add esi, ebx; mov edi, 60010h; sub edi, ebp
  //      push ecx; rep movsb; pop ecx
  //      mov edi, 62ff0h; add edi, ebp; mov eax, 5a5a5a5ah; shr ecx, 2; rep stosd
  //      mov ecx, ebp; and ecx, 7; mov edi, 64000h; add edi, ebx; mov esi, edi; add esi, 3
  //      rep movsw; mov ax, 1234h; mov ecx, 3; rep stosw
  //      mov esi, 65000h; add esi, ebp; lea edi, [esi+1]; mov ecx, ebp; and ecx, 7; add ecx, 2
  //      mov [esi], dl; mov [esi+1], bl; rep movsb                                          (a copy onto itself, one byte on:
  //                                                           forward, it repeats the first byte)
  //   skip: imul ebx, ebx, 0x19660d; add ebx, 0x3c6ef35f; shr ebx, 12; add ebp, 37; and ebp, 0x3f
  //      dec edx; jnz l; hlt
  const asm = [
    0x89, 0xd9, 0x81, 0xe1, 0xff, 0x03, 0, 0, 0x83, 0xe9, 0x08, 0x0f, 0x82, 0, 0, 0, 0, // jb rel32, patched below
    0xbe, 0, 0, 0x06, 0, 0x01, 0xde, 0xbf, 0x10, 0, 0x06, 0, 0x29, 0xef,
    0x51, 0xf3, 0xa4, 0x59,
    0xbf, 0xf0, 0x2f, 0x06, 0, 0x01, 0xef, 0xb8, 0x5a, 0x5a, 0x5a, 0x5a, 0xc1, 0xe9, 0x02, 0xf3, 0xab,
    0x89, 0xe9, 0x83, 0xe1, 0x07, 0xbf, 0, 0x40, 0x06, 0, 0x01, 0xdf, 0x89, 0xfe, 0x83, 0xc6, 0x03,
    0x66, 0xf3, 0xa5, 0x66, 0xb8, 0x34, 0x12, 0xb9, 0x03, 0, 0, 0, 0x66, 0xf3, 0xab,
    0xbe, 0, 0x50, 0x06, 0, 0x01, 0xee, 0x8d, 0x7e, 0x01, 0x89, 0xe9, 0x83, 0xe1, 0x07, 0x83, 0xc1, 0x02, 0x88, 0x16, 0x88, 0x5e, 0x01, 0xf3, 0xa4,
  ];
  const skip = asm.length;
  asm[13] = skip - 17;
  asm.push(0x69, 0xdb, 0x0d, 0x66, 0x19, 0x00, 0x81, 0xc3, 0x5f, 0xf3, 0x6e, 0x3c, 0xc1, 0xeb, 0x0c, 0x83, 0xc5, 0x25, 0x83, 0xe5, 0x3f, 0x4a);
  const back = -(asm.length + 6); // jnz rel32 to l
  asm.push(0x0f, 0x85, back & 0xff, (back >>> 8) & 0xff, (back >>> 16) & 0xff, (back >>> 24) & 0xff, 0xf4);
  const machines = [true, false].map((decodedCache) => {
    const m = protectedMachine(asm, { decodedCache, jitThreshold: 16, wasmJit: decodedCache && wasmJit });
    for (let i = 0; i < 0x8000; i++) m.ram[0x60000 + i] = (i * 7 + 3) & 0xff;
    m.cpu.reg32.set([0, 0, 3000, 0x12345, 0x20000, 5, 0, 0]);
    return m;
  });
  const [compiled, interpreted] = machines;
  for (let slice = 0; slice < 5000 && !compiled.cpu.halted; slice++) {
    compiled.cpu.run(997);
    const behind = compiled.cpu.instructionCount - interpreted.cpu.instructionCount;
    if (behind > 0) interpreted.cpu.run(behind);
    expect(interpreted.cpu.instructionCount, `slice ${slice}`).toBe(compiled.cpu.instructionCount);
    expect([...compiled.cpu.reg32], `slice ${slice}`).toEqual([...interpreted.cpu.reg32]);
  }
  expect(compiled.cpu.halted).toBe(true);
  if (wasmJit) expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(0);
  expect(compiled.ram.subarray(0x60000, 0x68000)).toEqual(interpreted.ram.subarray(0x60000, 0x68000));
}, 60_000);

/** One loop pass: EDX:EAX / DIV divisor, then EDX:EAX / IDIV divisor (each dividend its own). */
type DivisionRow = { div: [number, number, number]; idiv: [number, number, number] };

/** Rows of 64-bit divisions that do not fault, as Linux's mpihelp_divrem makes them (EDX non-zero, a divisor in memory). */
function divisionRows(count: number): DivisionRow[] {
  const pick = random(7);
  const u32 = (): number => (pick(0x10000) * 0x10000 + pick(0x10000)) >>> 0;
  const rows: DivisionRow[] = [
    { div: [0xfffffffe, 0xffffffff, 0xffffffff], idiv: [0xffffffff, 0x80000000, 1] }, // quotients 0xffffffff and -2^31: the edges
    { div: [0, 5, 7], idiv: [0, 5, 0xffffffff] }, // IDIV by -1 (left to the interpreter)
    { div: [0x7fffffff, 0, 0x80000000], idiv: [0x3fffffff, 0, 0x7fffffff] },
  ];
  while (rows.length < count) {
    const divisor = u32() | 1;
    const high = u32() % divisor;
    const shift = pick(33);
    const idivDivisor = (u32() >>> (1 + pick(31))) * (pick(2) ? -1 : 1) || 3;
    const dividend = BigInt.asIntN(64, BigInt(u32() | 0) << BigInt(shift)) ;
    const q = dividend / BigInt(idivDivisor);
    if (q < -0x80000000n || q > 0x7fffffffn) continue;
    const bits = BigInt.asUintN(64, dividend);
    rows.push({ div: [high, u32(), divisor], idiv: [Number(bits >> 32n), Number(bits & 0xffffffffn), idivDivisor >>> 0] });
  }
  return rows;
}

/**
 * The loop over the rows at 0x60000 (32 bytes each), ECX of them:
 *   l: mov edx, [ebx]; mov eax, [ebx+4]; div dword [ebx+8]; add esi, eax; xor edi, edx
 *      mov edx, [ebx+12]; mov eax, [ebx+16]; idiv dword [ebx+20]; add esi, eax; xor edi, edx
 *      add ebx, 32; loop l; hlt
 */
const DIVISION_LOOP = [
  0x8b, 0x13, 0x8b, 0x43, 0x04, 0xf7, 0x73, 0x08, 0x01, 0xc6, 0x31, 0xd7,
  0x8b, 0x53, 0x0c, 0x8b, 0x43, 0x10, 0xf7, 0x7b, 0x14, 0x01, 0xc6, 0x31, 0xd7,
  0x83, 0xc3, 0x20, 0xe2, 0xe0, 0xf4,
];

test.each([
  { name: 'no fault', last: undefined, eip: -1 },
  { name: 'DIV by zero', last: { div: [0, 1, 0], idiv: [0, 1, 1] }, eip: CODE + 5 },
  { name: 'DIV quotient too big', last: { div: [7, 0, 7], idiv: [0, 1, 1] }, eip: CODE + 5 },
  { name: 'IDIV quotient 2^31', last: { div: [0, 1, 1], idiv: [0, 0x80000000, 1] }, eip: CODE + 18 },
  { name: 'IDIV of -2^63 by -1', last: { div: [0, 1, 1], idiv: [0x80000000, 0, 0xffffffff] }, eip: CODE + 18 },
  { name: 'IDIV by zero', last: { div: [0, 1, 1], idiv: [0, 1, 0] }, eip: CODE + 18 },
] as { name: string; last?: DivisionRow; eip: number }[])('DIV/IDIV r/m32 with 64-bit dividends in a compiled loop (wasm JIT): results, and #DE where the interpreter raises it ($name)', ({ last, eip }) => {
  const rows = divisionRows(200);
  if (last) rows.push(last);
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(DIVISION_LOOP, { decodedCache, jitThreshold: 16, wasmJit: decodedCache });
    rows.forEach((row, i) => [...row.div, ...row.idiv].forEach((v, k) => put32(m.ram, 0x60000 + i * 32 + k * 4, v)));
    m.setGate(0);
    m.cpu.reg32.set([0, rows.length, 0, 0x60000, 0x20000, 0, 0, 0]);
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    return m;
  });
  expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(0);
  expect(compiled.handlerVector()).toBe(last ? 0 : -1);
  if (last) expect(compiled.cpu.peekStack(4, 0)).toBe(eip); // #DE points at the divide
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  expect(interpreted.handlerVector()).toBe(compiled.handlerVector());
});

test('a loop longer than a decoded block, run in slices that end anywhere in it, compiles (wasm JIT) as one member and computes as interpreted', () => {
  // ecx = 20000; l: 48 register ALU instructions; dec ecx; jnz l; hlt. The decoder cuts the
  // body after 32 instructions, and each slice of 997 ends inside it: neither place may end
  // the loop's compiled code (every instruction once became a member of its own).
  const body: number[] = [];
  const dst = [EAX, EDX, EBX, EBP, ESI, EDI];
  for (let i = 0; i < 48; i++) body.push([0x01, 0x31, 0x29, 0x11][i % 4], 0xc0 | (dst[(i * 5) % 6] << 3) | dst[i % 6]); // add/xor/sub/adc r/m32, r32
  const code = [0xb9, 0x20, 0x4e, 0, 0, ...body, 0x49, 0x75, (-(body.length + 3)) & 0xff, 0xf4];
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    // A low threshold: places hit ~20 times each by slice ends would be members (a quarter of it).
    const m = protectedMachine(code, { decodedCache, wasmJit: decodedCache, jitThreshold: 40 });
    m.cpu.reg32.set([1, 0, 3, 4, 0x20000, 6, 7, 8]);
    while (!m.cpu.halted) m.cpu.run(997);
    return m;
  });
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  const table = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)!;
  const loop = table[(CODE + 5) & 0xfff]?.compiled;
  expect(loop?.region, 'the loop is a region member').toBe(true);
  expect(loop!.count, "instructions in one pass of its member").toBe(48 + 2);
});

test('an instruction that runs on into the next page is compiled into its page\'s region (wasm JIT), and still follows the next page when the guest rewrites it', () => {
  // mov esi, 2; outer: mov ecx, 3000; jmp top; ... top (page offset 0xff9): inc ebx;
  // and ebx, 63; mov edx, [ebx*4 + 0x60000] (3 bytes on this page, 4 on the next);
  // add eax, edx; dec ecx; jnz top; dec esi; jz done; mov byte [displacement byte 2], 7
  // (the loop now reads 0x70000); jmp outer; done: hlt.
  const TOP = 0xff9;
  const code: number[] = [0xbe, 2, 0, 0, 0, 0xb9, 0xb8, 0x0b, 0, 0, 0xe9, ...le32(TOP - 15)];
  while (code.length < TOP) code.push(0x90);
  code.push(0x43, 0x83, 0xe3, 0x3f, 0x8b, 0x14, 0x9d, 0x00, 0x00, 0x06, 0x00); // 0xff9..0x1003
  code.push(0x01, 0xd0, 0x49, 0x75, (TOP - 0x1009) & 0xff, 0x4e, 0x74, 0x0c); // ..0x100b
  code.push(0xc6, 0x05, ...le32(CODE + 0x1002), 0x07, 0xe9, ...le32(5 - 0x1018), 0xf4); // ..0x1018
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, wasmJit: decodedCache, jitThreshold: 16 });
    for (let i = 0; i < 64; i++) {
      put32(m.ram, 0x60000 + i * 4, i * 7 + 1);
      put32(m.ram, 0x70000 + i * 4, i * 1000 + 13);
    }
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    return m;
  });
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  const loop = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)![TOP]?.compiled;
  expect(loop?.region, 'the loop head is a region member').toBe(true);
  expect(loop!.count, 'inc, and, and the crossing mov in one pass of its member').toBe(3);
});

function le32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

test('REPNE SCASB and REPE CMPSB in a compiled loop (wasm JIT): registers, flags and counts as interpreted at every slice end, strings across pages included', () => {
  // edx = 400; ebp = 0; ebx = 0x60000; top: strlen(ebx) by edi = ebx, eax = 0, ecx = -1,
  // repne scasb, ebp += ecx; then compare ecx = edx & 31 bytes at ebx and ebx + 0x801 by
  // repe cmpsb (ecx may be 0), ebp += seta + ecx; ebx += 29; dec edx; jnz top; hlt.
  const body = [
    0x89, 0xdf, 0x31, 0xc0, 0xb9, 0xff, 0xff, 0xff, 0xff, 0xf2, 0xae, 0x01, 0xcd,
    0x89, 0xde, 0x8d, 0xbb, 0x01, 0x08, 0x00, 0x00, 0x89, 0xd1, 0x83, 0xe1, 0x1f, 0xf3, 0xa6,
    0x0f, 0x97, 0xc0, 0x01, 0xc5, 0x01, 0xcd, 0x83, 0xc3, 0x1d, 0x4a,
  ];
  const code = [0xba, 0x90, 0x01, 0, 0, 0x31, 0xed, 0xbb, 0x00, 0x00, 0x06, 0x00, ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4];
  const next = random(4242);
  const text = Array.from({ length: 0x4000 }, () => (next(16) === 0 ? 0 : 0x61 + next(2))); // 'a'/'b' runs, zeros
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, wasmJit: decodedCache, jitThreshold: 16 });
    m.ram.set(text, 0x60000);
    return m;
  });
  runInLockstep(compiled, interpreted, 77, 300);
  const table = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)!;
  expect(table[12 + 9]?.compiled?.region, 'REPNE SCASB starts a region member').toBe(true);
  expect(table[12 + 26]?.compiled?.region, 'REPE CMPSB starts a region member').toBe(true);
});

test.each([
  { name: 'a source that counts instructions, counted on in wasm', source: (count: number) => count + 12345, counts: true, offset: 0n },
  { name: 'a TSC offset (WRMSR), asked of JavaScript', source: (count: number) => count, counts: true, offset: 1000n },
  { name: 'a source at another rate, asked of JavaScript', source: (count: number) => count * 3 + 7, counts: false, offset: 0n },
])('RDTSC in regions reached by chaining from another page reads what the interpreter reads, at every slice end ($name)', ({ source, counts, offset }) => {
  // Page 1 (CODE): mov esi, 3000; top: add ebp, esi; jmp page2. Page 2: rdtsc; add edi, eax;
  // adc ecx, edx; dec esi; jnz top; hlt. Page 2's region is entered by chaining from page 1's,
  // after instructions page 1 retired in the same run.
  const code = new Array<number>(0x1020).fill(0x90);
  const page1 = [0xbe, 0xb8, 0x0b, 0, 0, 0x01, 0xf5];
  const rel = 0x1000 - (page1.length + 5);
  page1.push(0xe9, ...le32(rel));
  page1.forEach((b, i) => (code[i] = b));
  const page2 = [0x0f, 0x31, 0x01, 0xc7, 0x11, 0xd1, 0x4e];
  const back = 5 - (0x1000 + page2.length + 6);
  page2.push(0x0f, 0x85, ...le32(back), 0xf4);
  page2.forEach((b, i) => (code[0x1000 + i] = b));
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, jitThreshold: 16, wasmJit: decodedCache });
    m.cpu.timeStampSource = () => source(m.cpu.instructionCount);
    m.cpu.timeStampCountsInstructions = counts;
    m.cpu.msr.tscOffset = offset;
    return m;
  });
  runInLockstep(compiled, interpreted, 5, 500);
  expect(compiled.cpu.wasmJit!.compiled, 'wasm regions').toBeGreaterThan(1);
});

test('a region runs on under a segment mode that differs only in segments its code does not use (Linux: a process\'s TLS in GS), and is refused when one it uses changes (wasm JIT)', () => {
  // mov ecx, 30000; top: mov edx, [ebx*4 + 0x60000]; add eax, edx; inc ebx; and ebx, 63;
  // dec ecx; jnz top; hlt. Run in three phases: GS flat at 0; GS based at 0x1000 (not used
  // by the loop); DS based at 0x100 (used: the loop reads through DS).
  const code = [0xb9, 0x30, 0x75, 0, 0, 0x8b, 0x14, 0x9d, 0x00, 0x00, 0x06, 0x00, 0x01, 0xd0, 0x43, 0x83, 0xe3, 0x3f, 0x49, 0x75, 0xf0, 0xf4];
  const GS = 5;
  const refusals: number[][] = [];
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, wasmJit: decodedCache, jitThreshold: 16 });
    for (let i = 0; i < 256; i++) put32(m.ram, 0x60000 + i * 4, i * 7 + 1);
    const flat = (seg: number, base: number) => m.cpu.setSegmentCache(seg, m.cpu.segSelector[DS], base, 0xffffffff, m.cpu.segAttr[DS]);
    let refused = 0;
    const jit = m.cpu.wasmJit;
    if (jit) {
      const run = jit.run.bind(jit);
      jit.run = (member, budget) => {
        const r = run(member, budget);
        if (r === -1) refused++;
        return r;
      };
    }
    const counts: number[] = [];
    flat(GS, 0);
    m.cpu.run(20_000);
    counts.push(refused);
    flat(GS, 0x1000);
    m.cpu.run(40_000);
    counts.push(refused - counts[0]);
    flat(DS, 0x100);
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    counts.push(refused - counts[0] - counts[1]);
    refusals.push(counts);
    return m;
  });
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  const loop = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)![5]?.compiled;
  expect(loop?.region, 'the loop is a region member').toBe(true);
  const [, otherGs, otherDs] = refusals[0];
  expect(otherGs, 'region runs refused after GS changed (the loop does not use GS)').toBe(0);
  expect(otherDs, 'region runs refused after DS changed (the loop reads through DS)').toBeGreaterThan(0);
});

/** `mov ebp, iterations; top: body (ending in dec ebp); jnz top; hlt`: the body starts at offset 5. */
function countedLoop(iterations: number, body: number[]): number[] {
  return [0xbd, ...le32(iterations), ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4];
}

/** `code` run to HLT with the wasm JIT (threshold 16) and interpreted, each machine set up by `setup` first. */
function compiledAndInterpreted(code: number[], setup: (m: ProtectedMachine) => void): [ProtectedMachine, ProtectedMachine] {
  const [compiled, interpreted] = [true, false].map((decodedCache) => {
    const m = protectedMachine(code, { decodedCache, wasmJit: decodedCache, jitThreshold: 16 });
    setup(m);
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    return m;
  });
  return [compiled, interpreted];
}

/** Registers, flags, instruction counts and RAM [from, to) alike in both machines. */
function expectSameState(compiled: ProtectedMachine, interpreted: ProtectedMachine, from: number, to: number): void {
  expect([...compiled.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  expect(compiled.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
  expect(compiled.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  expect(compiled.ram.subarray(from, to)).toEqual(interpreted.ram.subarray(from, to));
}

/** countedLoop's body (from CODE + 5) is one region member, `count` instructions in a pass. */
function expectLoopInOneMember(compiled: ProtectedMachine, count: number): void {
  const loop = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)![5]?.compiled;
  expect(loop?.region, 'the loop is a region member').toBe(true);
  expect(loop!.count, 'the whole loop body in one pass of its member').toBe(count);
}

test('PUSHF, CLI, CMPXCHG8B and BTS with a memory operand and a register offset (through the interpreter\'s handlers), CLD, SHLD/SHRD and BT* (compiled) run inside a compiled loop (wasm JIT) with the same results, flags and counts', () => {
  // ebp = 3000; top: shrd eax, edx, 7; shld ebx, eax, cl; pushfd; pop esi; cli; cld;
  // bts [edi], ecx; btr edx, 3; bt eax, ebx; setc cl; btc dword [edi+4], 9; add eax, esi;
  // mov ecx, eax; and ecx, 31; cmpxchg8b [edi+8]; shrd [edi+16], edx, cl; shld [edi+20], eax, 5;
  // inc edx; dec ebp; jnz top; hlt (CL takes every value 0-31 on the way)
  const body = [
    0x0f, 0xac, 0xd0, 0x07, 0x0f, 0xa5, 0xc3, 0x9c, 0x5e, 0xfa, 0xfc,
    0x0f, 0xab, 0x0f, 0x0f, 0xba, 0xf2, 0x03, 0x0f, 0xa3, 0xd8, 0x0f, 0x92, 0xc1,
    0x0f, 0xba, 0x7f, 0x04, 0x09, 0x01, 0xf0, 0x89, 0xc1, 0x83, 0xe1, 0x1f,
    0x0f, 0xc7, 0x4f, 0x08, 0x0f, 0xad, 0x57, 0x10, 0x0f, 0xa4, 0x47, 0x14, 0x05, 0x42, 0x4d,
  ];
  const [compiled, interpreted] = compiledAndInterpreted(countedLoop(3000, body), (m) => {
    m.cpu.reg32.set([0x12345678, 5, 0x9abcdef0, 0x0fedcba9, 0x20000, 0, 0, 0x60000]);
  });
  expectSameState(compiled, interpreted, 0x60000, 0x60020);
  expectLoopInOneMember(compiled, 20);
});

test('SHLD/SHRD r/m32 by CL (every count 0-31) and by imm8, on registers and memory, compiled (wasm JIT): every result and flags value as interpreted', () => {
  // ebp = 3000; top: mov ecx, ebp; and ecx, 31; then five double shifts, each followed by
  // pushfd; pop esi; add ebx, esi (every flags value lands in ebx): shrd eax, edx, cl;
  // shld edx, eax, cl; shrd eax, ebx, 13; shld [edi], eax, cl; shrd [edi+4], edx, 1;
  // xor eax, ebp; dec ebp; jnz top; hlt
  const flagsIntoEbx = [0x9c, 0x5e, 0x01, 0xf3];
  const body = [
    0x89, 0xe9, 0x83, 0xe1, 0x1f,
    0x0f, 0xad, 0xd0, ...flagsIntoEbx,
    0x0f, 0xa5, 0xc2, ...flagsIntoEbx,
    0x0f, 0xac, 0xd8, 0x0d, ...flagsIntoEbx,
    0x0f, 0xa5, 0x07, ...flagsIntoEbx,
    0x0f, 0xac, 0x57, 0x04, 0x01, ...flagsIntoEbx,
    0x31, 0xe8, 0x4d,
  ];
  const [compiled, interpreted] = compiledAndInterpreted(countedLoop(3000, body), (m) => {
    m.cpu.reg32.set([0x12345678, 0, 0x9abcdef0, 0x0fedcba9, 0x20000, 0, 0, 0x60000]);
    put32(m.ram, 0x60000, 0x80000001);
    put32(m.ram, 0x60004, 0x7ffffffe);
  });
  expectSameState(compiled, interpreted, 0x60000, 0x60008);
  expectLoopInOneMember(compiled, 25);
});

test('BT/BTS/BTR/BTC compiled (wasm JIT) change only CF: ZF from the ADD before them, CF for ADC/SBB after, every flags value and memory as interpreted', () => {
  // ebp = 3000; top: add eax, ebx; bt eax, 3; setz cl; adc edx, 0; btc esi, edx; bt dword [edi], 7;
  // sbb eax, 0; btr dword [edi+4], 1; pushfd; pop ecx; add ebx, ecx; inc dword [edi]; dec ebp; jnz top; hlt
  const body = [
    0x01, 0xd8, 0x0f, 0xba, 0xe0, 0x03, 0x0f, 0x94, 0xc1, 0x83, 0xd2, 0x00, 0x0f, 0xbb, 0xd6,
    0x0f, 0xba, 0x27, 0x07, 0x83, 0xd8, 0x00, 0x0f, 0xba, 0x77, 0x04, 0x01, 0x9c, 0x59, 0x01, 0xcb,
    0xff, 0x07, 0x4d,
  ];
  const [compiled, interpreted] = compiledAndInterpreted(countedLoop(3000, body), (m) => {
    m.cpu.reg32.set([0x12345678, 0, 0x9abcdef0, 0x0fedcba9, 0x20000, 0, 0x55, 0x60000]);
    put32(m.ram, 0x60004, 0xffffffff);
  });
  expectSameState(compiled, interpreted, 0x60000, 0x60008);
  expectLoopInOneMember(compiled, 14);
});

test('CLD/STD compiled (wasm JIT): string elements after them step the way DF says, and pushed flags show DF, as interpreted', () => {
  // ebp = 300; top: std; movsb; cld; movsb; pushfd; pop ecx; add ebx, ecx; std; pushfd; pop ecx;
  // add ebx, ecx; cld; dec ebp; jnz top; hlt
  const body = [0xfd, 0xa4, 0xfc, 0xa4, 0x9c, 0x59, 0x01, 0xcb, 0xfd, 0x9c, 0x59, 0x01, 0xcb, 0xfc, 0x4d];
  const [compiled, interpreted] = compiledAndInterpreted(countedLoop(300, body), (m) => {
    for (let i = 0; i < 0x100; i++) m.ram[0x60100 + i] = i;
    m.cpu.reg32.set([0, 0, 0, 0, 0x20000, 0, 0x60180, 0x60280]);
  });
  expectSameState(compiled, interpreted, 0x60100, 0x60300);
  // The closure decoder ends its blocks at MOVSB, so the loop's members are short: STD and CLD
  // are members of their own.
  const table = compiled.cpu.memory.codeCache.existingTable(CODE >>> 12, 4)!;
  expect(table[5]?.compiled?.region, 'STD is a region member').toBe(true);
  expect(table[7]?.compiled?.region, 'CLD is a region member').toBe(true);
});
