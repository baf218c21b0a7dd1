/**
 * Text mode 3 for a direct kernel boot with a VGA. With QEMU's -kernel the firmware's VGA
 * BIOS has set mode 3 before Linux starts, and Linux's VGA console (vgacon) relies on it:
 * it finds the mode in the zero page's screen_info and programs nothing but the cursor
 * and the start address. No BIOS runs here, so the loader does what the VGA BIOS does: a
 * short piece of 32-bit guest code, run first, writes the mode-3 registers (IBM VGA
 * Technical Reference, BIOS parameter table for mode 3), the EGA palette into the DAC and
 * the 8x16 font into plane 2, then jumps to the kernel's entry. It runs as guest code, so
 * both CPU backends and a remote VGA see ordinary port and memory writes.
 */

/** Ports (FreeVGA "VGA Chipset Reference"). */
const AC = 0x3c0;
const MISC_W = 0x3c2;
const SEQ = 0x3c4;
const DAC_W = 0x3c8;
const DAC_DATA = 0x3c9;
const GC = 0x3ce;
const CRTC = 0x3d4;
const ISR1 = 0x3da; // reading it resets the attribute controller's flip-flop

const SEQ_REGS = [0x03, 0x00, 0x03, 0x00, 0x02];
// Cursor start 0x0D / end 0x0E: the BIOS's underline cursor for 16-line characters.
const CRTC_REGS = [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff];
const GC_REGS = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff];
const AC_REGS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00];
const FONT_GLYPHS = 256;
const FONT_HEIGHT = 16;
/** Plane 2 keeps 32 bytes per glyph, 16 of them used. */
const GLYPH_SLOT = 32;

/** struct screen_info at the start of the zero page (arch/x86 uapi/linux/screen_info.h). */
const SI_ORIG_VIDEO_MODE = 0x06;
const SI_ORIG_VIDEO_COLS = 0x07;
const SI_ORIG_VIDEO_EGA_BX = 0x0a;
const SI_ORIG_VIDEO_LINES = 0x0e;
const SI_ORIG_VIDEO_IS_VGA = 0x0f;
const SI_ORIG_VIDEO_POINTS = 0x10;

/** The 8x16 font of SeaVGABIOS (public domain, fntcol16), found by its second glyph, the smiley. */
export function fontFromVgaBios(rom: Uint8Array): Uint8Array {
  const smiley = [0, 0, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e, 0, 0, 0, 0];
  const at = Buffer.from(rom).indexOf(Buffer.from(smiley));
  if (at < FONT_HEIGHT || at - FONT_HEIGHT + FONT_GLYPHS * FONT_HEIGHT > rom.length) throw new Error('no 8x16 font found in the VGA BIOS image');
  return rom.slice(at - FONT_HEIGHT, at - FONT_HEIGHT + FONT_GLYPHS * FONT_HEIGHT);
}

/** Tells Linux what the "BIOS" left: mode 3, 80x25 colour VGA, 16-line characters. */
export function describeTextMode(zeroPage: Uint8Array): void {
  zeroPage[SI_ORIG_VIDEO_MODE] = 3;
  zeroPage[SI_ORIG_VIDEO_COLS] = 80;
  zeroPage[SI_ORIG_VIDEO_EGA_BX] = 0x03; // int 10h AH=12h BL=10h: colour, 256 KiB
  zeroPage[SI_ORIG_VIDEO_LINES] = 25;
  zeroPage[SI_ORIG_VIDEO_IS_VGA] = 1;
  zeroPage[SI_ORIG_VIDEO_POINTS] = FONT_HEIGHT;
}

/** The EGA's 64 colours in 6-bit DAC values: bits 0-2 blue, green, red at 2/3, bits 3-5 the same at 1/3. */
function egaPalette(): number[] {
  const out: number[] = [];
  for (let colour = 0; colour < 64; colour++) {
    for (const bit of [2, 1, 0]) out.push(((colour >> bit) & 1) * 0x2a + ((colour >> (bit + 3)) & 1) * 0x15);
  }
  return out;
}

