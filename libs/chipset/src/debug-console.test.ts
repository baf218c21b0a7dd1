import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { DebugConsole } from './debug-console.js';

describe('DebugConsole', () => {
  it('reads back 0xE9 so SeaBIOS enables its debug output', () => {
    const con = new DebugConsole();
    expect(con.ioRead(0x402, 1, 0)).toBe(0xe9);
    expect(con.ioRead(0xe9, 1, 0)).toBe(0xe9);
  });

  it('passes every byte to onOutput and complete lines to onLine, on both ports', () => {
    const bytes: number[] = [];
    const lines: string[] = [];
    const con = new DebugConsole({ onOutput: (b) => bytes.push(b), onLine: (l) => lines.push(l) });
    for (const c of 'SeaBIOS\r\n') con.ioWrite(0x402, 1, c.charCodeAt(0), 0);
    for (const c of 'ok\nrest') con.ioWrite(0xe9, 1, c.charCodeAt(0), 0);
    expect(lines).toEqual(['SeaBIOS', 'ok']);
    expect(String.fromCharCode(...bytes)).toBe('SeaBIOS\r\nok\nrest');
  });

  it('ignores other ports and widths, counting them', () => {
    const bytes: number[] = [];
    const con = new DebugConsole({ ports: [0x402], onOutput: (b) => bytes.push(b) });
    con.ioWrite(0xe9, 1, 0x41, 0);
    con.ioWrite(0x402, 2, 0x4141, 0);
    expect(bytes).toEqual([]);
    expect(con.counters).toMatchObject({ badWidth: 1, unknownRegister: 1 });
  });

  it('save/restore keeps the unterminated line', () => {
    const lines: string[] = [];
    const con = new DebugConsole({ onLine: (l) => lines.push(l) });
    con.ioWrite(0x402, 1, 0x61, 0);
    expect(checkSaveRestore(con, (m) => m.ioWrite(0x402, 1, 0x62, 0))).toBeNull();
    con.ioWrite(0x402, 1, 0x0a, 0);
    expect(lines).toEqual(['a']);
    expect(() => con.loadState({ device: 'debug-console', version: 1, pendingLine: '\u1234' })).toThrow(DeviceStateError);
    expect(() => con.loadState({ device: 'debug-console', version: 1 })).toThrow(DeviceStateError);
  });
});
