; vga-echo: a screen and keyboard guest that needs no VGA BIOS. It programs the VGA for
; text mode 3 itself (80x25, 9x16 cells: registers, a 16-colour palette and the 8x16
; font in plane 2), writes to the text buffer at 0xB8000 and echoes what is typed there.
; Keys arrive on IRQ 1 from the i8042 (scan code translation to set 1 on), the guest
; sleeps in HLT between them.
; Screen:
;   row 0:  "vga-echo: ready" (bright white on blue)
;   row 2:  "> " then the typed characters (shift works; Enter starts a new row below,
;           Backspace erases)
;   row 24: "scancode=0x1e" the last byte read from the keyboard controller
; Serial: "vga-echo: ready", then "key=0x000000NN" per byte read, like keyboard-echo.
%include "firmware.inc"
%include "serial.inc"
%include "pic.inc"
%include "vga.inc"

%define KBC_DATA    0x60
%define KBC_STATUS  0x64
%define KBC_COMMAND 0x64
%define STATUS_OBF  0x01
%define STATUS_IBF  0x02
%define CMD_WRITE_COMMAND_BYTE 0x60
; Command byte: IRQ 1 on (bit 0), system flag (bit 2), translation to set 1 (bit 6).
%define KBC_COMMAND_BYTE 0x45
%define IRQ1_VECTOR (MASTER_BASE + 1)

%define PROMPT_ROW  2
%define STATUS_ROW  24
%define ATTR_BANNER 0x1F        ; bright white on blue
%define ATTR_TEXT   0x07        ; light grey on black

%define CURSOR      VARS        ; word: text buffer offset of the next typed character
%define SHIFT       VARS + 2    ; byte: a shift key is down

start:
    guest_init
    call vga_set_mode3
    call vga_load_palette
    call vga_load_font
    call vga_clear

    mov ax, TEXT_SEG
    mov es, ax
    mov si, banner
    xor di, di
    mov ah, ATTR_BANNER
    call vga_puts
    mov si, prompt
    mov di, PROMPT_ROW * ROW_BYTES
    mov ah, ATTR_TEXT
    call vga_puts
    mov [CURSOR], di
    mov byte [SHIFT], 0

    mov word [IRQ1_VECTOR * 4], irq1_handler
    mov word [IRQ1_VECTOR * 4 + 2], 0xF000
    pic_init 0xFD               ; unmask IRQ 1 only
    call kbc_wait_input
    mov al, CMD_WRITE_COMMAND_BYTE
    out KBC_COMMAND, al
    call kbc_wait_input
    mov al, KBC_COMMAND_BYTE
    out KBC_DATA, al
    print_line "vga-echo: ready"

.wait:
    cli
    in al, KBC_STATUS
    test al, STATUS_OBF
    jnz .key
    sti
    hlt                         ; sti's shadow: an IRQ cannot slip in before the hlt
    jmp .wait
.key:
    in al, KBC_DATA
    movzx eax, al
    print "key="
    call serial_hex32
    call serial_crlf
    call show_scancode
    call handle_scancode
    jmp .wait

irq1_handler:
    push ax
    mov al, OCW2_EOI
    out PIC1_CMD, al
    pop ax
    iret

kbc_wait_input:
    in al, KBC_STATUS
    test al, STATUS_IBF
    jnz kbc_wait_input
    ret

; AL = set 1 scan code byte. Tracks shift, echoes printable keys, Enter and Backspace.
handle_scancode:
    cmp al, 0x2A                ; left shift make
    je .shift_down
    cmp al, 0x36                ; right shift make
    je .shift_down
    cmp al, 0xAA                ; left shift break
    je .shift_up
    cmp al, 0xB6                ; right shift break
    je .shift_up
    cmp al, KEYMAP_SIZE
    jae .done                   ; breaks, prefixes and keys without a character
    movzx bx, al
    cmp byte [SHIFT], 0
    je .plain
    mov al, [cs:keymap_shift + bx]
    jmp .have
.plain:
    mov al, [cs:keymap + bx]
.have:
    test al, al
    jz .done
    mov di, [CURSOR]
    cmp al, 13
    je .enter
    cmp al, 8
    je .backspace
    cmp al, 32
    jb .done                    ; Esc, Tab: nothing to show
    mov ah, ATTR_TEXT
    stosw
    cmp di, STATUS_ROW * ROW_BYTES
    jb .store
.enter:                         ; next row, under the prompt's text column
    mov ax, di
    xor dx, dx
    mov cx, ROW_BYTES
    div cx
    inc ax
    cmp ax, STATUS_ROW
    jb .row_ok
    mov ax, PROMPT_ROW + 1      ; wrap: back to the first row under the prompt
.row_ok:
    mul cx
    add ax, 4
    mov di, ax
    jmp .store
.backspace:
    cmp di, PROMPT_ROW * ROW_BYTES + 4
    jbe .done
    sub di, 2
    mov word [es:di], (ATTR_TEXT << 8) | ' '
.store:
    mov [CURSOR], di
.done:
    ret
.shift_down:
    mov byte [SHIFT], 1
    ret
.shift_up:
    mov byte [SHIFT], 0
    ret

; AL = scan code byte: row 24 reads "scancode=0xNN". Preserves AX.
show_scancode:
    push ax
    push bx
    push di
    push si
    mov bl, al
    mov di, STATUS_ROW * ROW_BYTES
    mov si, scancode_label
    mov ah, ATTR_TEXT
    call vga_puts
    mov al, bl
    shr al, 4
    call hex_digit
    mov al, bl
    and al, 0x0F
    call hex_digit
    pop si
    pop di
    pop bx
    pop ax
    ret

; AL = 0-15: writes its hex digit at ES:DI (grey), DI += 2.
hex_digit:
    push ax
    add al, '0'
    cmp al, '9'
    jbe .put
    add al, 'a' - '0' - 10
.put:
    mov ah, ATTR_TEXT
    stosw
    pop ax
    ret

; CS:SI = NUL-terminated string, AH = attribute, ES:DI = text buffer offset; DI ends after it.
vga_puts:
    push si
.next:
    cs lodsb
    test al, al
    jz .done
    stosw
    jmp .next
.done:
    pop si
    ret

; Fills the 80x25 screen with grey blanks. Leaves ES = text segment.
vga_clear:
    mov ax, TEXT_SEG
    mov es, ax
    xor di, di
    mov ax, (ATTR_TEXT << 8) | ' '
    mov cx, 80 * 25
    rep stosw
    ret

banner:         db "vga-echo: ready", 0
prompt:         db "> ", 0
scancode_label: db "scancode=0x", 0

; Set 1 make codes 0x00-0x39 to characters (US layout); 0 = no character.
keymap:
    db 0, 27, "1234567890-=", 8, 9, "qwertyuiop[]", 13, 0, "asdfghjkl;'`", 0, "\zxcvbnm,./", 0, "*", 0, " "
KEYMAP_SIZE equ $ - keymap
keymap_shift:
    db 0, 27, "!@#$%^&*()_+", 8, 9, "QWERTYUIOP{}", 13, 0, 'ASDFGHJKL:"~', 0, "|ZXCVBNM<>?", 0, "*", 0, " "

%include "vga-mode3.inc"
%include "serial-routines.inc"
    firmware_end 0, 0
