; pit-rate: measures the rate of IRQ 0 against the CMOS real-time clock. Programs the
; 8259A pair (IRQ 0 only), 8254 channel 0 as a rate generator (mode 2) with reload
; param0 (0 = 65536, the BIOS's 18.2 Hz), then counts IRQ 0 between two RTC second
; boundaries param1 seconds apart, checking the clock at each interrupt (sti; hlt).
; Output, then halt with interrupts off:
;   "pit-rate: measuring"
;   "pit-rate: irqs=0x0000005b seconds=0x00000005"
%include "firmware.inc"
%include "serial.inc"
%include "pic.inc"

%define PIT_CH0    0x40
%define PIT_CTRL   0x43
%define CMOS_INDEX 0x70
%define CMOS_DATA  0x71
%define RTC_SECONDS 0x00
%define COUNT      VARS         ; dword: IRQ 0 taken
%define LAST_SEC   VARS + 4     ; byte: RTC seconds last seen

start:
    guest_init
    mov dword [COUNT], 0
    mov word [0x08 * 4], irq0_handler     ; vector 8 = master IR0
    mov word [0x08 * 4 + 2], 0xF000
    pic_init 0xFE               ; only IRQ 0

    mov al, 0x34                ; channel 0, LSB then MSB, mode 2, binary
    out PIT_CTRL, al
    mov ax, [cs:param0]
    out PIT_CH0, al
    mov al, ah
    out PIT_CH0, al

    print_line "pit-rate: measuring"
    call read_seconds
    mov [LAST_SEC], al
    call wait_boundary          ; start at an interrupt just after a second boundary
    mov dword [COUNT], 0
    mov ecx, [cs:param1]
.seconds:
    call wait_boundary
    dec ecx
    jnz .seconds
    mov ebx, [COUNT]

    print "pit-rate: irqs="
    mov eax, ebx
    call serial_hex32
    print " seconds="
    mov eax, [cs:param1]
    call serial_hex32
    call serial_crlf
    halt_forever

; Sleeps interrupt by interrupt until the RTC's seconds register changes.
wait_boundary:
.again:
    sti
    hlt
    cli
    call read_seconds
    cmp al, [LAST_SEC]
    je .again
    mov [LAST_SEC], al
    ret

read_seconds:
    mov al, RTC_SECONDS
    out CMOS_INDEX, al
    in al, CMOS_DATA
    ret

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
    firmware_end 0, 5
