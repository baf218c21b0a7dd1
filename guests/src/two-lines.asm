; two-lines: prints a line, spins param0 iterations (default 200,000; 2 instructions
; each: dec/jnz), prints a second line, halts. Used to test pause and resume between
; the two lines.
; Output:
;   "two-lines: first"
;   "two-lines: second"
%include "firmware.inc"
%include "serial.inc"

start:
    guest_init
    print_line "two-lines: first"
    mov ecx, [cs:param0]
    test ecx, ecx
    jz .done
.spin:
    dec ecx
    jnz .spin
.done:
    print_line "two-lines: second"
    halt_forever

%include "serial-routines.inc"
    firmware_end 200000, 0
