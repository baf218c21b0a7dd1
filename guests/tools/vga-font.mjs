#!/usr/bin/env node
// Writes guests/src/include/vga-font-8x16.inc: the 8x16 VGA font as nasm data, taken from
// Debian's SeaVGABIOS (/usr/share/seabios/vgabios-stdvga.bin, package `seabios`). That font
// is the public-domain one from Joseph Gil's fntcol16 collection (SeaVGABIOS vgafonts.c).
// Guests that run without a VGA BIOS load it into plane 2 themselves. Run once; the output
// is committed so building the guests needs only nasm.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rom = readFileSync(process.argv[2] ?? '/usr/share/seabios/vgabios-stdvga.bin');
// Glyph 1 (the smiley) identifies the table; glyph 0 is blank and precedes it.
const smiley = Buffer.from([0, 0, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e, 0, 0, 0, 0]);
const at = rom.indexOf(smiley);
if (at < 16) throw new Error('8x16 font not found in the VGA BIOS image');
const font = rom.subarray(at - 16, at - 16 + 256 * 16);
const lines = ['; The 8x16 VGA font (256 glyphs x 16 rows, row bytes MSB = leftmost pixel).', '; Public domain (Joseph Gil, fntcol16); extracted from SeaVGABIOS by guests/tools/vga-font.mjs.', 'vga_font_8x16:'];
for (let c = 0; c < 256; c++) lines.push(`    db ${[...font.subarray(c * 16, c * 16 + 16)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(',')} ; ${c}`);
writeFileSync(fileURLToPath(new URL('../src/include/vga-font-8x16.inc', import.meta.url)), lines.join('\n') + '\n');
