; pit-ch2-delay: times a 10 ms one-shot of 8254 channel 2 the way BIOSes and Linux
; calibrate their delay loops: port 0x61 bit 0 raises channel 2's gate (bit 1, the
; speaker, off), channel 2 is programmed in mode 0 with param0 (default 11932 = 10 ms),
; and the guest busy-waits on port 0x61 bit 5 (OUT2), taking the time stamp counter
; before and after. A short spin between polls keeps the number of port reads modest.
; It measures param1 times (0 = once); like Linux's PIT calibration, a reader may take
; the best of the tries, since a busy host can only make a poll see OUT2 late.
; Output, one line per try, then halt with interrupts off:
;   "pit-ch2-delay: tsc=0x........"   (TSC ticks from just before the MSB write to OUT2 high)
%include "firmware.inc"
%include "serial.inc"
cpu 686                         ; rdtsc (the guests are otherwise 386 code)

%define PORT_B     0x61
%define PIT_CH2    0x42
%define PIT_CTRL   0x43
%define OUT2       0x20
%define TRIES      VARS         ; dword: measurements still to make

start:
    guest_init
    mov eax, [cs:param1]
    test eax, eax
    jnz .tries
    inc eax
.tries:
    mov [TRIES], eax
.measure:
    in al, PORT_B
    and al, 0xFC
    or al, 0x01                 ; gate 2 high, speaker data off
    out PORT_B, al
    mov al, 0xB0                ; channel 2, LSB then MSB, mode 0, binary
    out PIT_CTRL, al
    mov ax, [cs:param0]
    out PIT_CH2, al
    ; The time stamp is taken before the MSB write that starts the count: a hypervisor
    ; that stalls between carrying out that OUT and resuming the guest would otherwise
    ; make the guest start its stopwatch late and measure less than the count. This way
    ; every try measures at least the programmed time, and a stall can only add to it.
    rdtsc
    mov ebx, eax
    mov ax, [cs:param0]
    mov al, ah
    out PIT_CH2, al             ; the count is loaded now and runs from the next clock
.poll:
    mov cx, 100
.spin:
    loop .spin
    in al, PORT_B
    test al, OUT2
    jz .poll
    rdtsc
    sub eax, ebx
    mov ebx, eax
    print "pit-ch2-delay: tsc="
    mov eax, ebx
    call serial_hex32
    call serial_crlf
    dec dword [TRIES]
    jnz .measure
    halt_forever

%include "serial-routines.inc"
    firmware_end 11932, 0
