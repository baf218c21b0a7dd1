import { expect, test } from 'vitest';
import { textToSet2 } from '../src/machine/keymap.js';

test('text becomes set-2 make/break codes, with shift around capitals and symbols', () => {
  expect(textToSet2('a')).toEqual([0x1c, 0xf0, 0x1c]);
  expect(textToSet2('A')).toEqual([0x12, 0x1c, 0xf0, 0x1c, 0xf0, 0x12]);
  expect(textToSet2('!\n')).toEqual([0x12, 0x16, 0xf0, 0x16, 0xf0, 0x12, 0x5a, 0xf0, 0x5a]);
  expect(() => textToSet2('é')).toThrow(/US keyboard/);
});
