import { describe, expect, test } from 'vitest';
import { CpuFault } from '../src/index.js';
import { DS, ESP } from '../src/registers.js';
import { PF_PROTECTION, PF_USER, PF_WRITE, PTE_ACCESSED, PTE_DIRTY } from '../src/paging/page-walk.js';
import { CODE, enterRing3, get32, HANDLERS, protectedMachine, put32, USER_CODE, type ProtectedMachine } from './support/protected-machine.js';

/** The page tables live in the identity-mapped first MiB so a #PF handler can edit them. */
const PAGE_DIRECTORY = 0x80000;
const LOW_TABLE = 0x81000;
const HIGH_TABLE = 0x82000;
/** Linear 0x400000 (directory entry 1) maps to physical FRAME_A through HIGH_TABLE. */
const MAPPED = 0x400000;
const FRAME_A = 0x200000;
const FRAME_B = 0x300000;
/** Supervisor read-only and supervisor read/write pages inside the identity-mapped first MiB. */
const SUPERVISOR_READ_ONLY = 0x5000;
const SUPERVISOR_ONLY = 0x6000;

const P = 1;
const RW = 2;
const US = 4;
const G = 0x100;

/**
 * Page tables: the first MiB identity-mapped user read/write (except two
 * supervisor pages), 0x400000 -> FRAME_A user read/write, the rest not present.
 */
function pagedMachine(code: number[], userCode?: number[], jitThreshold?: number): ProtectedMachine {
  const m = protectedMachine(code, { userCode, jitThreshold });
  const { ram, cpu } = m;
  put32(ram, PAGE_DIRECTORY, LOW_TABLE | P | RW | US);
  put32(ram, PAGE_DIRECTORY + 4, HIGH_TABLE | P | RW | US);
  for (let page = 0; page < 256; page++) put32(ram, LOW_TABLE + page * 4, (page << 12) | P | RW | US);
  put32(ram, LOW_TABLE + (SUPERVISOR_READ_ONLY >>> 12) * 4, SUPERVISOR_READ_ONLY | P);
  put32(ram, LOW_TABLE + (SUPERVISOR_ONLY >>> 12) * 4, SUPERVISOR_ONLY | P | RW);
  put32(ram, HIGH_TABLE, FRAME_A | P | RW | US);
  put32(ram, FRAME_A + 0x10, 0xaaaa0001);
  put32(ram, FRAME_B + 0x10, 0xbbbb0002);
  cpu.setControlRegister3(PAGE_DIRECTORY);
  cpu.setControlRegister0((cpu.cr0 | 0x80000000) >>> 0);
  m.setGate(14);
  return m;
}

const readMapped = (m: ProtectedMachine) => m.cpu.readMemory(DS, MAPPED + 0x10, 4);

