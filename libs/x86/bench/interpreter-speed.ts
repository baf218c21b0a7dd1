/**
 * Rough interpreter speed: runs a small real-mode loop (ALU, memory store,
 * LOOP) for a fixed instruction budget and prints millions of instructions
 * per second. Run with: npx tsx libs/x86/bench/interpreter-speed.ts
 */
import { Cpu, RamBus } from '../src/index.js';

const LOOP = [
  0xb9, 0x00, 0x00, // mov cx, 0
  0x01, 0xd8, //       l: add ax, bx
  0x31, 0xc2, //          xor dx, ax
  0x46, //                inc si
  0x88, 0x04, //          mov [si], al
  0xd1, 0xe3, //          shl bx, 1
  0x75, 0x01, //          jnz +1
  0x43, //                inc bx
  0xe2, 0xf2, //          loop l
  0xeb, 0xeb, //          jmp 0
];

const bus = new RamBus(1 << 20);
const cpu = new Cpu({ bus, model: '386' });
cpu.loadSegment(1, 0x1000);
cpu.loadSegment(3, 0x2000);
cpu.eip = 0;
bus.ram.set(LOOP, 0x10000);

const budget = Number(process.argv[2] ?? 20_000_000);
cpu.run(1_000_000); // warm-up
const start = process.hrtime.bigint();
cpu.run(budget);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`${budget} instructions in ${seconds.toFixed(2)} s: ${(budget / seconds / 1e6).toFixed(1)} MIPS`);
