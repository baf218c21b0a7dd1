; ide-read-loop: reads the primary master's sectors 0 .. param1-1 over and over (READ SECTORS,
; PIO, one sector a command, LBA28) and checks every one: the command must end without ERR
; and the sector's first dword must be 0x5EC00000 + its LBA (how the test images are tagged).
; It never stops: a device session moved to another service while it runs must not show.
; Programs VGA text mode 3 itself and keeps its count on row 0 of the screen (grey on black),
; the same text as the serial line. Every param0 reads (default 128) it prints:
;   "ide-read-loop: reads=0x........ errors=0x........"
; and for every read that failed, at once:
;   "ide-read-loop: READ ERROR lba=0x........ status=0x........ first=0x........"
; First serial line: "ide-read-loop: start".
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"
%include "vga.inc"

%define BUFFER      0x8000
%define READS       VARS            ; dword
%define ERRORS      VARS + 4        ; dword
%define LBA         VARS + 8        ; dword: the sector read now
%define STATUS      VARS + 12       ; byte: status after the command
%define SECTOR_TAG  0x5EC00000
%define ATTR_TEXT   0x07

start:
    guest_init
    call vga_set_mode3
    call vga_load_palette
    call vga_load_font
    mov dword [READS], 0
    mov dword [ERRORS], 0
    mov dword [LBA], 0
    call show_count
    print_line "ide-read-loop: start"
.read:
    mov eax, [LBA]
    mov cl, 1
    mov bl, CMD_READ_SECTORS
    mov bh, DEV_MASTER
    call ata_lba28
    call ata_wait_drq
    mov [STATUS], al
    test al, ST_ERR
    jnz .failed
    xor ax, ax
    mov es, ax
    mov di, BUFFER
    mov dx, ATA_DATA
    mov cx, 256
    rep insw
    call ata_wait_not_busy
    mov [STATUS], al
    test al, ST_ERR
    jnz .failed
    mov eax, [LBA]
    add eax, SECTOR_TAG
    cmp eax, [BUFFER]
    je .counted
.failed:
    inc dword [ERRORS]
    print "ide-read-loop: READ ERROR lba="
    mov eax, [LBA]
    call serial_hex32
    print " status="
    movzx eax, byte [STATUS]
    call serial_hex32
    print " first="
    mov eax, [BUFFER]
    call serial_hex32
    call serial_crlf
.counted:
    inc dword [READS]
    mov eax, [LBA]                  ; next sector, wrapping at param1
    inc eax
    cmp eax, [cs:param1]
    jb .lba_set
    xor eax, eax
.lba_set:
    mov [LBA], eax
    mov eax, [READS]
    xor edx, edx
    mov ecx, [cs:param0]
    div ecx
    test edx, edx
    jnz .read
    call show_count
    print "ide-read-loop: reads="
    mov eax, [READS]
    call serial_hex32
    print " errors="
    mov eax, [ERRORS]
    call serial_hex32
    call serial_crlf
    jmp .read

; Writes "ide-read-loop: reads=0x........ errors=0x........" on row 0 of the text screen.
show_count:
    push es
    mov ax, TEXT_SEG
    mov es, ax
    xor di, di
    mov ah, ATTR_TEXT
    mov si, reads_label
    call puts
    mov ebx, [READS]
    call screen_hex32
    mov si, errors_label
    call puts
    mov ebx, [ERRORS]
    call screen_hex32
    pop es
    ret

reads_label:  db "ide-read-loop: reads=0x", 0
errors_label: db " errors=0x", 0

%include "vga-text-routines.inc"
%include "vga-mode3.inc"
%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 128, 64
