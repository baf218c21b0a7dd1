import { Cpu, RamBus, type CpuModel } from '../../src/index.js';
import { CS, DS, ES, SS } from '../../src/registers.js';

/** Code is loaded at 1000:0000, the stack is 2000:0000 growing down from FFFE, data is 3000:0000. */
export const CODE_SEGMENT = 0x1000;
export const STACK_SEGMENT = 0x2000;
export const DATA_SEGMENT = 0x3000;

export interface TestMachine {
  cpu: Cpu;
  bus: RamBus;
  portWrites: Array<[number, number, number]>;
}

/** A CPU with 2 MiB of RAM, `code` at CS:0 and a recording port bus (reads return the port number). */
export function machineWith(code: number[], model: CpuModel = '386'): TestMachine {
  const portWrites: Array<[number, number, number]> = [];
  const bus = new RamBus(2 << 20, {
    ioRead: (port) => port & 0xff,
    ioWrite: (port, size, value) => portWrites.push([port, size, value]),
  });
  const cpu = new Cpu({ bus, model });
  cpu.loadSegment(CS, CODE_SEGMENT);
  cpu.loadSegment(SS, STACK_SEGMENT);
  cpu.loadSegment(DS, DATA_SEGMENT);
  cpu.loadSegment(ES, DATA_SEGMENT);
  cpu.eip = 0;
  cpu.setReg(2, 4, 0xfffe);
  bus.ram.set(code, CODE_SEGMENT * 16);
  return { cpu, bus, portWrites };
}

/** Points interrupt vector `vector` at segment:offset in the real-mode IVT. */
export function setVector(bus: RamBus, vector: number, segment: number, offset: number): void {
  const at = vector * 4;
  bus.ram[at] = offset & 0xff;
  bus.ram[at + 1] = offset >>> 8;
  bus.ram[at + 2] = segment & 0xff;
  bus.ram[at + 3] = segment >>> 8;
}
