import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { Pic8259Pair } from './pic8259-pair.js';

function setup(icw4 = 0x01) {
  const ints: boolean[] = [];
  const pic = new Pic8259Pair({ onIntChange: (a) => ints.push(a) });
  const out = (port: number, v: number) => pic.ioWrite(port, 1, v, 0);
  const inb = (port: number) => pic.ioRead(port, 1, 0);
  // The BIOS/Linux initialisation: vectors 0x08 and 0x70, slave on IR2, 8086 mode.
  out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, icw4);
  out(0xa0, 0x11); out(0xa1, 0x70); out(0xa1, 0x02); out(0xa1, icw4);
  const pulse = (line: number) => { pic.setIrq(line, true); pic.setIrq(line, false); };
  const isr = (port: number) => { out(port, 0x0b); const v = inb(port); out(port, 0x0a); return v; };
  return { pic, out, inb, pulse, isr, ints };
}

describe('Pic8259Pair', () => {
  it('delivers a pulsed edge IRQ0 once as vector 0x08, ISR until EOI', () => {
    const { pic, out, pulse, isr } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    pulse(0);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x08);
    expect(pic.hasInterrupt()).toBe(false);
    expect(isr(0x20)).toBe(0x01);
    out(0x20, 0x20); // non-specific EOI
    expect(isr(0x20)).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('reads IRR by default and ISR after OCW3 RR|RIS', () => {
    const { out, inb, pulse, pic } = setup();
    pulse(3);
    expect(inb(0x20)).toBe(0x08);
    out(0x20, 0x0b);
    expect(inb(0x20)).toBe(0);
    pic.acknowledge();
    expect(inb(0x20)).toBe(0x08);
  });

  it('fully nested priority: lower number first; higher nests, lower waits for EOI', () => {
    const { pic, out, pulse } = setup();
    pulse(3);
    pulse(1);
    expect(pic.acknowledge()).toBe(0x09);
    pulse(5);
    expect(pic.hasInterrupt()).toBe(false); // 3 and 5 are below 1 in service
    pulse(0);
    expect(pic.acknowledge()).toBe(0x08); // nests
    out(0x20, 0x20); // EOI for 0
    out(0x20, 0x20); // EOI for 1
    expect(pic.acknowledge()).toBe(0x0b);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it('IMR masks requests; unmasking delivers the latched one', () => {
    const { pic, out, inb, pulse } = setup();
    out(0x21, 0x10);
    expect(inb(0x21)).toBe(0x10);
    pulse(4);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x0c);
    expect(pic.mask).toBe(0);
  });

  it('cascade: IRQ10 arrives through master IR2 as vector 0x72', () => {
    const { pic, out, pulse, isr } = setup();
    pulse(10);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x72);
    expect(isr(0xa0)).toBe(0x04);
    expect(isr(0x20)).toBe(0x04);
    pulse(9);
    expect(pic.hasInterrupt()).toBe(false); // master IR2 in service
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it('special fully nested mode lets a higher slave IRQ nest inside a slave IRQ', () => {
    const { pic, out, pulse } = setup();
    out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x11); // master ICW4 SFNM
    pulse(10);
    expect(pic.acknowledge()).toBe(0x72);
    pulse(11);
    expect(pic.hasInterrupt()).toBe(false); // lower on the slave
    pulse(9);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it('masking the cascade line on the master blocks all slave IRQs', () => {
    const { pic, out, pulse } = setup();
    out(0x21, 0x04);
    pulse(12);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x74);
  });

  it('specific EOI clears the named level only', () => {
    const { pic, out, pulse, isr } = setup();
    pulse(4);
    pic.acknowledge();
    pulse(1);
    pic.acknowledge();
    expect(isr(0x20)).toBe(0x12);
    out(0x20, 0x64); // specific EOI IR4
    expect(isr(0x20)).toBe(0x02);
  });

  it('rotate on non-specific EOI makes the served level lowest priority', () => {
    const { pic, out, pulse } = setup();
    pulse(0);
    pic.acknowledge();
    out(0x20, 0xa0); // rotate on non-specific EOI: IR0 becomes lowest
    pulse(0);
    pulse(5);
    expect(pic.acknowledge()).toBe(0x0d);
    out(0x20, 0x20);
    out(0x20, 0xc4); // set priority: IR4 lowest, IR5 highest
    pulse(3);
    pulse(6);
    expect(pic.acknowledge()).toBe(0x0e); // 6 comes before 0 and 3 now
  });

  it('automatic EOI leaves ISR clear', () => {
    const { pic, pulse, isr } = setup(0x03);
    pulse(6);
    expect(pic.acknowledge()).toBe(0x0e);
    expect(isr(0x20)).toBe(0);
    pulse(7);
    expect(pic.acknowledge()).toBe(0x0f);
  });

  it('level triggering via ELCR: requests repeat while the line is high', () => {
    const { pic, out, inb } = setup();
    out(0x4d1, 0xff);
    expect(inb(0x4d1)).toBe(0xde); // IRQ8 and IRQ13 stay edge
    out(0x4d0, 0xff);
    expect(inb(0x4d0)).toBe(0xf8); // IRQ0-2 stay edge
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x73);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x73); // still high: again
    out(0xa0, 0x20);
    out(0x20, 0x20);
    pic.setIrq(11, false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('ICW1 LTIM makes every input level-triggered; a pulse then leaves nothing', () => {
    const { pic, out, pulse } = setup();
    out(0x20, 0x19); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x01);
    pulse(5);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('special mask mode lets lower levels through while a masked level is in service', () => {
    const { pic, out, pulse } = setup();
    pulse(3);
    pic.acknowledge(); // IR3 in service
    pulse(5);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x21, 0x08); // mask IR3
    out(0x20, 0x68); // OCW3: ESMM|SMM
    expect(pic.acknowledge()).toBe(0x0d);
    out(0x20, 0x48); // leave special mask mode
    pulse(6);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('poll command returns 0x80|level and acknowledges it', () => {
    const { pic, out, inb, pulse, isr } = setup();
    out(0x20, 0x0c);
    expect(inb(0x20)).toBe(0x00); // nothing pending
    pulse(6);
    out(0x20, 0x0c);
    expect(inb(0x20)).toBe(0x86);
    expect(isr(0x20)).toBe(0x40);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('spurious IRQ7 when the request goes away before INTA, for master and cascaded lines', () => {
    const { pic, out, isr } = setup();
    out(0x4d0, 0x20); // IRQ5 level
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(5, false);
    expect(pic.acknowledge()).toBe(0x0f);
    expect(isr(0x20)).toBe(0); // spurious IR7 does not set ISR
    out(0x4d1, 0x08); // IRQ11 level
    pic.setIrq(11, true); // slave INT -> master IR2
    expect(pic.hasInterrupt()).toBe(true);
    out(0xa1, 0x08); // masked on the slave: slave INT falls, so does master IR2's request
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.acknowledge()).toBe(0x0f); // a CPU that saw INT anyway gets the master's IR7
    expect(isr(0x20)).toBe(0);
    expect(isr(0xa0)).toBe(0);
  });

  it('ICW1 reinitialises: IMR cleared, ISR cleared, vectors replaced', () => {
    const { pic, out, inb, pulse } = setup();
    out(0x21, 0xff);
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x01);
    expect(inb(0x21)).toBe(0);
    pulse(1);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('reports INT output changes to the CPU', () => {
    const { pic, pulse, ints } = setup();
    pulse(1);
    pic.acknowledge();
    expect(ints).toEqual([true, false]);
  });

  it('counts bad widths, unknown ports and lines', () => {
    const { pic } = setup();
    expect(pic.ioRead(0x21, 2, 0)).toBe(0xffff);
    pic.ioWrite(0x22, 1, 0, 0);
    pic.setIrq(16, true);
    expect(pic.counters).toMatchObject({ badWidth: 1, unknownRegister: 2 });
  });

  it('save/restore contract and malformed state', () => {
    const { pic, pulse } = setup();
    pulse(3);
    expect(checkSaveRestore(pic, (m) => {
      (m as Pic8259Pair).acknowledge();
      m.ioWrite(0xa1, 1, 0x55, 0);
    })).toBeNull();
    expect(pic.acknowledge()).toBe(0x0b);
    const good = pic.saveState() as any;
    expect(() => pic.loadState({ ...good, slave: { ...good.slave, vectorBase: 0x71 } })).toThrow(DeviceStateError);
    expect(() => pic.loadState({ ...good, master: { ...good.master, irr: -1 } })).toThrow(DeviceStateError);
    expect(pic.mask).toBe(0);
  });
});
