; ide-multiple: READ/WRITE MULTIPLE on the primary master (ATA-6 8.30, 8.48). SET MULTIPLE
; MODE to 4 sectors per block, READ MULTIPLE of 8 sectors at LBA param0 (two DRQ blocks of
; 2048 bytes, each taken with one rep insw), WRITE MULTIPLE of 6 sectors at LBA param1 (a
; block of 4 and a short last block of 2) + FLUSH CACHE, then READ MULTIPLE after SET
; MULTIPLE MODE 0 (multiple mode off: ERR with ABRT). Written sectors hold 'QVMM', their
; LBA, then 0x4D bytes.
;   "ide-multiple: set status=0x........"
;   "ide-multiple: read lba=0x........ blocks=0x........ status=0x........ heads= 0x........ x8"
;   "ide-multiple: wrote lba=0x........ blocks=0x........ status=0x........"
;   "ide-multiple: disabled status=0x........ error=0x........"
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define BLOCK   4
%define BUFFER  0x8000
%define SAVED   VARS            ; byte: a status to print
%define BLOCKS  VARS + 4        ; dword: DRQ blocks moved

start:
    guest_init
    call ata_wait_not_busy
    ata_out ATA_DEVICE, DEV_MASTER
    ata_out ATA_COUNT, BLOCK
    ata_out ATA_COMMAND, CMD_SET_MULTIPLE
    call ata_wait_not_busy
    print "ide-multiple: set status="
    movzx eax, al
    call serial_hex32
    call serial_crlf

    ; READ MULTIPLE, 8 sectors: one rep insw per block.
    mov eax, [cs:param0]
    mov cl, 8
    mov bl, CMD_READ_MULTIPLE
    mov bh, DEV_MASTER
    call ata_lba28
    mov di, BUFFER
    mov dword [BLOCKS], 0
    mov bx, 8                           ; sectors left
.read_block:
    call ata_wait_drq
    test al, ST_ERR
    jnz .read_done
    mov cx, BLOCK
    cmp bx, cx
    jae .full_read
    mov cx, bx
.full_read:
    sub bx, cx
    shl cx, 8                           ; words in this block
    mov dx, ATA_DATA
    rep insw
    inc dword [BLOCKS]
    test bx, bx
    jnz .read_block
.read_done:
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-multiple: read lba="
    mov eax, [cs:param0]
    call serial_hex32
    call print_blocks_status
    print " heads="
    mov si, BUFFER
    mov cx, 8
    call ata_print_sector_heads
    call serial_crlf

    ; WRITE MULTIPLE, 6 sectors: a block of 4, then a short block of 2. Then FLUSH CACHE.
    mov di, BUFFER
    mov cx, 6
    mov eax, 'QVMM'
    mov ebx, [cs:param1]
    mov dl, 0x4D
    call ata_fill_sectors
    mov eax, [cs:param1]
    mov cl, 6
    mov bl, CMD_WRITE_MULTIPLE
    mov bh, DEV_MASTER
    call ata_lba28
    mov si, BUFFER
    mov dword [BLOCKS], 0
    mov bx, 6
.write_block:
    call ata_wait_drq
    test al, ST_ERR
    jnz .write_done
    mov cx, BLOCK
    cmp bx, cx
    jae .full_write
    mov cx, bx
.full_write:
    sub bx, cx
    shl cx, 8
    mov dx, ATA_DATA
    rep outsw
    inc dword [BLOCKS]
    test bx, bx
    jnz .write_block
.write_done:
    call ata_wait_not_busy
    ata_out ATA_COMMAND, CMD_FLUSH_CACHE
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-multiple: wrote lba="
    mov eax, [cs:param1]
    call serial_hex32
    call print_blocks_status
    call serial_crlf

    ; Multiple mode off: READ MULTIPLE is aborted.
    ata_out ATA_COUNT, 0
    ata_out ATA_COMMAND, CMD_SET_MULTIPLE
    mov eax, [cs:param0]
    mov cl, 1
    mov bl, CMD_READ_MULTIPLE
    mov bh, DEV_MASTER
    call ata_lba28
    call ata_wait_not_busy
    print "ide-multiple: disabled"
    call ata_print_status_error
    halt_forever

print_blocks_status:
    print " blocks="
    mov eax, [BLOCKS]
    call serial_hex32
    print " status="
    movzx eax, byte [SAVED]
    call serial_hex32
    ret

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 40, 9
