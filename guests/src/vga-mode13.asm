; vga-mode13: mode 13h (320x200, 256 colours, chain-4) programmed through the registers,
; no VGA BIOS. Loads DAC entries 0-15 with (4i, 63 - 4i, 2i) and entry 0x20 with yellow
; (63, 63, 0), then draws 16 vertical bands 20 pixels wide (pixel (x, y) = colour x / 20),
; stored four pixels at a time, and a 50x40 yellow rectangle at (100, 50).
; Serial: "vga-mode13: done".
%include "firmware.inc"
%include "serial.inc"
%include "vga.inc"

%define GFX_SEG     0xA000
%define WIDTH       320
%define HEIGHT      200
%define BAND        20
%define YELLOW      0x20
%define RECT_X      100
%define RECT_Y      50
%define RECT_W      50
%define RECT_H      40

start:
    guest_init
    call set_mode13
    ; DAC: entries 0-15, then 0x20.
    mov dx, VGA_DAC_W
    xor al, al
    out dx, al
    mov dx, VGA_DAC
    xor bl, bl
.dac:
    mov al, bl
    shl al, 2
    out dx, al                  ; red 4i
    mov al, 63
    sub al, bl
    sub al, bl
    sub al, bl
    sub al, bl
    out dx, al                  ; green 63 - 4i
    mov al, bl
    shl al, 1
    out dx, al                  ; blue 2i
    inc bl
    cmp bl, 16
    jb .dac
    mov dx, VGA_DAC_W
    mov al, YELLOW
    out dx, al
    mov dx, VGA_DAC
    mov al, 63
    out dx, al
    out dx, al
    xor al, al
    out dx, al

    mov ax, GFX_SEG
    mov es, ax
    xor di, di
    mov si, HEIGHT
.row:
    xor ebx, ebx                ; band colour, repeated in all four bytes
.band:
    mov eax, ebx
    mov ecx, BAND / 4
    rep stosd
    add ebx, 0x01010101
    cmp bl, WIDTH / BAND
    jb .band
    dec si
    jnz .row

    mov di, RECT_Y * WIDTH + RECT_X
    mov dx, RECT_H
    mov al, YELLOW
.rect:
    mov cx, RECT_W
    rep stosb
    add di, WIDTH - RECT_W
    dec dx
    jnz .rect
    print_line "vga-mode13: done"
    halt_forever

%include "vga-mode13.inc"
%include "vga-mode3.inc"
%include "serial-routines.inc"
    firmware_end 0, 0
