; pio-loop: param0 rounds (default 1000) of one port write and one port read on port
; param1 (default 0x80, the POST port): "out port, al" with al = low byte of the round
; counter (counting down from param0 to 1), then "in al, port", summing the bytes read.
; That is 2 * param0 port-I/O exits under KVM. Then prints and halts:
;   "pio-loop: start"
;   "pio-loop: rounds=0x000003e8 sum=0x........"
; A port that reads back the last byte written gives sum = sum of (i & 0xff), i = 1..N;
; an unclaimed port (reads 0xff) gives 0xff * N.
%include "firmware.inc"
%include "serial.inc"

start:
    guest_init
    print_line "pio-loop: start"
    mov ecx, [cs:param0]
    mov dx, [cs:param1]
    xor ebx, ebx
    test ecx, ecx
    jz .done
.loop:
    mov al, cl
    out dx, al
    in al, dx
    movzx eax, al
    add ebx, eax
    dec ecx
    jnz .loop
.done:
    print "pio-loop: rounds="
    mov eax, [cs:param0]
    call serial_hex32
    print " sum="
    mov eax, ebx
    call serial_hex32
    call serial_crlf
    halt_forever

%include "serial-routines.inc"
    firmware_end 1000, 0x80
