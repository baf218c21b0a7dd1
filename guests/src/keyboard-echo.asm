; keyboard-echo: reads param0 (default 4) bytes from the i8042 keyboard controller by
; polling and prints each one. Sets the controller's command byte to 0x44 (scan code
; translation to set 1 on, system flag, keyboard interrupt off) first, as a BIOS would.
; Output, then halt with interrupts off:
;   "keyboard-echo: ready"
;   "key=0x0000001e" (one line per byte; 'a' pressed and released: 0x1e then 0x9e)
%include "firmware.inc"
%include "serial.inc"

%define KBC_DATA    0x60
%define KBC_STATUS  0x64        ; read: status register
%define KBC_COMMAND 0x64        ; write: controller command
%define STATUS_OBF  0x01        ; output buffer full: a byte waits at 0x60
%define STATUS_IBF  0x02        ; input buffer full: the controller is busy
%define CMD_WRITE_COMMAND_BYTE 0x60

start:
    guest_init
    call kbc_wait_input
    mov al, CMD_WRITE_COMMAND_BYTE
    out KBC_COMMAND, al
    call kbc_wait_input
    mov al, 0x44
    out KBC_DATA, al
    print_line "keyboard-echo: ready"
    mov ecx, [cs:param0]
.next:
    in al, KBC_STATUS
    test al, STATUS_OBF
    jz .next
    in al, KBC_DATA
    movzx eax, al
    print "key="
    call serial_hex32
    call serial_crlf
    dec ecx
    jnz .next
    halt_forever

kbc_wait_input:
    in al, KBC_STATUS
    test al, STATUS_IBF
    jnz kbc_wait_input
    ret

%include "serial-routines.inc"
    firmware_end 4, 0
