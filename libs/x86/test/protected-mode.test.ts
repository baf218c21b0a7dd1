import { describe, expect, test } from 'vitest';
import { StopReason } from '../src/index.js';
import { CS, DS, ES, ESP, SS } from '../src/registers.js';
import { TripleFault } from '../src/triple-fault.js';
import {
  CALL_GATE,
  CODE,
  enterRing3,
  gate,
  GDT,
  get32,
  HANDLERS,
  IDT,
  put32,
  INTERRUPT_GATE,
  KERNEL_STACK_TOP,
  LDT,
  protectedMachine,
  putDescriptor,
  segment,
  SEL,
  STACK0_TOP,
  TSS,
  TSS2,
  TSS_LIMIT,
  USER_CODE,
  USER_STACK_TOP,
} from './support/protected-machine.js';

const movAx = (v: number) => [0x66, 0xb8, v & 0xff, v >>> 8];
const MOV_DS_AX = [0x8e, 0xd8];
const MOV_ES_AX = [0x8e, 0xc0];
const HLT = 0xf4;

/** The dwords an exception or interrupt left on a stack whose top is `top` (lowest address first). */
function frame(ram: Uint8Array, esp: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => get32(ram, esp + i * 4));
}

describe('protected mode: segment loads', () => {
  test('MOV DS reads the GDT descriptor: base, limit and access rights are cached, the accessed bit is set', () => {
    const { cpu, ram } = protectedMachine([...movAx(SEL.readOnly), ...MOV_DS_AX, HLT]);
    cpu.run(10);
    expect(cpu.segSelector[DS]).toBe(SEL.readOnly);
    expect(cpu.segBase[DS]).toBe(0x60000);
    expect(cpu.segLimit[DS]).toBe(0xfff);
    expect(cpu.segAttr[DS] & 0xff).toBe(0x91); // accessed now
    expect((get32(ram, GDT + SEL.readOnly + 4) >>> 8) & 1).toBe(1);
    // 32-bit code from CS.D, 32-bit stack from SS.B
    expect(cpu.codeSize).toBe(4);
    expect(cpu.stackSize).toBe(4);
  });

  test('a selector past the GDT limit raises #GP with the selector as error code, at the faulting instruction', () => {
    const m = protectedMachine([...movAx(SEL.beyondLimit), ...MOV_DS_AX]);
    m.setGate(13);
    m.cpu.run(10);
    expect(m.handlerVector()).toBe(13);
    expect(frame(m.ram, m.cpu.reg32[ESP], 3)).toEqual([SEL.beyondLimit, CODE + 4, SEL.code0]);
    expect(m.cpu.reg32[ESP]).toBe(STACK0_TOP - 16);
  });

  test('a not-present data segment raises #NP(selector)', () => {
    const m = protectedMachine([...movAx(SEL.notPresent), ...MOV_DS_AX]);
    m.setGate(11);
    m.cpu.run(10);
    expect(m.handlerVector()).toBe(11);
    expect(get32(m.ram, m.cpu.reg32[ESP])).toBe(SEL.notPresent);
  });

  test('loading SS with a read-only segment is #GP; a null DS loads but using it is #GP(0)', () => {
    const ss = protectedMachine([...movAx(SEL.readOnly), 0x8e, 0xd0]); // mov ss, ax
    ss.setGate(13);
    ss.cpu.run(10);
    expect(ss.handlerVector()).toBe(13);
    expect(get32(ss.ram, ss.cpu.reg32[ESP])).toBe(SEL.readOnly);

    const nul = protectedMachine([...movAx(0), ...MOV_DS_AX, 0xa1, 0, 0x50, 0, 0]); // mov eax, [5000h]
    nul.setGate(13);
    nul.cpu.run(10);
    expect(nul.handlerVector()).toBe(13);
    expect(get32(nul.ram, nul.cpu.reg32[ESP])).toBe(0);
    expect(get32(nul.ram, nul.cpu.reg32[ESP] + 4)).toBe(CODE + 6);
  });

  test('writes through a read-only data segment and reads past its limit are #GP(0)', () => {
    const write = protectedMachine([...movAx(SEL.readOnly), ...MOV_DS_AX, 0xa2, 0, 0, 0, 0]); // mov [0], al
    write.setGate(13);
    write.cpu.run(10);
    expect(write.handlerVector()).toBe(13);
    const past = protectedMachine([...movAx(SEL.readOnly), ...MOV_DS_AX, 0xa0, 0, 0x10, 0, 0]); // mov al, [1000h]
    past.setGate(13);
    past.cpu.run(10);
    expect(past.handlerVector()).toBe(13);
  });

  test('LLDT then a selector with TI set loads from the LDT', () => {
    const code = [...movAx(SEL.ldt), 0x0f, 0x00, 0xd0, ...movAx(0x0c), ...MOV_ES_AX, HLT]; // lldt ax; mov es, 0Ch
    const { cpu, ram } = protectedMachine(code);
    putDescriptor(ram, LDT, 0x08, segment(0x70000, 0xffff, 0x92, 0));
    cpu.run(10);
    expect(cpu.ldtr.selector).toBe(SEL.ldt);
    expect(cpu.segBase[ES]).toBe(0x70000);
  });
});

