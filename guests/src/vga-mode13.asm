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

; Mode 13h register values (IBM VGA Technical Reference, BIOS parameter table for mode 13h).
set_mode13:
    mov al, 0x63
    mov dx, VGA_MISC_W
    out dx, al
    mov dx, VGA_SEQ
    mov si, seq13
    mov cx, 5
    call write_indexed
    mov dx, VGA_CRTC
    mov ax, 0x0E11              ; CR11 without the protect bit, so CR0-CR7 take writes
    out dx, ax
    mov si, crtc13
    mov cx, 25
    call write_indexed
    mov dx, VGA_GC
    mov si, gc13
    mov cx, 9
    call write_indexed
    mov dx, VGA_ISR1
    in al, dx
    mov dx, VGA_AC
    xor bl, bl
    mov si, ac13
.ac:
    mov al, bl
    out dx, al
    cs lodsb
    out dx, al
    inc bl
    cmp bl, 21
    jb .ac
    mov al, 0x20
    out dx, al
    ret

seq13:  db 0x03, 0x01, 0x0F, 0x00, 0x0E
crtc13: db 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00
        db 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF
gc13:   db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF
ac13:   db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
        db 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F
        db 0x41, 0x00, 0x0F, 0x00, 0x00

%include "vga-mode3.inc"
%include "serial-routines.inc"
    firmware_end 0, 0
