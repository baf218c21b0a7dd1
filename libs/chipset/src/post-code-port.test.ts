import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { PostCodePort } from './post-code-port.js';

describe('PostCodePort', () => {
  it('keeps the last code and the history, and reads the last code back', () => {
    const seen: Array<[number, number]> = [];
    const post = new PostCodePort({ onCode: (c, t) => seen.push([c, t]) });
    expect(post.lastCode).toBeNull();
    post.ioWrite(0x80, 1, 0x11, 10);
    post.ioWrite(0x80, 1, 0x1ab, 20);
    expect(post.lastCode).toBe(0xab);
    expect(post.history).toEqual([0x11, 0xab]);
    expect(post.ioRead(0x80, 1, 30)).toBe(0xab);
    expect(seen).toEqual([[0x11, 10], [0xab, 20]]);
  });

  it('bounds the history, dropping the oldest', () => {
    const post = new PostCodePort({ historyLength: 3 });
    for (let i = 1; i <= 5; i++) post.ioWrite(0x80, 1, i, i);
    expect(post.history).toEqual([3, 4, 5]);
  });

  it('counts word accesses and foreign ports as no-ops', () => {
    const post = new PostCodePort();
    post.ioWrite(0x80, 2, 0x1234, 0);
    post.ioWrite(0x81, 1, 0x12, 0);
    expect(post.lastCode).toBeNull();
    expect(post.ioRead(0x80, 4, 0)).toBe(0xffffffff);
    expect(post.counters).toMatchObject({ badWidth: 2, unknownRegister: 1 });
  });

  it('save/restore contract and malformed state', () => {
    const post = new PostCodePort();
    post.ioWrite(0x80, 1, 0x55, 0);
    expect(checkSaveRestore(post, (m) => m.ioWrite(0x80, 1, 0x66, 1))).toBeNull();
    expect(post.lastCode).toBe(0x55);
    const good = post.saveState();
    expect(() => post.loadState({ ...good, history: [256] })).toThrow(DeviceStateError);
    expect(() => post.loadState({ ...good, lastCode: 'x' })).toThrow(DeviceStateError);
    expect(post.history).toEqual([0x55]);
  });
});
