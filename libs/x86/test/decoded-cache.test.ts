import { describe, expect, test } from 'vitest';
import { StopReason } from '../src/index.js';
import { CODE, protectedMachine, put32, type ProtectedMachine } from './support/protected-machine.js';

const HLT = 0xf4;

/** Identity-maps the first 4 MiB (user, writable) and turns paging on. */
function enablePaging(m: ProtectedMachine): void {
  for (let page = 0; page < 1024; page++) put32(m.ram, 0x81000 + page * 4, (page << 12) | 7);
  put32(m.ram, 0x80000, 0x81000 | 7);
  m.cpu.setControlRegister3(0x80000);
  m.cpu.setControlRegister0((m.cpu.cr0 | 0x80000000) >>> 0);
}

/** The bench loop: ALU, store, shift, Jcc, LOOP, JMP; never halts. */
const LOOP = [
  0xb9, 0x00, 0x01, 0x00, 0x00, //  mov ecx, 100h
  0xbe, 0x00, 0x00, 0x06, 0x00, //  mov esi, 60000h
  0x01, 0xd8, //                 l: add eax, ebx
  0x31, 0xc2, //                    xor edx, eax
  0x46, //                          inc esi
  0x88, 0x06, //                    mov [esi], al
  0xd1, 0xe3, //                    shl ebx, 1
  0x75, 0x01, //                    jnz +1
  0x43, //                          inc ebx
  0x66, 0x83, 0xc7, 0xfd, //        add di, -3
  0x0f, 0xb6, 0x16, //              movzx edx, byte [esi]
  0xe2, 0xeb, //                    loop l
  0xeb, 0xdf, //                    jmp 0 (reload ecx, esi)
];

/**
 * Self-modifying code: the first pass runs `mov eax, 1`, then patches its
 * immediate to 2 and jumps back; the second pass must see the new byte.
 */
const SELF_MODIFYING = [
  0xb8, 0x01, 0x00, 0x00, 0x00, //  +0:  mov eax, 1
  0x41, //                          +5:  inc ecx
  0x83, 0xf9, 0x02, //              +6:  cmp ecx, 2
  0x74, 0x0c, //                    +9:  je +23
  0xc6, 0x05, 0x01, 0x00, 0x01, 0x00, 0x02, // +11: mov byte [CODE+1], 2
  0xeb, 0xec, //                    +18: jmp +0
  0x90, 0x90, 0x90, //              +20
  HLT, //                           +23
];

