; ide-rw: talks to the primary IDE master with PIO in LBA28 mode, as a BIOS would:
; READ SECTORS of LBA param0 (prints its first dword), WRITE SECTORS of a pattern to LBA
; param1 then FLUSH CACHE, READ SECTORS of LBA 0x0FFFFFFF (beyond any test disk: the drive
; must answer ERR with IDNF), and an unknown command 0xFF (ERR with ABRT). Output:
;   "ide-rw: read lba=... first=0x........"
;   "ide-rw: wrote lba=... status=0x00000050"
;   "ide-rw: beyond status=0x00000051 error=0x00000010"
;   "ide-rw: unknown status=0x00000051 error=0x00000004"
%include "firmware.inc"
%include "serial.inc"

%define ATA_DATA     0x1F0
%define ATA_ERROR    0x1F1
%define ATA_COUNT    0x1F2
%define ATA_LBA0     0x1F3
%define ATA_LBA1     0x1F4
%define ATA_LBA2     0x1F5
%define ATA_DEVICE   0x1F6
%define ATA_STATUS   0x1F7      ; read: status; write: command
%define ST_BSY       0x80
%define ST_DRQ       0x08
%define ST_ERR       0x01
%define BUFFER       0x8000
%define FLUSH_STATUS VARS       ; byte: status after FLUSH CACHE

start:
    guest_init
    ; READ SECTORS (0x20) at param0
    mov eax, [cs:param0]
    mov bl, 0x20
    call ata_command
    call wait_not_busy
    mov dx, ATA_DATA
    mov di, BUFFER
    mov cx, 256
    rep insw
    print "ide-rw: read lba="
    mov eax, [cs:param0]
    call serial_hex32
    print " first="
    mov eax, [BUFFER]
    call serial_hex32
    call serial_crlf

    ; WRITE SECTORS (0x30) of 'QVMW' + LBA + 0xA5 bytes at param1, then FLUSH CACHE (0xE7)
    mov di, BUFFER
    mov cx, 512
    mov al, 0xA5
    rep stosb
    mov dword [BUFFER], 'QVMW'
    mov eax, [cs:param1]
    mov [BUFFER + 4], eax
    mov bl, 0x30
    call ata_command
    call wait_not_busy
    mov dx, ATA_DATA
    mov si, BUFFER
    mov cx, 256
    rep outsw
    call wait_not_busy
    mov dx, ATA_STATUS
    mov al, 0xE7
    out dx, al
    call wait_not_busy
    mov [FLUSH_STATUS], al
    print "ide-rw: wrote lba="
    mov eax, [cs:param1]
    call serial_hex32
    print " status="
    movzx eax, byte [FLUSH_STATUS]
    call serial_hex32
    call serial_crlf

    ; READ SECTORS beyond the disk: ERR + IDNF
    mov eax, 0x0FFFFFFF
    mov bl, 0x20
    call ata_command
    call wait_not_busy
    print "ide-rw: beyond"
    call print_status_error

    ; An unknown command: ERR + ABRT
    mov dx, ATA_STATUS
    mov al, 0xFF
    out dx, al
    call wait_not_busy
    print "ide-rw: unknown"
    call print_status_error
    halt_forever

; Issues command BL for one sector at LBA EAX on the master.
ata_command:
    push eax
    call wait_not_busy
    pop eax
    mov ecx, eax
    mov dx, ATA_DEVICE
    shr eax, 24
    and al, 0x0F
    or al, 0xE0                 ; LBA mode, master
    out dx, al
    mov dx, ATA_COUNT
    mov al, 1
    out dx, al
    mov eax, ecx
    mov dx, ATA_LBA0
    out dx, al
    shr eax, 8
    mov dx, ATA_LBA1
    out dx, al
    shr eax, 8
    mov dx, ATA_LBA2
    out dx, al
    mov dx, ATA_STATUS
    mov al, bl
    out dx, al
    ret

; Polls until BSY clears; AL = status.
wait_not_busy:
    mov dx, ATA_STATUS
.poll:
    in al, dx
    test al, ST_BSY
    jnz .poll
    ret

print_status_error:
    print " status="
    movzx eax, al
    call serial_hex32
    print " error="
    mov dx, ATA_ERROR
    in al, dx
    movzx eax, al
    call serial_hex32
    call serial_crlf
    ret

%include "serial-routines.inc"
    firmware_end 77, 5
