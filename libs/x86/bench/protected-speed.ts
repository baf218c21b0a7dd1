/**
 * Interpreter speed in 32-bit protected mode with paging on (flat segments,
 * 4 KiB pages through the TLB): the same kind of ALU/store/branch loop as
 * interpreter-speed.ts, at ring 0 and at ring 3. Prints MIPS for each.
 * Run with: npx tsx libs/x86/bench/protected-speed.ts [instructions]
 */
import { enterRing3, protectedMachine, put32 } from '../test/support/protected-machine.js';

const LOOP = [
  0xb9, 0x00, 0x10, 0x00, 0x00, //  mov ecx, 1000h
  0xbe, 0x00, 0x00, 0x06, 0x00, //  mov esi, 60000h
  0x01, 0xd8, //                 l: add eax, ebx
  0x31, 0xc2, //                    xor edx, eax
  0x46, //                          inc esi
  0x88, 0x06, //                    mov [esi], al
  0xd1, 0xe3, //                    shl ebx, 1
  0x75, 0x01, //                    jnz +1
  0x43, //                          inc ebx
  0xe2, 0xf2, //                    loop l
  0xeb, 0xe6, //                    jmp 0 (reload ecx, esi)
];

function paged(code: number[], userCode?: number[]) {
  const m = protectedMachine(code, { userCode });
  for (let page = 0; page < 1024; page++) put32(m.ram, 0x81000 + page * 4, (page << 12) | 7);
  put32(m.ram, 0x80000, 0x81000 | 7);
  m.cpu.setControlRegister3(0x80000);
  m.cpu.setControlRegister0((m.cpu.cr0 | 0x80000000) >>> 0);
  return m;
}

const budget = Number(process.argv[2] ?? 20_000_000);
const LOAD_USER_DS = [0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd8]; // mov ax, 23h; mov ds, ax
for (const [name, m] of [
  ['ring 0, paging', paged(LOOP)],
  ['ring 3, paging', paged(enterRing3(), [...LOAD_USER_DS, ...LOOP])],
] as const) {
  m.cpu.run(1_000_000); // warm-up
  const start = process.hrtime.bigint();
  m.cpu.run(budget);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name}: ${budget} instructions in ${seconds.toFixed(2)} s: ${(budget / seconds / 1e6).toFixed(1)} MIPS (cpl ${m.cpu.cpl}, eip ${m.cpu.eip.toString(16)})`);
}
