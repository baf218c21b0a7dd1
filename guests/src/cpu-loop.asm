; cpu-loop: a CPU-bound loop to measure speed. Runs param0 iterations (default
; 100,000) of xorshift32 (x ^= x << 13; x ^= x >> 17; x ^= x << 5) starting from
; x = param1 (default 0x12345678), summing every x mod 2^32. Exactly 12 instructions per
; iteration (the loop below). Then prints, and halts:
;   "cpu-loop: start"
;   "cpu-loop: iterations=0x000186a0 x=0x........ sum=0x........"
%include "firmware.inc"
%include "serial.inc"

start:
    guest_init
    print_line "cpu-loop: start"
    mov ecx, [cs:param0]
    mov ebx, [cs:param1]
    xor edx, edx
    test ecx, ecx
    jz .done
.loop:                      ; 12 instructions per iteration
    mov eax, ebx
    shl eax, 13
    xor ebx, eax
    mov eax, ebx
    shr eax, 17
    xor ebx, eax
    mov eax, ebx
    shl eax, 5
    xor ebx, eax
    add edx, ebx
    dec ecx
    jnz .loop
.done:
    print "cpu-loop: iterations="
    mov eax, [cs:param0]
    call serial_hex32
    print " x="
    mov eax, ebx
    call serial_hex32
    print " sum="
    mov eax, edx
    call serial_hex32
    call serial_crlf
    halt_forever

%include "serial-routines.inc"
    firmware_end 100000, 0x12345678
