import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { RecordingHost } from './test-host.js';
import {
  Uart16550, UART_DLL, UART_DLM, UART_FCR, UART_IER, UART_IIR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_RBR, UART_SCR, UART_THR,
} from './uart16550.js';

const BASE = 0x3f8;
function setup() {
  const host = new RecordingHost();
  const sent: number[] = [];
  const uart = new Uart16550(host, { onTransmit: (b) => sent.push(b) });
  let now = 0;
  const out = (reg: number, v: number) => uart.ioWrite(BASE + reg, 1, v, (now += 1000));
  const inb = (reg: number) => uart.ioRead(BASE + reg, 1, (now += 1000));
  return { host, sent, uart, out, inb };
}

describe('Uart16550', () => {
  it('resets to an idle line: THR empty, no interrupt, IIR 0x01', () => {
    const { inb } = setup();
    expect(inb(UART_LSR)).toBe(0x60);
    expect(inb(UART_IIR)).toBe(0x01);
    expect(inb(UART_IER)).toBe(0);
    expect(inb(UART_MSR) & 0xf0).toBe(0xb0);
  });

  it('transmits THR writes to onTransmit in order', () => {
    const { out, sent } = setup();
    for (const c of 'Hi\n') out(UART_THR, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('Hi\n');
  });

  it('programs the divisor latch through DLAB without transmitting', () => {
    const { out, inb, sent, uart } = setup();
    out(UART_LCR, 0x83);
    out(UART_DLL, 0x0c);
    out(UART_DLM, 0x00);
    expect(inb(UART_DLL)).toBe(0x0c);
    expect(inb(UART_DLM)).toBe(0);
    out(UART_LCR, 0x03);
    expect(uart.baudRate).toBe(9600);
    expect(sent).toEqual([]);
    expect(inb(UART_LCR)).toBe(0x03);
    expect(inb(UART_IER)).toBe(0); // IER untouched by the DLM write
  });

  it('receives bytes in non-FIFO mode one at a time with DR', () => {
    const { uart, inb } = setup();
    uart.receive([0x41, 0x42]);
    expect(inb(UART_LSR) & 0x01).toBe(1);
    expect(inb(UART_RBR)).toBe(0x41);
    expect(inb(UART_RBR)).toBe(0x42);
    expect(inb(UART_LSR) & 0x01).toBe(0);
  });

  it('raises the received-data interrupt on IRQ4 only with OUT2 set', () => {
    const { uart, out, inb, host } = setup();
    out(UART_IER, 0x01);
    uart.receive([0x31]);
    expect(inb(UART_IIR)).toBe(0x04);
    expect(host.level(4)).toBe(false); // OUT2 gates INTR on the PC
    out(UART_MCR, 0x08);
    expect(host.level(4)).toBe(true);
    expect(inb(UART_RBR)).toBe(0x31);
    expect(host.level(4)).toBe(false);
    expect(inb(UART_IIR)).toBe(0x01);
  });

  it('FIFO mode: trigger level, character timeout below it, IIR bits 7:6', () => {
    const { uart, out, inb } = setup();
    out(UART_FCR, 0x81); // enable, trigger 8
    out(UART_IER, 0x01);
    uart.receive([1, 2, 3]);
    expect(inb(UART_IIR)).toBe(0xcc); // timeout: data below trigger
    uart.receive([4, 5, 6, 7, 8]);
    expect(inb(UART_IIR)).toBe(0xc4); // trigger level reached
    const got: number[] = [];
    while (inb(UART_LSR) & 1) got.push(inb(UART_RBR));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(inb(UART_IIR)).toBe(0xc1);
  });

  it('holds at most 16 bytes in the FIFO and feeds the rest as it drains', () => {
    const { uart, out, inb } = setup();
    out(UART_FCR, 0x07);
    const data = Array.from({ length: 40 }, (_, i) => i);
    uart.receive(data);
    const got: number[] = [];
    while (inb(UART_LSR) & 1) got.push(inb(UART_RBR));
    expect(got).toEqual(data);
    expect(inb(UART_LSR) & 0x02).toBe(0); // no overrun from the far end
  });

  it('FCR receiver reset clears the FIFO', () => {
    const { uart, out, inb } = setup();
    out(UART_FCR, 0x01);
    uart.receive([1, 2, 3]);
    out(UART_FCR, 0x03);
    expect(inb(UART_LSR) & 1).toBe(0);
  });

  it('loopback: THR comes back on RBR, modem outputs drive MSR, overrun sets OE', () => {
    const { out, inb, sent } = setup();
    out(UART_MCR, 0x10 | 0x0b); // loop, OUT2, RTS, DTR
    expect(inb(UART_MSR) & 0xf0).toBe(0x80 | 0x20 | 0x10); // DCD, DSR, CTS
    out(UART_THR, 0x55);
    expect(sent).toEqual([]);
    expect(inb(UART_RBR)).toBe(0x55);
    // non-FIFO: the second byte overruns the first
    out(UART_THR, 1);
    out(UART_THR, 2);
    const lsr = inb(UART_LSR);
    expect(lsr & 0x03).toBe(0x03);
    expect(inb(UART_LSR) & 0x02).toBe(0); // OE cleared by reading LSR
    expect(inb(UART_RBR)).toBe(1);
  });

  it('line status interrupt has priority over received data', () => {
    const { out, inb } = setup();
    out(UART_IER, 0x05);
    out(UART_MCR, 0x10);
    out(UART_THR, 1);
    out(UART_THR, 2); // overrun
    expect(inb(UART_IIR)).toBe(0x06);
    inb(UART_LSR);
    expect(inb(UART_IIR)).toBe(0x04);
  });

  it('THR empty interrupt: raised by enabling ETBEI, cleared by reading IIR, re-armed by a write', () => {
    const { out, inb, host } = setup();
    out(UART_MCR, 0x08);
    out(UART_IER, 0x02);
    expect(host.level(4)).toBe(true);
    expect(inb(UART_IIR)).toBe(0x02);
    expect(host.level(4)).toBe(false);
    expect(inb(UART_IIR)).toBe(0x01);
    out(UART_THR, 0x41);
    expect(host.level(4)).toBe(true);
    expect(inb(UART_IIR)).toBe(0x02);
  });

  it('modem status: delta bits, interrupt, cleared by reading MSR', () => {
    const { uart, out, inb } = setup();
    out(UART_IER, 0x08);
    uart.setModemInputs(0x40 | 0x80); // RI on, CTS and DSR off
    let msr = inb(UART_MSR);
    expect(msr & 0x0f).toBe(0x01 | 0x02); // DCTS, DDSR
    expect(inb(UART_IIR)).toBe(0x01);
    uart.setModemInputs(0x80); // RI trailing edge
    expect(inb(UART_IIR)).toBe(0x00);
    msr = inb(UART_MSR);
    expect(msr & 0x04).toBe(0x04);
    expect(inb(UART_IIR)).toBe(0x01);
  });

  it('scratch register holds a byte', () => {
    const { out, inb } = setup();
    out(UART_SCR, 0xa5);
    expect(inb(UART_SCR)).toBe(0xa5);
  });

  it('counts bad widths and foreign ports without throwing', () => {
    const { uart } = setup();
    expect(uart.ioRead(BASE, 2, 0)).toBe(0xffff);
    uart.ioWrite(BASE + 8, 1, 0, 0);
    expect(uart.counters.badWidth).toBe(1);
    expect(uart.counters.unknownRegister).toBe(1);
  });

  it('honours a configured base and IRQ (COM2)', () => {
    const host = new RecordingHost();
    const uart = new Uart16550(host, { base: 0x2f8, irq: 3 });
    uart.ioWrite(0x2f8 + UART_MCR, 1, 0x08, 0);
    uart.ioWrite(0x2f8 + UART_IER, 1, 0x02, 0);
    expect(host.level(3)).toBe(true);
  });

  it('save/restore contract', () => {
    const { uart, out } = setup();
    out(UART_FCR, 0x01);
    uart.receive([1, 2]);
    expect(checkSaveRestore(uart, (m) => {
      m.ioWrite(BASE + UART_SCR, 1, 0x77, 0);
      m.ioWrite(BASE + UART_LCR, 1, 0x80, 0);
      (m as Uart16550).receive([9]);
    })).toBeNull();
  });

  it('restored state continues where it left off in another instance', () => {
    const a = setup();
    a.out(UART_FCR, 0x01);
    a.uart.receive([7, 8, 9]);
    a.inb(UART_RBR);
    const b = setup();
    b.uart.loadState(JSON.parse(JSON.stringify(a.uart.saveState())));
    expect(b.inb(UART_RBR)).toBe(8);
    expect(b.inb(UART_RBR)).toBe(9);
  });

  it('rejects malformed state and stays unchanged', () => {
    const { uart, out, inb } = setup();
    out(UART_SCR, 0x12);
    const good = uart.saveState();
    expect(() => uart.loadState({ ...good, device: 'pit' })).toThrow(DeviceStateError);
    expect(() => uart.loadState({ ...good, scr: 300 })).toThrow(DeviceStateError);
    expect(() => uart.loadState({ ...good, rxFifo: [1, 2] })).toThrow(DeviceStateError); // non-FIFO holds 1
    expect(() => uart.loadState({ ...good, version: 2 })).toThrow(DeviceStateError);
    expect(inb(UART_SCR)).toBe(0x12);
  });
});