describe('protected mode: far transfers', () => {
  test('far JMP to a 16-bit code segment switches to 16-bit decoding; clearing PE and a far JMP return to real mode', () => {
    // jmp 30h:0007 ; (16-bit) mov eax, cr0 ; and al, FEh ; mov cr0, eax ; jmp 1000h:0014h ; hlt
    const code = [0xea, 0x07, 0, 0, 0, SEL.code16, 0];
    code.push(0x0f, 0x20, 0xc0, 0x24, 0xfe, 0x0f, 0x22, 0xc0, 0xea, 0x14, 0x00, 0x00, 0x10, HLT);
    const { cpu } = protectedMachine(code);
    cpu.step();
    expect(cpu.segSelector[CS]).toBe(SEL.code16);
    expect(cpu.codeSize).toBe(2);
    cpu.run(10);
    expect(cpu.protectedMode).toBe(false);
    expect(cpu.segBase[CS]).toBe(0x10000);
    expect(cpu.eip).toBe(0x15); // after the HLT at 1000:0014
  });

  test('CALL through a call gate from ring 3 to ring 0 switches to the TSS stack and copies parameters; RETF 8 goes back', () => {
    const handler = HANDLERS + 0x800;
    // ring 3: push 11111111h; push 22222222h; call 4Bh:0; hlt
    const user = [0x68, 0x11, 0x11, 0x11, 0x11, 0x68, 0x22, 0x22, 0x22, 0x22, 0x9a, 0, 0, 0, 0, SEL.callGate3, 0, HLT];
    const m = protectedMachine(enterRing3(), { userCode: user });
    putDescriptor(m.ram, GDT, SEL.callGate3, gate(SEL.code0, handler, CALL_GATE, 3, 2));
    m.ram.set([HLT, 0xca, 0x08, 0x00], handler); // hlt; retf 8
    m.cpu.run(20);
    expect(m.cpu.cpl).toBe(0);
    expect(m.cpu.eip).toBe(handler + 1);
    const esp = m.cpu.reg32[ESP];
    expect(esp).toBe(KERNEL_STACK_TOP - 24);
    expect(frame(m.ram, esp, 6)).toEqual([USER_CODE + 17, SEL.code3, 0x22222222, 0x11111111, USER_STACK_TOP - 8, SEL.data3]);
    m.cpu.halted = false;
    m.cpu.step(); // retf 8
    expect(m.cpu.cpl).toBe(3);
    expect(m.cpu.segSelector[CS]).toBe(SEL.code3);
    expect(m.cpu.segSelector[SS]).toBe(SEL.data3);
    expect(m.cpu.reg32[ESP]).toBe(USER_STACK_TOP);
    expect(m.cpu.eip).toBe(USER_CODE + 17);
  });
});

