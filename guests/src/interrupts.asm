; interrupts: waits for param0 (default 10) interrupts on master-PIC line param1
; (default IRQ 0). Programs the 8259A pair like a PC BIOS (master vectors 0x08-0x0F,
; slave 0x70-0x77, edge triggered), points the IVT entry of the line's vector at its
; handler, unmasks only that line, then loops "sti; hlt" until the handler has counted
; param0 interrupts. The handler sends a non-specific EOI to the master PIC.
; Output, then halt with interrupts off:
;   "interrupts: waiting"
;   "interrupts: received=0x0000000a"
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
%define COUNT      VARS         ; dword: interrupts received

start:
    guest_init
    mov dword [COUNT], 0

    ; IVT entry of vector MASTER_BASE + irq -> F000:irq_handler
    movzx bx, byte [cs:param1]
    and bx, 7
    mov cl, bl                  ; keep the line number for the mask
    add bx, MASTER_BASE
    shl bx, 2
    mov word [bx], irq_handler
    mov word [bx + 2], 0xF000

    ; ICW1-ICW4 for both PICs, then OCW1 masks
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
    mov al, 1
    shl al, cl
    not al                      ; unmask only our line
    out PIC1_DATA, al
    mov al, 0xFF
    out PIC2_DATA, al

    print_line "interrupts: waiting"
.wait:
    sti
    hlt                         ; sti's one-instruction shadow: no wake-up is lost
    cli
    mov eax, [COUNT]
    cmp eax, [cs:param0]
    jb .wait

    print "interrupts: received="
    mov eax, [COUNT]
    call serial_hex32
    call serial_crlf
    halt_forever

irq_handler:
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
    firmware_end 10, 0
