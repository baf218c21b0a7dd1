; triple-fault: prints a line, loads an empty interrupt table (limit 0) and executes
; an undefined opcode. #UD cannot be delivered (vector beyond the limit), nor can the
; #GP and #DF that follow: the CPU shuts down (KVM_EXIT_SHUTDOWN; a PC would reset).
; Output: "triple-fault: loading an empty IDT"
%include "firmware.inc"
%include "serial.inc"

start:
    guest_init
    print_line "triple-fault: loading an empty IDT"
    lidt [cs:empty_idt]
    ud2
    ; not reached
    print_line "triple-fault: survived"
    halt_forever

empty_idt:
    dw 0                        ; limit
    dd 0                        ; base

%include "serial-routines.inc"
    firmware_end 0, 0