describe('decoded-instruction cache', () => {
  test('self-modifying code runs the bytes it wrote', () => {
    for (const decodedCache of [true, false]) {
      const m = protectedMachine(SELF_MODIFYING, { decodedCache });
      m.cpu.reg32[1] = 0;
      expect(m.cpu.run(100)).toBe(StopReason.Halted);
      expect(m.cpu.reg32[0]).toBe(2);
      expect(m.cpu.reg32[1]).toBe(2);
    }
  });

  test('self-modifying code through a paged alias of the code page is seen', () => {
    const m = protectedMachine([]);
    enablePaging(m);
    // Linear 0x400000 is a second, writable mapping of the physical code page.
    put32(m.ram, 0x80004, 0x82000 | 7);
    put32(m.ram, 0x82000, CODE | 7);
    const code = [
      0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
      0x41, // inc ecx
      0x83, 0xf9, 0x02, // cmp ecx, 2
      0x74, 0x0c, // je hlt
      0xc6, 0x05, 0x01, 0x00, 0x40, 0x00, 0x05, // mov byte [400001h], 5
      0xeb, 0xec, // jmp back
      0x90, 0x90, 0x90,
      HLT,
    ];
    m.ram.set(code, CODE);
    m.cpu.invalidateCode(CODE, code.length);
    m.cpu.reg32[1] = 0;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(5);
  });

  test('a page remapped under the same linear address runs the new code', () => {
    const m = protectedMachine([]);
    enablePaging(m);
    const FRAME_A = 0x200000;
    const FRAME_B = 0x300000;
    m.ram.set([0xb8, 0xaa, 0, 0, 0, HLT], FRAME_A); // mov eax, 0AAh; hlt
    m.ram.set([0xb8, 0xbb, 0, 0, 0, HLT], FRAME_B); // mov eax, 0BBh; hlt
    put32(m.ram, 0x80004, 0x82000 | 7);
    put32(m.ram, 0x82000, FRAME_A | 7);
    m.cpu.eip = 0x400000;
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(0xaa);

    put32(m.ram, 0x82000, FRAME_B | 7);
    m.cpu.setControlRegister3(0x80000); // flush the TLB
    m.cpu.halted = false;
    m.cpu.eip = 0x400000;
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(0xbb);
  });

  test('a block remembered for an EIP is not run after INVLPG remaps that page (links and jump cache)', () => {
    // The same call site calls linear 0x400000 twice; between the calls the guest points
    // that page at another frame and INVLPGs it. A link or jump-cache entry still naming
    // the first frame's block would run the old code.
    const FRAME_A = 0x200000;
    const FRAME_B = 0x300000;
    const code = [
      0xb9, 0x02, 0x00, 0x00, 0x00, //                         +0:  mov ecx, 2
      0xe8, 0xf6, 0xff, 0x3e, 0x00, //                         +5:  call 400000h
      0x89, 0x04, 0x8d, 0x00, 0x00, 0x06, 0x00, //             +10: mov [ecx*4+60000h], eax
      0xc7, 0x05, 0x00, 0x20, 0x08, 0x00, 0x07, 0x00, 0x30, 0x00, // +17: mov dword [82000h], FRAME_B | 7
      0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00, //             +27: invlpg [400000h]
      0xe2, 0xe1, //                                           +34: loop +5
      HLT, //                                                  +36
    ];
    for (const decodedCache of [true, false]) {
      const m = protectedMachine(code, { decodedCache });
      enablePaging(m);
      m.ram.set([0xb8, 0xaa, 0, 0, 0, 0xc3], FRAME_A); // mov eax, 0AAh; ret
      m.ram.set([0xb8, 0xbb, 0, 0, 0, 0xc3], FRAME_B); // mov eax, 0BBh; ret
      put32(m.ram, 0x80004, 0x82000 | 7);
      put32(m.ram, 0x82000, FRAME_A | 7);
      expect(m.cpu.run(100)).toBe(StopReason.Halted);
      expect([m.ram[0x60008], m.ram[0x60004]]).toEqual([0xaa, 0xbb]);
    }
  });

  test('an instruction that runs on into the next page is run as decoded, and sees that page change', () => {
    // mov ecx, [eax*4 + 60000h] at CODE+0xffc ends at CODE+0x1003; the loop around it sums.
    // Then its displacement's high bytes (on the second page) change to 70000h: the
    // next run must read from there.
    const code = new Array<number>(0x1011).fill(0x90);
    const rel = 0xffc - 0x0f;
    [0xb8, 0, 0, 0, 0, 0xba, 0xe8, 0x03, 0, 0, 0xe9, rel & 0xff, (rel >>> 8) & 0xff, 0, 0].forEach((b, i) => (code[i] = b));
    [0x8b, 0x0c, 0x85, 0x00, 0x00, 0x06, 0x00, 0x01, 0xcb, 0x40, 0x83, 0xe0, 0x0f, 0x4a, 0x0f, 0x85, 0xec, 0xff, 0xff, 0xff, HLT].forEach((b, i) => (code[0xffc + i] = b));
    const [cached, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(code, { decodedCache });
      for (let i = 0; i < 64; i++) {
        m.ram[0x60000 + i] = i + 1;
        m.ram[0x70000 + i] = 100 + i;
      }
      m.cpu.reg32[3] = 0;
      expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
      const first = m.cpu.reg32[3];
      m.ram[CODE + 0x1001] = 0x07; // disp32 60000h -> 70000h
      m.cpu.invalidateCode(CODE + 0x1001, 1);
      m.cpu.halted = false;
      m.cpu.eip = CODE;
      m.cpu.reg32[3] = 0;
      expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
      return { m, first, second: m.cpu.reg32[3] };
    });
    expect(cached.first).toBe(interpreted.first);
    expect(cached.second).toBe(interpreted.second);
    expect(cached.second).not.toBe(cached.first);
    expect(cached.m.cpu.instructionCount).toBe(interpreted.m.cpu.instructionCount);
  });

  test('data written beside code in its page leaves the decoded code alone', () => {
    const code = [
      0xb9, 0xd0, 0x07, 0x00, 0x00, //       mov ecx, 2000
      0x88, 0x0d, 0x00, 0x08, 0x01, 0x00, // l1: mov [CODE+800h], cl (data in the code's own page)
      0x49, //                               dec ecx
      0x75, 0xf7, //                         jnz l1
      HLT,
    ];
    const m = protectedMachine(code);
    const table = () => m.cpu.memory.codeCache.existingTable(CODE >>> 12, 4);
    m.cpu.run(100);
    const loop = table()?.[5];
    expect(loop?.instructions.length, 'the loop is decoded').toBe(3);
    expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
    expect(m.ram[CODE + 0x800]).toBe(1);
    expect(table()?.[5], 'the same decoded loop, never dropped').toBe(loop);
  });

  test('a page whose code keeps writing its own code goes to the interpreter, and is decoded again ~2 M instructions after the writes stop', () => {
    const rel32 = (from: number, to: number) => { const d = to - from; return [d & 0xff, (d >>> 8) & 0xff, (d >>> 16) & 0xff, (d >>> 24) & 0xff]; };
    const PAGE_B = CODE + 0x2000;
    const code = [
      0xb9, 0xd0, 0x07, 0x00, 0x00, //                   mov ecx, 2000
      0x90, //                                           l1: nop
      0xc6, 0x05, 0x05, 0x00, 0x01, 0x00, 0x90, //       mov byte [CODE+5], 90h (the nop above, rewritten as it is)
      0x49, //                                           dec ecx
      0x75, 0xf5, //                                     jnz l1
      0xe9, ...rel32(CODE + 21, PAGE_B), //              jmp page B
    ];
    const tail = [0xba, 0x32, 0x00, 0x00, 0x00, 0x4a, 0x75, 0xfd, HLT]; // CODE+100h: mov edx, 50; l3: dec edx; jnz l3; hlt
    const pageB = [
      0xb9, 0x80, 0x4f, 0x12, 0x00, //      mov ecx, 1200000
      0x49, 0x75, 0xfd, //                  l2: dec ecx; jnz l2 (2.4 M instructions, no writes)
      0xe9, ...rel32(PAGE_B + 13, CODE + 0x100), // jmp CODE+100h
    ];
    const m = protectedMachine(code);
    m.ram.set(tail, CODE + 0x100);
    m.ram.set(pageB, PAGE_B);
    const table = () => m.cpu.memory.codeCache.existingTable(CODE >>> 12, 4);
    m.cpu.run(8001); // the writing loop, up to the jump
    expect(m.cpu.reg32[1]).toBe(0);
    expect(table(), 'the page is left to the interpreter').toBeUndefined();
    for (let slice = 0; slice < 100 && !m.cpu.halted; slice++) m.cpu.run(100_000);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.reg32[2]).toBe(0);
    expect(table(), 'the page is decoded again').toBeDefined();
  });

  test('invalidateCode drops code written behind the CPU (DMA)', () => {
    const m = protectedMachine([0xb8, 0x01, 0, 0, 0, HLT]); // mov eax, 1; hlt
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(1);

    m.ram[CODE + 1] = 7; // a device writes RAM directly
    m.cpu.invalidateCode(CODE + 1, 1);
    m.cpu.halted = false;
    m.cpu.eip = CODE;
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(7);
  });

  test('instruction counts, registers and memory match the interpreter exactly', () => {
    const [cached, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(LOOP, { decodedCache });
      enablePaging(m);
      m.cpu.reg32[3] = 0x1234567;
      for (let chunk = 0; chunk < 50; chunk++) m.cpu.run(997);
      return m;
    });
    expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
    expect(cached.cpu.eip).toBe(interpreted.cpu.eip);
    expect([...cached.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
    expect(cached.cpu.getFlags()).toBe(interpreted.cpu.getFlags());
    expect(cached.ram.subarray(0x60000, 0x70000)).toEqual(interpreted.ram.subarray(0x60000, 0x70000));
  });

  test('a fault in a decoded instruction restarts it with EIP at its first byte', () => {
    const m = protectedMachine([0x90, 0x8b, 0x05, 0x00, 0x00, 0x80, 0x00, HLT]); // nop; mov eax, [800000h] (beyond 4 MiB: unmapped)
    enablePaging(m);
    m.setGate(14);
    m.cpu.run(3);
    expect(m.handlerVector()).toBe(14); // #PF
    expect(m.cpu.cr2).toBe(0x800000);
    expect(m.cpu.peekStack(4, 4)).toBe(CODE + 1); // pushed EIP (after the error code)
    expect(m.cpu.instructionCount).toBe(3);
  });

  test('a store into the rest of the running block is seen by the next instruction', () => {
    const m = protectedMachine([
      0xc6, 0x05, 0x08, 0x00, 0x01, 0x00, 0x05, // mov byte [CODE+8], 5
      0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (its immediate is CODE+8)
      HLT,
    ]);
    m.ram.set([0xc6, 0x05, 0x08, 0x00, 0x01, 0x00, 0x05], CODE);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.reg32[0]).toBe(5);
  });

  test('an interrupt raised between two run() slices is taken at the same instruction as in the interpreter', () => {
    // The machines raise IRQs between slices (deadlines set the slice length), so
    // what must match is: run(n) stops exactly, and a pending interrupt is taken first.
    const [cached, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(LOOP, { decodedCache });
      m.setGate(0x40);
      m.cpu.setFlags(0x202);
      let pending = false;
      m.cpu.interruptSource = { hasInterrupt: () => pending, acknowledge: () => ((pending = false), 0x40) };
      expect(m.cpu.run(1234)).toBe(StopReason.InstructionLimit);
      pending = true;
      expect(m.cpu.run(5000)).toBe(StopReason.Halted);
      return m;
    });
    expect(cached.handlerVector()).toBe(0x40);
    expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
    expect(cached.cpu.peekStack(4, 0)).toBe(interpreted.cpu.peekStack(4, 0)); // return EIP
    expect([...cached.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
  });

  test('run(n) stops after exactly n instructions inside a block', () => {
    const m = protectedMachine(LOOP);
    for (let n = 1; n <= 20; n++) {
      const before = m.cpu.instructionCount;
      m.cpu.run(n);
      expect(m.cpu.instructionCount - before).toBe(n);
    }
  });

  test('indirect CALL and JMP end their block and land where the interpreter does', () => {
    const code = [
      0xb8, 0x20, 0x00, 0x01, 0x00, // +0:  mov eax, CODE+20h
      0xff, 0xd0, //                   +5:  call eax
      0x41, //                         +7:  inc ecx (after the return)
      0xbb, 0x30, 0x00, 0x01, 0x00, // +8:  mov ebx, CODE+30h
      0xff, 0xe3, //                   +13: jmp ebx
      0x42, //                         +15: inc edx (skipped)
      HLT,
    ];
    const [cached, interpreted] = [true, false].map((decodedCache) => {
      const m = protectedMachine(code, { decodedCache });
      m.ram.set([0x46, 0xc3], CODE + 0x20); // inc esi; ret
      m.ram.set([0x47, HLT], CODE + 0x30); // inc edi; hlt
      m.cpu.reg32.set([0, 0, 0, 0], 0);
      expect(m.cpu.run(100)).toBe(StopReason.Halted);
      return m;
    });
    expect(cached.cpu.eip).toBe(CODE + 0x32);
    expect([...cached.cpu.reg32]).toEqual([...interpreted.cpu.reg32]);
    expect(cached.cpu.reg32[1]).toBe(1); // ecx: returned
    expect(cached.cpu.reg32[2]).toBe(0); // edx: jumped over
    expect(cached.cpu.reg32[6]).toBe(1);
    expect(cached.cpu.reg32[7]).toBe(1);
    expect(cached.cpu.instructionCount).toBe(interpreted.cpu.instructionCount);
  });
});