describe('paging: the two-level walk', () => {
  test('a read goes through directory and table, and sets the accessed bits; a write sets dirty', () => {
    // mov eax, [400010h]; mov [400014h], eax; hlt
    const m = pagedMachine([0xa1, 0x10, 0, 0x40, 0, 0xa3, 0x14, 0, 0x40, 0, 0xf4]);
    m.cpu.step();
    expect(m.cpu.reg32[0]).toBe(0xaaaa0001);
    expect(get32(m.ram, PAGE_DIRECTORY + 4) & PTE_ACCESSED).toBe(PTE_ACCESSED);
    expect(get32(m.ram, HIGH_TABLE) & (PTE_ACCESSED | PTE_DIRTY)).toBe(PTE_ACCESSED);
    m.cpu.step();
    expect(get32(m.ram, FRAME_A + 0x14)).toBe(0xaaaa0001);
    expect(get32(m.ram, HIGH_TABLE) & PTE_DIRTY).toBe(PTE_DIRTY);
  });

  test('a not-present page: #PF with CR2 = the linear address and error code 0 (read) or 2 (write)', () => {
    for (const [code, expected] of [[[0xa1, 0x34, 0x12, 0x80, 0], 0], [[0xa3, 0x34, 0x12, 0x80, 0], PF_WRITE]] as const) {
      const m = pagedMachine([...code]);
      m.cpu.run(5);
      expect(m.handlerVector()).toBe(14);
      expect(m.cpu.cr2).toBe(0x801234);
      expect(get32(m.ram, m.cpu.reg32[ESP])).toBe(expected);
      expect(get32(m.ram, m.cpu.reg32[ESP] + 4)).toBe(CODE); // faulting instruction, restartable
    }
  });

  test('ring 3 reading a supervisor page: error code P|U; writing a read-only page: P|W|U', () => {
    const loadUserDs = [0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd8]; // mov ax, 23h; mov ds, ax (IRET to ring 3 nulled DS)
    const read = pagedMachine(enterRing3(), [...loadUserDs, 0xa1, 0x00, 0x60, 0, 0]); // mov eax, [6000h]
    read.cpu.run(20);
    expect(read.handlerVector()).toBe(14);
    expect(read.cpu.cr2).toBe(SUPERVISOR_ONLY);
    expect(get32(read.ram, read.cpu.reg32[ESP])).toBe(PF_PROTECTION | PF_USER);
    expect(get32(read.ram, read.cpu.reg32[ESP] + 4)).toBe(USER_CODE + loadUserDs.length);
    const write = pagedMachine(enterRing3(), [...loadUserDs, 0xa3, 0x00, 0x50, 0, 0]); // mov [5000h], eax
    write.cpu.run(20);
    expect(get32(write.ram, write.cpu.reg32[ESP])).toBe(PF_PROTECTION | PF_WRITE | PF_USER);
  });

  test('CR0.WP: ring 0 may write a read-only page only while WP is clear', () => {
    const code = [0xa3, 0x00, 0x50, 0, 0, 0xf4]; // mov [5000h], eax; hlt
    const loose = pagedMachine(code);
    loose.cpu.reg32[0] = 0x12345678;
    loose.cpu.run(5);
    expect(get32(loose.ram, SUPERVISOR_READ_ONLY)).toBe(0x12345678);
    const strict = pagedMachine(code);
    strict.cpu.setControlRegister0((strict.cpu.cr0 | 0x10000) >>> 0);
    strict.cpu.run(5);
    expect(strict.handlerVector()).toBe(14);
    expect(get32(strict.ram, strict.cpu.reg32[ESP])).toBe(PF_PROTECTION | PF_WRITE);
  });

  test('the #PF handler itself runs: after it maps the page and IRETs, the instruction completes', () => {
    // handler: mov dword [82004h], FRAME_B|7 ; add esp, 4 ; iretd
    const m = pagedMachine([0xa1, 0x10, 0x10, 0x40, 0, 0xf4]); // mov eax, [401010h]; hlt
    const handler = HANDLERS + 14 * 16;
    m.ram.set([0xc7, 0x05, 0x04, 0x20, 0x08, 0x00, ...[0x07, 0x00, 0x30, 0x00], 0x83, 0xc4, 0x04, 0xcf], handler);
    put32(m.ram, FRAME_B + 0x10, 0xbbbb0002);
    m.cpu.run(10);
    expect(m.cpu.reg32[0]).toBe(0xbbbb0002);
    expect(m.cpu.eip).toBe(CODE + 6);
  });

  test('compiled code: flags set before an instruction that page-faults are the ones the restarted code tests', () => {
    // or eax, 1 (ZF=0); mov ebx, eax; cmp eax, ebx (ZF=1); mov ecx, [401010h] (#PF, then
    // restarted); setz dl; add esi, 1; hlt. Compiled at once, setz would test cmp's operands
    // directly and add would make cmp's flags dead; the restarted code only has the flags
    // the fault saw, so they must have been recorded.
    const code = [0x83, 0xc8, 0x01, 0x89, 0xc3, 0x39, 0xd8, 0x8b, 0x0d, 0x10, 0x10, 0x40, 0x00, 0x0f, 0x94, 0xc2, 0x83, 0xc6, 0x01, 0xf4];
    const m = pagedMachine(code, undefined, 1);
    m.ram.set([0xc7, 0x05, 0x04, 0x20, 0x08, 0x00, ...[0x07, 0x00, 0x30, 0x00], 0x83, 0xc4, 0x04, 0xcf], HANDLERS + 14 * 16);
    m.cpu.run(100);
    expect(m.cpu.reg32[1]).toBe(0xbbbb0002);
    expect(m.cpu.reg32[2] & 0xff).toBe(1);
  });

  test('CR4.PSE: a directory entry with PS maps a 4 MiB page', () => {
    const m = pagedMachine([]);
    put32(m.ram, PAGE_DIRECTORY + 3 * 4, 0x400000 | 0x80 | P | RW);
    m.cpu.setControlRegister4(m.cpu.cr4 | 0x10);
    put32(m.ram, 0x400000 + 0x123458, 0x5a5a5a5a);
    expect(m.cpu.readMemory(DS, 0xc00000 + 0x123458, 4)).toBe(0x5a5a5a5a);
    expect(get32(m.ram, PAGE_DIRECTORY + 12) & PTE_ACCESSED).toBe(PTE_ACCESSED);
  });
});

