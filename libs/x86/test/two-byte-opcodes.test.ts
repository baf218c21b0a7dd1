import { describe, expect, test } from 'vitest';
import { CF, ZF } from '../src/flag-bits.js';
import { DATA_SEGMENT, machineWith } from './support/machine.js';

const EAX = 0;
const ECX = 1;
const EDX = 2;
const EBX = 3;

describe('0F two-byte opcodes (386)', () => {
  test('MOVZX and MOVSX widen bytes and words', () => {
    // movzx ax, bl; movsx ecx, bl; movsx edx, bx  (0F B6 C3; 66 0F BE CB; 66 0F BF D3)
    const { cpu } = machineWith([0x0f, 0xb6, 0xc3, 0x66, 0x0f, 0xbe, 0xcb, 0x66, 0x0f, 0xbf, 0xd3]);
    cpu.setReg(2, EBX, 0x8081);
    cpu.run(3);
    expect(cpu.getReg(2, EAX)).toBe(0x81);
    expect(cpu.getReg(4, ECX)).toBe(0xffffff81);
    expect(cpu.getReg(4, EDX)).toBe(0xffff8081);
  });

  test('Jcc rel16 is taken on its condition and SETcc stores it', () => {
    // cmp ax, ax; je +3 (0F 84 03 00); (skipped: mov al,1 ; nop) ; setne bl (0F 95 C3)
    const { cpu } = machineWith([0x39, 0xc0, 0x0f, 0x84, 0x03, 0x00, 0xb0, 0x01, 0x90, 0x0f, 0x95, 0xc3]);
    cpu.setReg(1, EBX, 7);
    cpu.run(3);
    expect(cpu.eip).toBe(12);
    expect(cpu.getReg(1, EAX)).toBe(0);
    expect(cpu.getReg(1, EBX)).toBe(0);
  });

  test('BTS with a register offset reaches past the addressed word', () => {
    // bts [0010h], cx  (0F AB 0E 10 00) with CX = 35: word at 0x10 + 2*2, bit 3
    const { cpu, bus } = machineWith([0x0f, 0xab, 0x0e, 0x10, 0x00]);
    cpu.setReg(2, ECX, 35);
    cpu.step();
    expect(bus.ram[DATA_SEGMENT * 16 + 0x14]).toBe(0x08);
    expect(cpu.flags.get(CF)).toBe(0);
  });

  test('BSF and BSR find the lowest and highest set bits', () => {
    // bsf ax, bx; bsr cx, bx; bsf dx, si (si = 0 -> ZF, dx unchanged)
    const { cpu } = machineWith([0x0f, 0xbc, 0xc3, 0x0f, 0xbd, 0xcb, 0x0f, 0xbc, 0xd6]);
    cpu.setReg(2, EBX, 0x0a10);
    cpu.setReg(2, EDX, 0x1234);
    cpu.run(3);
    expect(cpu.getReg(2, EAX)).toBe(4);
    expect(cpu.getReg(2, ECX)).toBe(11);
    expect(cpu.getReg(2, EDX)).toBe(0x1234);
    expect(cpu.flags.get(ZF)).toBe(ZF);
  });

  test('SHLD shifts bits in from the second register', () => {
    // shld eax, edx, 8  (66 0F A4 D0 08)
    const { cpu } = machineWith([0x66, 0x0f, 0xa4, 0xd0, 0x08]);
    cpu.setReg(4, EAX, 0x81234567);
    cpu.setReg(4, EDX, 0xabcdef01);
    cpu.step();
    expect(cpu.getReg(4, EAX)).toBe(0x234567ab);
    expect(cpu.flags.get(CF)).toBe(CF);
  });

  test('LGDT/SGDT round-trip and MOV CR0 keeps ET set', () => {
    // lgdt [0000h]; sgdt [0010h]; mov eax, cr0  (0F 01 16 00 00; 0F 01 06 10 00; 0F 20 C0)
    const { cpu, bus } = machineWith([0x0f, 0x01, 0x16, 0x00, 0x00, 0x0f, 0x01, 0x06, 0x10, 0x00, 0x0f, 0x20, 0xc0]);
    bus.ram.set([0x17, 0x00, 0x00, 0x10, 0x02, 0x00], DATA_SEGMENT * 16);
    cpu.run(3);
    expect(cpu.gdtrLimit).toBe(0x17);
    expect(cpu.gdtrBase).toBe(0x21000);
    expect(Array.from(bus.ram.subarray(DATA_SEGMENT * 16 + 0x10, DATA_SEGMENT * 16 + 0x16))).toEqual([
      0x17, 0x00, 0x00, 0x10, 0x02, 0x00,
    ]);
    expect(cpu.getReg(4, EAX)).toBe(0x10); // only ET (387 present) after reset
  });

  test('PUSH FS / POP GS move a selector through the stack', () => {
    // push fs; pop gs  (0F A0; 0F A9)
    const { cpu } = machineWith([0x0f, 0xa0, 0x0f, 0xa9]);
    cpu.loadSegment(4, 0x1234);
    cpu.run(2);
    expect(cpu.segSelector[5]).toBe(0x1234);
    expect(cpu.segBase[5]).toBe(0x12340);
  });

  test('the 8086 has no 0F map: 0F is POP CS', () => {
    const { cpu } = machineWith([0x0f], '8086');
    cpu.push(2, 0x4000);
    cpu.step();
    expect(cpu.segSelector[1]).toBe(0x4000);
  });
});