describe('protected mode: interrupts and exceptions', () => {
  test('INT n through a ring-0 interrupt gate pushes EFLAGS, CS, EIP and clears IF; IRET returns', () => {
    const m = protectedMachine([0xfb, 0xcd, 0x40, HLT]); // sti; int 40h; hlt
    m.setGate(0x40);
    m.ram[HANDLERS + 0x40 * 16 + 1] = 0xcf; // hlt; iretd
    m.cpu.run(10);
    expect(m.handlerVector()).toBe(0x40);
    expect(m.cpu.getFlags() & 0x200).toBe(0);
    expect(frame(m.ram, m.cpu.reg32[ESP], 3)).toEqual([CODE + 3, SEL.code0, 0x202]);
    m.cpu.halted = false;
    m.cpu.step();
    expect(m.cpu.eip).toBe(CODE + 3);
    expect(m.cpu.getFlags() & 0x200).toBe(0x200);
  });

  test('ring 3 -> ring 0: INT 80h switches to SS0:ESP0 from the TSS and pushes SS, ESP, EFLAGS, CS, EIP; IRET goes back', () => {
    const m = protectedMachine(enterRing3(), { userCode: [0xcd, 0x80, HLT] });
    m.setGate(0x80, INTERRUPT_GATE, 3);
    m.ram[HANDLERS + 0x80 * 16 + 1] = 0xcf;
    m.cpu.run(6); // pushes, iretd
    expect(m.cpu.cpl).toBe(3);
    expect(m.cpu.segSelector[DS]).toBe(0); // the ring-0 data segment was dropped by IRET to ring 3
    m.cpu.run(5);
    expect(m.handlerVector()).toBe(0x80);
    expect(m.cpu.cpl).toBe(0);
    expect(m.cpu.segSelector[SS]).toBe(SEL.data0);
    expect(m.cpu.reg32[ESP]).toBe(KERNEL_STACK_TOP - 20);
    expect(frame(m.ram, KERNEL_STACK_TOP - 20, 5)).toEqual([USER_CODE + 2, SEL.code3, 0x202, USER_STACK_TOP, SEL.data3]);
    m.cpu.halted = false;
    m.cpu.step(); // iretd
    expect(m.cpu.cpl).toBe(3);
    expect(m.cpu.reg32[ESP]).toBe(USER_STACK_TOP);
    expect(m.cpu.eip).toBe(USER_CODE + 2);
  });

  test('ring 3 INT n to a DPL 0 gate is #GP(vector * 8 + 2), delivered on the ring-0 stack with the error code', () => {
    const m = protectedMachine(enterRing3(), { userCode: [0xcd, 0x80] });
    m.setGate(0x80, INTERRUPT_GATE, 0);
    m.setGate(13);
    m.cpu.run(20);
    expect(m.handlerVector()).toBe(13);
    expect(frame(m.ram, m.cpu.reg32[ESP], 6)).toEqual([0x80 * 8 + 2, USER_CODE, SEL.code3, 0x202, USER_STACK_TOP, SEL.data3]);
  });

  test('CPL and IOPL checks: ring-3 CLI and HLT are #GP(0); IN follows the TSS I/O bitmap', () => {
    for (const user of [[0xfa], [HLT]]) {
      const m = protectedMachine(enterRing3(), { userCode: user });
      m.setGate(13);
      m.cpu.run(20);
      expect(m.handlerVector()).toBe(13);
      expect(get32(m.ram, m.cpu.reg32[ESP])).toBe(0);
    }
    const allowed = protectedMachine(enterRing3(), { userCode: [0xe4, 0x71, 0xeb, 0xfe] }); // in al, 71h; jmp $
    allowed.setGate(13);
    allowed.cpu.run(20);
    expect(allowed.cpu.reg32[0] & 0xff).toBe(0x71);
    const denied = protectedMachine(enterRing3(), { userCode: [0xe4, 0x71] });
    denied.ram[TSS + 0x68 + (0x71 >>> 3)] = 1 << (0x71 & 7);
    denied.setGate(13);
    denied.cpu.run(20);
    expect(denied.handlerVector()).toBe(13);
    const iopl3 = protectedMachine(enterRing3(0x3202), { userCode: [0xfa, 0xe4, 0x71, 0xeb, 0xfe] });
    iopl3.ram[TSS + 0x68 + (0x71 >>> 3)] = 0xff;
    iopl3.cpu.run(20);
    expect(iopl3.cpu.getFlags() & 0x200).toBe(0);
    expect(iopl3.cpu.reg32[0] & 0xff).toBe(0x71);
  });

  test('a fault while delivering #GP (its gate not present) becomes a double fault with error code 0', () => {
    const m = protectedMachine([...movAx(SEL.beyondLimit), ...MOV_DS_AX]);
    m.setGate(8);
    m.cpu.run(10);
    expect(m.handlerVector()).toBe(8);
    expect(frame(m.ram, m.cpu.reg32[ESP], 2)).toEqual([0, CODE + 4]);
  });

  test('with nothing to deliver to, #UD escalates to a triple fault that stops the CPU', () => {
    const m = protectedMachine([0x0f, 0x0b]); // ud2
    m.cpu.idtrLimit = 0;
    expect(() => m.cpu.run(10)).toThrow(TripleFault);
    expect(() => protectedMachine([0x0f, 0x0b]).cpu.run(10)).toThrow(/triple fault/);
  });

  test('real mode: an interrupt past the IDT limit also ends in a triple fault (the triple-fault guest)', () => {
    const m = protectedMachine([0x0f, 0x0b]);
    m.cpu.setControlRegister0(m.cpu.cr0 & ~1);
    m.cpu.loadSegment(CS, 0x1000);
    m.cpu.eip = 0;
    m.cpu.idtrLimit = 0;
    expect(() => m.cpu.run(10)).toThrow(TripleFault);
  });
});