describe('paging: instruction fetch', () => {
  test('code cached from a supervisor page at ring 0 cannot be fetched after IRET to ring 3 on the same page', () => {
    const push32 = (v: number) => [0x68, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    const target = CODE + 0x100;
    const m = pagedMachine([...push32(0x23), ...push32(0x40000), ...push32(0x202), ...push32(0x1b), ...push32(target), 0xcf]);
    put32(m.ram, LOW_TABLE + (CODE >>> 12) * 4, CODE | P | RW); // the code page is supervisor-only
    m.ram[target] = 0x90;
    m.cpu.run(20);
    expect(m.handlerVector()).toBe(14);
    expect(m.cpu.cr2).toBe(target);
    expect(get32(m.ram, m.cpu.reg32[ESP])).toBe(PF_PROTECTION | PF_USER);
  });

  test('after INVLPG the next instruction is fetched from the newly mapped frame', () => {
    // at linear 0x400000: invlpg [400000h] ; then the next bytes come from whichever frame is mapped
    const m = pagedMachine([0xea, 0x00, 0x00, 0x40, 0x00, 0x08, 0x00]); // jmp 08h:400000h
    m.ram.set([0x90, 0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00, 0xb0, 0xaa, 0xf4], FRAME_A); // nop; invlpg; mov al, AAh; hlt
    m.ram.set([0x90, 0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00, 0xb0, 0xbb, 0xf4], FRAME_B); // same, mov al, BBh
    m.cpu.run(2); // jmp, nop: the page is translated and cached
    put32(m.ram, HIGH_TABLE, FRAME_B | P | RW | US); // the stale translation still fetches INVLPG from FRAME_A
    m.cpu.run(5);
    expect(m.cpu.reg32[0] & 0xff).toBe(0xbb);
  });
});

describe('paging: the TLB', () => {
  test('a changed PTE is not seen until INVLPG or a CR3 write', () => {
    const m = pagedMachine([0x0f, 0x01, 0x3d, 0x10, 0x00, 0x40, 0x00]); // invlpg [400010h]
    expect(readMapped(m)).toBe(0xaaaa0001);
    put32(m.ram, HIGH_TABLE, FRAME_B | P | RW | US);
    expect(readMapped(m)).toBe(0xaaaa0001); // stale translation, as on hardware
    m.cpu.step();
    expect(readMapped(m)).toBe(0xbbbb0002);
    put32(m.ram, HIGH_TABLE, FRAME_A | P | RW | US);
    expect(readMapped(m)).toBe(0xbbbb0002);
    m.cpu.setControlRegister3(PAGE_DIRECTORY);
    expect(readMapped(m)).toBe(0xaaaa0001);
  });

  test('with CR4.PGE a global page survives CR3 writes but not INVLPG', () => {
    const m = pagedMachine([]);
    m.cpu.setControlRegister4(m.cpu.cr4 | 0x80);
    put32(m.ram, HIGH_TABLE, FRAME_A | P | RW | US | G);
    expect(readMapped(m)).toBe(0xaaaa0001);
    put32(m.ram, HIGH_TABLE, FRAME_B | P | RW | US | G);
    m.cpu.setControlRegister3(PAGE_DIRECTORY);
    expect(readMapped(m)).toBe(0xaaaa0001);
    m.cpu.memory.invalidatePage(MAPPED);
    expect(readMapped(m)).toBe(0xbbbb0002);
  });

  test('a read-filled entry does not let a write skip setting the dirty bit', () => {
    const m = pagedMachine([]);
    expect(readMapped(m)).toBe(0xaaaa0001);
    expect(get32(m.ram, HIGH_TABLE) & PTE_DIRTY).toBe(0);
    m.cpu.writeMemory(DS, MAPPED, 1, 7);
    expect(get32(m.ram, HIGH_TABLE) & PTE_DIRTY).toBe(PTE_DIRTY);
  });

  test('a write split across two pages faults on the second page before changing the first', () => {
    const m = pagedMachine([]);
    const last = MAPPED + 0xffe; // 0x400ffe..0x401001: second page not present
    expect(() => m.cpu.writeMemory(DS, last, 4, 0x11223344)).toThrow(CpuFault);
    expect(get32(m.ram, FRAME_A + 0xffc) >>> 16).toBe(0);
  });
});

describe('paging: PAE', () => {
  const PDPT = 0x83000;
  const PAE_DIRECTORY = 0x84000;
  const PAE_TABLE = 0x85000;
  const put64 = (ram: Uint8Array, at: number, low: number) => {
    put32(ram, at, low);
    put32(ram, at + 4, 0);
  };

  function paeMachine(): ProtectedMachine {
    const m = protectedMachine([]);
    put64(m.ram, PDPT, PAE_DIRECTORY | P); // 0-1 GiB; the other three quarters not present
    put64(m.ram, PAE_DIRECTORY, PAE_TABLE | P | RW | US); // 0-2 MiB through a table
    put64(m.ram, PAE_DIRECTORY + 2 * 8, FRAME_A | 0x80 | P | RW | US); // 4-6 MiB: one 2 MiB page at 2 MiB
    for (let page = 0; page < 512; page++) put64(m.ram, PAE_TABLE + page * 8, (page << 12) | P | RW | US);
    put32(m.ram, FRAME_A + 0x10, 0xaaaa0001);
    m.cpu.setControlRegister4(m.cpu.cr4 | 0x20);
    m.cpu.setControlRegister3(PDPT);
    m.cpu.setControlRegister0((m.cpu.cr0 | 0x80000000) >>> 0);
    return m;
  }

  test('three levels of 8-byte entries, 2 MiB pages, accessed and dirty bits in the low dword', () => {
    const m = paeMachine();
    expect(m.cpu.readMemory(DS, MAPPED + 0x10, 4)).toBe(0xaaaa0001);
    expect(m.cpu.readMemory(DS, CODE, 1)).toBe(m.ram[CODE]); // 4 KiB pages of the identity table
    expect(get32(m.ram, PAE_DIRECTORY + 16) & PTE_ACCESSED).toBe(PTE_ACCESSED);
    m.cpu.writeMemory(DS, MAPPED + 0x1234, 4, 0x55);
    expect(get32(m.ram, FRAME_A + 0x1234)).toBe(0x55);
    expect(get32(m.ram, PAE_DIRECTORY + 16) & PTE_DIRTY).toBe(PTE_DIRTY);
  });

  test('a missing directory entry or PDPTE is a not-present #PF', () => {
    const m = paeMachine();
    for (const linear of [0x600000, 0x40000000]) {
      try {
        m.cpu.readMemory(DS, linear, 4);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CpuFault);
        expect((e as CpuFault).vector).toBe(14);
        expect((e as CpuFault).errorCode).toBe(0);
        expect((e as CpuFault).address).toBe(linear);
      }
    }
  });
});
