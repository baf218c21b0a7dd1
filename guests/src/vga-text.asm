; vga-text: text on the screen without a VGA BIOS, for the display tests and
; bench/vga-window. Programs text mode 3 itself (vga-mode3.inc: registers, EGA palette,
; 8x16 font in plane 2), then scrolls param0 lines the way a console does (pass k moves
; rows 1-24 up one row with rep movsw, reading the text buffer, and stores a new row 24 of
; 'A' + k mod 26, grey on black, one word at a time), then leaves this screen:
;   row 0:  "vga-text: Hello, VGA!"   bright white on blue (0x1F), the rest of the row blank
;   row 1:  a full block (DBh) in column 0, red on black (0x04)
;   row 24: "passes=0x" and param0 in hex, grey on black
;   every other cell: a grey blank
; Serial: "vga-text: scrolling", then "vga-text: done" once the final screen is written.
%include "firmware.inc"
%include "serial.inc"
%include "vga.inc"

%define ATTR_BANNER 0x1F
%define ATTR_TEXT   0x07
%define ATTR_RED    0x04

start:
    guest_init
    call vga_set_mode3
    call vga_load_palette
    call vga_load_font
    mov ax, TEXT_SEG
    mov es, ax
    print_line "vga-text: scrolling"
    mov ebp, [cs:param0]
    mov al, 'A'
    mov ah, ATTR_TEXT
.pass:
    test ebp, ebp
    jz .final
    push ax
    push ds                     ; scroll up one row: what a console does per new line
    push es
    pop ds
    mov si, ROW_BYTES
    xor di, di
    mov cx, 80 * 24
    rep movsw
    pop ds
    pop ax
    mov cx, 80                  ; the new bottom row, one word store at a time
.cell:
    mov [es:di], ax
    add di, 2
    loop .cell
    inc al
    cmp al, 'Z'
    jbe .next
    mov al, 'A'
.next:
    dec ebp
    jmp .pass

.final:
    xor di, di
    mov ax, (ATTR_TEXT << 8) | ' '
    mov cx, 80 * 25
    rep stosw
    mov si, banner
    xor di, di
    mov ah, ATTR_BANNER
    call puts
    mov word [es:ROW_BYTES], (ATTR_RED << 8) | 0xDB
    mov si, passes_label
    mov di, 24 * ROW_BYTES
    mov ah, ATTR_TEXT
    call puts
    mov ebx, [cs:param0]
    call screen_hex32
    print_line "vga-text: done"
    halt_forever

banner:       db "vga-text: Hello, VGA!", 0
passes_label: db "passes=0x", 0

%include "vga-text-routines.inc"
%include "vga-mode3.inc"
%include "serial-routines.inc"
    firmware_end 0, 0
