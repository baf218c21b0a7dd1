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
%include "pic.inc"

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

    mov bl, 1
    shl bl, cl
    not bl                      ; unmask only our line
    pic_init bl

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
