; vga-window-modes: the memory window protocol across mode changes. Mode 13h (chain-4: a
; window the vCPU may map as RAM), DAC 1 red, 2 green, 3 blue; then:
;   1. fills the screen with colour 1 through the window (mapped: no exits)
;   2. at once sets the graphics controller's logical function to XOR (GR3 = 18h): the
;      window must trap now, and the fill must have reached the VGA before this write
;   3. XORs a 50x40 rectangle at (100, 50) with 3 by read (loads the latches) + write:
;      through the VGA's ALU the pixels become 1 ^ 3 = 2 (green); a store that missed the
;      VGA would leave 3 (blue), one that found no fill 0 ^ 3 = 3
;   4. sets GR3 back to 0 (the window may be mapped again, filled from the VGA's memory)
;      and draws a 20x20 rectangle of colour 3 at (200, 100) with plain stores
; Serial: "vga-window-modes: done".
%include "firmware.inc"
%include "serial.inc"
%include "vga.inc"

%define GFX_SEG     0xA000
%define WIDTH       320
%define GR_ROTATE   3
%define XOR_RECT    (50 * WIDTH + 100)
%define BLUE_RECT   (100 * WIDTH + 200)

start:
    guest_init
    call set_mode13
    mov dx, VGA_DAC_W
    mov al, 1
    out dx, al
    mov dx, VGA_DAC
    mov si, dac
    mov cx, 9
.dac:
    cs lodsb
    out dx, al
    loop .dac

    mov ax, GFX_SEG
    mov es, ax
    xor di, di
    mov eax, 0x01010101
    mov ecx, WIDTH * 200 / 4
    rep stosd

    mov dx, VGA_GC
    mov ax, (0x18 << 8) | GR_ROTATE
    out dx, ax

    mov di, XOR_RECT
    mov dx, 40
.xrow:
    mov cx, 50
.xpix:
    mov al, [es:di]
    mov byte [es:di], 3
    inc di
    loop .xpix
    add di, WIDTH - 50
    dec dx
    jnz .xrow

    mov dx, VGA_GC
    mov ax, (0x00 << 8) | GR_ROTATE
    out dx, ax

    mov di, BLUE_RECT
    mov dx, 20
    mov al, 3
.brow:
    mov cx, 20
    rep stosb
    add di, WIDTH - 20
    dec dx
    jnz .brow
    print_line "vga-window-modes: done"
    halt_forever

dac:    db 63, 0, 0, 0, 63, 0, 0, 0, 63

%include "vga-mode13.inc"
%include "vga-mode3.inc"
%include "serial-routines.inc"
    firmware_end 0, 0
