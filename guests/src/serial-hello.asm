; serial-hello: prints one line on COM1, then halts with interrupts off.
; Output: "serial-hello: Hello from quasivm!"
%include "firmware.inc"
%include "serial.inc"

start:
    guest_init
    print_line "serial-hello: Hello from quasivm!"
    halt_forever

%include "serial-routines.inc"
    firmware_end 0, 0