/** 32-bit machine code, a few instruction forms. */
class Code {
  readonly bytes: number[] = [];
  constructor(readonly origin: number) {}
  private imm32(v: number): void {
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  /** mov dx, port; mov al, value; out dx, al */
  out(port: number, value: number): void {
    this.bytes.push(0x66, 0xba, port & 0xff, port >> 8, 0xb0, value & 0xff, 0xee);
  }
  /** mov dx, port; in al, dx */
  in(port: number): void {
    this.bytes.push(0x66, 0xba, port & 0xff, port >> 8, 0xec);
  }
  indexed(port: number, values: number[]): void {
    values.forEach((v, i) => {
      this.out(port, i);
      this.out(port + 1, v);
    });
  }
  /** Copies the glyphs at `font` into 32-byte slots from `dest`: esi, edi, ebx, ecx. */
  copyGlyphs(font: number, dest: number): void {
    this.bytes.push(0xbe); // mov esi, font
    this.imm32(font);
    this.bytes.push(0xbf); // mov edi, dest
    this.imm32(dest);
    this.bytes.push(0xbb); // mov ebx, glyphs
    this.imm32(FONT_GLYPHS);
    // .glyph: mov ecx, 16; rep movsb; add edi, 16; dec ebx; jnz .glyph (13 bytes back)
    this.bytes.push(0xb9);
    this.imm32(FONT_HEIGHT);
    this.bytes.push(0xf3, 0xa4, 0x83, 0xc7, GLYPH_SLOT - FONT_HEIGHT, 0x4b, 0x75, 0x100 - 13);
  }
  /** The kernel's entry state (boot.rst): ESI = zero page, EBP, EDI, EBX zero; then jmp entry. */
  enterKernel(zeroPage: number, entry: number): void {
    this.bytes.push(0x31, 0xc0, 0x31, 0xdb, 0x31, 0xc9, 0x31, 0xd2, 0x31, 0xff, 0x31, 0xed); // xor eax/ebx/ecx/edx/edi/ebp
    this.bytes.push(0xbe); // mov esi, zeroPage
    this.imm32(zeroPage);
    const next = this.origin + this.bytes.length + 5;
    this.bytes.push(0xe9); // jmp rel32
    this.imm32((entry - next) >>> 0);
  }
}

/**
 * The guest code that sets mode 3 and jumps to `entry`, to be placed at `at` with the font
 * right after it. Expects flat 32-bit protected mode with DF clear (the kernel's entry state).
 */
export function textModeSetup(at: number, font: Uint8Array, zeroPage: number, entry: number): Uint8Array {
  const code = new Code(at);
  code.out(MISC_W, 0x67);
  code.out(SEQ, 0x00);
  code.out(SEQ + 1, 0x01); // sequencer in synchronous reset while the clocks change
  code.indexed(SEQ, SEQ_REGS);
  code.out(CRTC, 0x11);
  code.out(CRTC + 1, 0x0e); // CRTC registers 0-7 writable (clear the protect bit)
  code.indexed(CRTC, CRTC_REGS);
  code.indexed(GC, GC_REGS);
  code.in(ISR1);
  AC_REGS.forEach((v, i) => {
    code.out(AC, i);
    code.out(AC, v);
  });
  code.out(AC, 0x20); // PAS: the attribute controller drives the display again
  code.out(DAC_W, 0);
  for (const v of egaPalette()) code.out(DAC_DATA, v);
  // Plane 2 opened for plain writes at A0000h, then the text-mode mapping put back.
  code.out(SEQ, 0x02);
  code.out(SEQ + 1, 0x04); // map mask: plane 2
  code.out(SEQ, 0x04);
  code.out(SEQ + 1, 0x07); // memory mode: sequential, extended memory
  code.out(GC, 0x04);
  code.out(GC + 1, 0x02); // read map: plane 2
  code.out(GC, 0x05);
  code.out(GC + 1, 0x00); // mode: no odd/even
  code.out(GC, 0x06);
  code.out(GC + 1, 0x04); // misc: A0000h, 64 KiB
  const fontAt = at + 0x1000; // the code stays under 4 KiB
  code.copyGlyphs(fontAt, 0xa0000);
  code.out(SEQ, 0x02);
  code.out(SEQ + 1, 0x03); // map mask: planes 0 and 1 (characters, attributes)
  code.out(SEQ, 0x04);
  code.out(SEQ + 1, 0x02); // memory mode: odd/even
  code.out(GC, 0x04);
  code.out(GC + 1, 0x00);
  code.out(GC, 0x05);
  code.out(GC + 1, 0x10); // mode: odd/even
  code.out(GC, 0x06);
  code.out(GC + 1, 0x0e); // misc: B8000h, 32 KiB, chained odd/even
  code.enterKernel(zeroPage, entry);
  if (at + code.bytes.length > fontAt) throw new Error('VGA text setup code outgrew its 4 KiB');
  const image = new Uint8Array(fontAt - at + font.length);
  image.set(code.bytes, 0);
  image.set(font, fontAt - at);
  return image;
}
