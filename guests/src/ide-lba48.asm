; ide-lba48: 48-bit addressing on the primary master (ATA-6 6.20). READ SECTORS EXT of
; 2 sectors at LBA param1:param0 (param1 holds bits 47:32, param0 bits 31:0), WRITE SECTORS
; EXT of 2 sectors at that LBA + 16, FLUSH CACHE EXT, then a READ SECTORS EXT of 1 sector
; at LBA 0xFFFF:FFFFFFFF (ERR with IDNF). The written sectors hold 'QV48', the low 32 bits
; of their LBA, then 0x48 bytes.
;   "ide-lba48: read lba=0x........:0x........ status=0x........ heads= 0x........ 0x........"
;   "ide-lba48: wrote lba=0x........:0x........ status=0x........"
;   "ide-lba48: beyond status=0x........ error=0x........"
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define BUFFER  0x8000
%define SAVED   VARS            ; byte: a status to print
%define WRITE_LBA VARS + 4      ; dword: low 32 bits of the write LBA
%define WRITE_HI  VARS + 8      ; dword: bits 47:32

start:
    guest_init
    ; READ SECTORS EXT, 2 sectors at param1:param0.
    mov eax, [cs:param0]
    mov edx, [cs:param1]
    mov cx, 2
    mov bl, CMD_READ_SECTORS_EXT
    call ata_lba48
    mov di, BUFFER
    call ata_read_sector
    call ata_read_sector
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-lba48: read lba="
    mov eax, [cs:param1]
    call serial_hex32
    print ":"
    mov eax, [cs:param0]
    call serial_hex32
    print " status="
    movzx eax, byte [SAVED]
    call serial_hex32
    print " heads="
    mov si, BUFFER
    mov cx, 2
    call ata_print_sector_heads
    call serial_crlf

    ; WRITE SECTORS EXT, 2 sectors at LBA + 16, then FLUSH CACHE EXT.
    mov eax, [cs:param0]
    mov edx, [cs:param1]
    add eax, 16
    adc edx, 0
    mov [WRITE_LBA], eax
    mov [WRITE_HI], edx
    mov ebx, eax
    mov di, BUFFER
    mov cx, 2
    mov eax, 'QV48'
    mov dl, 0x48
    call ata_fill_sectors
    mov eax, [WRITE_LBA]
    mov edx, [WRITE_HI]
    mov cx, 2
    mov bl, CMD_WRITE_SECTORS_EXT
    call ata_lba48
    mov si, BUFFER
    call ata_write_sector
    call ata_write_sector
    call ata_wait_not_busy
    ata_out ATA_COMMAND, CMD_FLUSH_CACHE_EXT
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-lba48: wrote lba="
    mov eax, [WRITE_HI]
    call serial_hex32
    print ":"
    mov eax, [WRITE_LBA]
    call serial_hex32
    print " status="
    movzx eax, byte [SAVED]
    call serial_hex32
    call serial_crlf

    ; The last 48-bit LBA is beyond any test disk: ERR + IDNF.
    mov eax, 0xFFFFFFFF
    mov edx, 0xFFFF
    mov cx, 1
    mov bl, CMD_READ_SECTORS_EXT
    call ata_lba48
    call ata_wait_not_busy
    print "ide-lba48: beyond"
    call ata_print_status_error
    halt_forever

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 0x10000010, 0