describe('protected mode: task switches', () => {
  /** TSS2 describes a ring-0 task starting at the vector-8 handler stub with its own stack. */
  function prepareSecondTask(ram: Uint8Array): void {
    put32(ram, TSS2 + 0x20, HANDLERS + 8 * 16); // EIP
    put32(ram, TSS2 + 0x24, 0x2); // EFLAGS
    put32(ram, TSS2 + 0x38, 0x2c000); // ESP
    [SEL.data0, SEL.code0, SEL.data0, SEL.data0, 0, 0].forEach((sel, i) => put32(ram, TSS2 + 0x48 + i * 4, sel));
  }

  test('#DF through a task gate (as Linux sets it up) switches TSS, links back, and IRET returns to the old task', () => {
    const m = protectedMachine([...movAx(SEL.beyondLimit), ...MOV_DS_AX]);
    prepareSecondTask(m.ram);
    putDescriptor(m.ram, IDT, 8 * 8, [SEL.tss2 << 16, 0x8500]); // task gate, present, DPL 0
    m.ram[HANDLERS + 8 * 16 + 1] = 0xcf; // hlt; iretd
    m.cpu.reg32[3] = 0x12345678;
    m.cpu.run(10);
    expect(m.cpu.tr.selector).toBe(SEL.tss2);
    expect(m.cpu.eip).toBe(HANDLERS + 8 * 16 + 1);
    expect(m.cpu.flags.get(0x4000)).toBe(0x4000); // NT
    expect(m.cpu.cr0 & 8).toBe(8); // TS
    expect(get32(m.ram, TSS2) & 0xffff).toBe(SEL.tss); // back link
    expect(get32(m.ram, m.cpu.reg32[ESP])).toBe(0); // #DF error code on the new task's stack
    expect(m.cpu.reg32[ESP]).toBe(0x2c000 - 4);
    expect(get32(m.ram, TSS + 0x20)).toBe(CODE + 4); // the old task resumes at the faulting instruction
    expect(get32(m.ram, TSS + 0x34)).toBe(0x12345678); // EBX saved
    expect((get32(m.ram, GDT + SEL.tss2 + 4) >>> 8) & 0xf).toBe(0xb); // new TSS busy
    m.cpu.halted = false;
    m.cpu.step(); // iretd with NT: back to the first task
    expect(m.cpu.tr.selector).toBe(SEL.tss);
    expect(m.cpu.eip).toBe(CODE + 4);
    expect(m.cpu.reg32[3]).toBe(0x12345678);
    expect(m.cpu.reg32[ESP]).toBe(STACK0_TOP);
    expect((get32(m.ram, GDT + SEL.tss2 + 4) >>> 8) & 0xf).toBe(0x9); // no longer busy
  });

  test('far JMP to a TSS switches without a back link and frees the old TSS', () => {
    const m = protectedMachine([0xea, 0, 0, 0, 0, SEL.tss2, 0]); // jmp 58h:0
    prepareSecondTask(m.ram);
    m.cpu.run(3);
    expect(m.handlerVector()).toBe(8);
    expect(m.cpu.tr.selector).toBe(SEL.tss2);
    expect(m.cpu.flags.get(0x4000)).toBe(0);
    expect((get32(m.ram, GDT + SEL.tss + 4) >>> 8) & 0xf).toBe(0x9);
    expect(get32(m.ram, TSS + 0x20)).toBe(CODE + 7);
  });
});

