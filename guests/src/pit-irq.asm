; pit-irq: lets the 8254 PIT drive IRQ 0. Sets up the 8259A pair like interrupts.asm
; (master vectors 0x08-0x0F, slave 0x70-0x77, edge), unmasks only IRQ 0, programs PIT
; channel 0 as a rate generator (mode 2, binary) with reload value param0 (default 11932,
; about 100 Hz), then loops "sti; hlt" until the handler has counted param1 (default 10)
; interrupts. Afterwards it masks IRQ 0 and leaves channel 0 waiting for a new count
; (mode 0 control word, no count written), so the timer falls silent.
; Output, then halt with interrupts off:
;   "pit-irq: counting"
;   "pit-irq: received=0x0000000a"
%include "firmware.inc"
%include "serial.inc"
%include "pic.inc"

%define IRQ0_VECTOR MASTER_BASE

; 8254 (Intel 8254 datasheet, "Control Word Format"): SC=00 channel 0, RW=11 LSB then
; MSB, M=010 rate generator / M=000 interrupt on terminal count, BCD=0.
%define PIT_CH0    0x40
%define PIT_CTRL   0x43
%define PIT_CH0_MODE2 0x34
%define PIT_CH0_MODE0 0x30
%define COUNT      VARS         ; dword: interrupts received

start:
    guest_init
    mov dword [COUNT], 0
    mov word [IRQ0_VECTOR * 4], irq0_handler
    mov word [IRQ0_VECTOR * 4 + 2], 0xF000

    pic_init 0xFE               ; unmask IRQ 0 only

    mov al, PIT_CH0_MODE2
    out PIT_CTRL, al
    mov eax, [cs:param0]
    out PIT_CH0, al             ; reload LSB
    mov al, ah
    out PIT_CH0, al             ; reload MSB

    print_line "pit-irq: counting"
.wait:
    sti
    hlt                         ; sti's one-instruction shadow: no wake-up is lost
    cli
    mov eax, [COUNT]
    cmp eax, [cs:param1]
    jb .wait

    mov al, 0xFF
    out PIC1_DATA, al           ; mask IRQ 0 again
    mov al, PIT_CH0_MODE0
    out PIT_CTRL, al            ; channel 0 waits for a count that never comes

    print "pit-irq: received="
    mov eax, [COUNT]
    call serial_hex32
    call serial_crlf
    halt_forever

irq0_handler:
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    inc dword [COUNT]
    mov al, OCW2_EOI
    out PIC1_CMD, al
    pop ds
    pop ax
    iret

%include "serial-routines.inc"
    firmware_end 11932, 10
