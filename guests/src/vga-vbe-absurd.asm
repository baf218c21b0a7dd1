; vga-vbe-absurd: asks the Bochs VBE DISPI interface for modes no adapter could hold, and
; prints what the registers read back after each request (ENABLE set with LFB each time):
;   "vga-vbe-absurd: 65535x65535x32 -> 0x<xres> 0x<yres> 0x<bpp> 0x<enable>"
;   "vga-vbe-absurd: 4096x4096x32 -> ..."      (64 MiB: more than the VBE memory)
;   "vga-vbe-absurd: 1024x768x64 -> ..."       (no such depth)
;   "vga-vbe-absurd: 1920x1080x32 -> ..."      (a real mode, which must be taken)
; then "vga-vbe-absurd: done".
%include "firmware.inc"
%include "serial.inc"

%define DISPI_INDEX     0x1CE
%define DISPI_DATA      0x1CF
%define DISPI_XRES      1
%define DISPI_YRES      2
%define DISPI_BPP       3
%define DISPI_ENABLE    4

start:
    guest_init
    mov si, requests
.next:
    cmp word [cs:si], 0
    je .done
    ; disable, xres, yres, bpp, enable (enabled + LFB)
    mov bx, DISPI_ENABLE
    xor cx, cx
    call dispi_write
    mov bx, DISPI_XRES
    mov cx, [cs:si]
    call dispi_write
    mov bx, DISPI_YRES
    mov cx, [cs:si + 2]
    call dispi_write
    mov bx, DISPI_BPP
    mov cx, [cs:si + 4]
    call dispi_write
    mov bx, DISPI_ENABLE
    mov cx, 0x41
    call dispi_write
    push si
    mov si, [cs:si + 6]
    call serial_puts
    pop si
    mov bx, DISPI_XRES
.show:
    call dispi_read
    call serial_hex32
    cmp bx, DISPI_ENABLE
    je .line_end
    mov al, ' '
    call serial_putc
    inc bx
    jmp .show
.line_end:
    call serial_crlf
    add si, 8
    jmp .next
.done:
    print_line "vga-vbe-absurd: done"
    halt_forever

; BX = register index, CX = value.
dispi_write:
    mov dx, DISPI_INDEX
    mov ax, bx
    out dx, ax
    mov dx, DISPI_DATA
    mov ax, cx
    out dx, ax
    ret

; BX = register index: EAX = its value.
dispi_read:
    mov dx, DISPI_INDEX
    mov ax, bx
    out dx, ax
    mov dx, DISPI_DATA
    in ax, dx
    movzx eax, ax
    ret

requests:
    dw 65535, 65535, 32, label_huge
    dw 4096, 4096, 32, label_big
    dw 1024, 768, 64, label_depth
    dw 1920, 1080, 32, label_real
    dw 0
label_huge:  db "vga-vbe-absurd: 65535x65535x32 -> ", 0
label_big:   db "vga-vbe-absurd: 4096x4096x32 -> ", 0
label_depth: db "vga-vbe-absurd: 1024x768x64 -> ", 0
label_real:  db "vga-vbe-absurd: 1920x1080x32 -> ", 0

%include "serial-routines.inc"
    firmware_end 0, 0