describe('protected mode: system instructions', () => {
  test('LTR marks the TSS busy and STR reads it back; LAR/LSL/VERR/VERW report on a ring-3 code segment', () => {
    const code = [
      ...movAx(SEL.tss), 0x0f, 0x00, 0xd8, // ltr ax
      0x0f, 0x00, 0xcb, // str bx
      0xb9, SEL.code3, 0, 0, 0, // mov ecx, 1Bh
      0x0f, 0x02, 0xc1, // lar eax, ecx
      0x0f, 0x03, 0xd1, // lsl edx, ecx
      HLT,
    ];
    const { cpu, ram } = protectedMachine(code);
    cpu.tr.clear();
    putDescriptor(ram, GDT, SEL.tss, segment(TSS, TSS_LIMIT, 0x89, 0)); // available again
    cpu.run(20);
    expect(cpu.tr.selector).toBe(SEL.tss);
    expect((get32(ram, GDT + SEL.tss + 4) >>> 8) & 0xf).toBe(0xb);
    expect(cpu.reg32[3] & 0xffff).toBe(SEL.tss);
    expect(cpu.reg32[0]).toBe(0x00cffa00);
    expect(cpu.reg32[2]).toBe(0xffffffff);
    expect(cpu.flags.get(0x40)).toBe(0x40);
  });

  test('VERR/VERW and LAR on a bad selector clear or set ZF without faulting', () => {
    const run = (bytes: number[], ecx: number) => {
      const { cpu } = protectedMachine([...bytes, HLT]);
      cpu.reg32[1] = ecx;
      cpu.run(5);
      return cpu.flags.get(0x40) !== 0;
    };
    expect(run([0x0f, 0x00, 0xe1], SEL.code3)).toBe(true); // verr cx: readable code
    expect(run([0x0f, 0x00, 0xe9], SEL.code3)).toBe(false); // verw cx: code is never writable
    expect(run([0x0f, 0x00, 0xe9], SEL.data0)).toBe(true);
    expect(run([0x0f, 0x02, 0xc1], SEL.beyondLimit)).toBe(false); // lar eax, ecx
  });

  test('privileged instructions at ring 3 raise #GP(0): MOV CR3, LGDT', () => {
    for (const user of [[0x0f, 0x22, 0xd8], [0x0f, 0x01, 0x15, 0, 0, 0, 0]]) {
      const m = protectedMachine(enterRing3(), { userCode: user });
      m.setGate(13);
      m.cpu.run(20);
      expect(m.handlerVector()).toBe(13);
    }
  });

  test('HLT at ring 0 stops the run loop', () => {
    const { cpu } = protectedMachine([HLT]);
    expect(cpu.run(5)).toBe(StopReason.Halted);
  });
});
