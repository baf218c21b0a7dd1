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

%define PIC1_CMD   0x20
%define PIC1_DATA  0x21
%define PIC2_CMD   0xA0
%define PIC2_DATA  0xA1
%define ICW1_INIT_ICW4 0x11     ; ICW1: init, edge triggered, cascade, ICW4 follows
%define ICW4_8086  0x01         ; ICW4: 8086 mode, normal EOI
%define OCW2_EOI   0x20         ; OCW2: non-specific EOI
%define MASTER_BASE 0x08
%define SLAVE_BASE  0x70
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

    mov al, ICW1_INIT_ICW4
    out PIC1_CMD, al
    out PIC2_CMD, al
    mov al, MASTER_BASE
    out PIC1_DATA, al
    mov al, SLAVE_BASE
    out PIC2_DATA, al
    mov al, 0x04                ; master: slave on IR2
    out PIC1_DATA, al
    mov al, 0x02                ; slave: cascade identity 2
    out PIC2_DATA, al
    mov al, ICW4_8086
    out PIC1_DATA, al
    out PIC2_DATA, al
    mov al, 0xFE                ; unmask IRQ 0 only
    out PIC1_DATA, al
    mov al, 0xFF
    out PIC2_DATA, al

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
