; ide-chs: CHS addressing on the primary master, the way an old BIOS talks to a disk.
; INITIALIZE DEVICE PARAMETERS sets the translation to 16 heads x 63 sectors per track,
; then READ SECTORS of 2 sectors at C/H/S param0, WRITE SECTORS of 2 sectors at C/H/S
; param1 + FLUSH CACHE, and a read of sector 64 on a 63-sector track (ERR with IDNF).
; An address is packed as cylinder = bits 31:16, head = 15:8, sector = 7:0; the default
; read starts on the last sector of a cylinder, so its second sector is on the next one.
; The written sectors hold 'QVMC', then the packed address + the sector's index, then 0xC3.
;   "ide-chs: init status=0x........"
;   "ide-chs: read chs=0x........ status=0x........ heads= 0x........ 0x........"
;   "ide-chs: wrote chs=0x........ status=0x........"
;   "ide-chs: bad sector status=0x........ error=0x........"
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define HEADS   16
%define SPT     63
%define BUFFER  0x8000
%define SAVED   VARS            ; byte: a status to print

start:
    guest_init
    ; INITIALIZE DEVICE PARAMETERS: heads - 1 in the device register, sectors in the count.
    call ata_wait_not_busy
    ata_out ATA_DEVICE, DEV_MASTER | (HEADS - 1)
    ata_out ATA_COUNT, SPT
    ata_out ATA_COMMAND, CMD_INIT_DEV_PARAMS
    call ata_wait_not_busy
    print "ide-chs: init status="
    movzx eax, al
    call serial_hex32
    call serial_crlf

    ; READ SECTORS, 2 sectors at param0.
    mov eax, [cs:param0]
    mov cl, 2
    mov bl, CMD_READ_SECTORS
    call chs_command
    mov di, BUFFER
    call ata_read_sector
    call ata_read_sector
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-chs: read chs="
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

    ; WRITE SECTORS, 2 sectors at param1, then FLUSH CACHE.
    mov di, BUFFER
    mov cx, 2
    mov eax, 'QVMC'
    mov ebx, [cs:param1]
    mov dl, 0xC3
    call ata_fill_sectors
    mov eax, [cs:param1]
    mov cl, 2
    mov bl, CMD_WRITE_SECTORS
    call chs_command
    mov si, BUFFER
    call ata_write_sector
    call ata_write_sector
    call ata_wait_not_busy
    ata_out ATA_COMMAND, CMD_FLUSH_CACHE
    call ata_wait_not_busy
    mov [SAVED], al
    print "ide-chs: wrote chs="
    mov eax, [cs:param1]
    call serial_hex32
    print " status="
    movzx eax, byte [SAVED]
    call serial_hex32
    call serial_crlf

    ; Sector 64 does not exist on a 63-sector track: ERR + IDNF.
    mov eax, SPT + 1
    mov cl, 1
    mov bl, CMD_READ_SECTORS
    call chs_command
    call ata_wait_not_busy
    print "ide-chs: bad sector"
    call ata_print_status_error
    halt_forever

; EAX = packed C/H/S, CL = count, BL = command. Clobbers EAX, DX.
chs_command:
    push eax
    call ata_wait_not_busy
    pop eax
    push eax
    shr eax, 8
    and al, 0x0F
    or al, DEV_MASTER                   ; bit 6 clear: CHS
    mov dx, ATA_DEVICE
    out dx, al
    ata_out ATA_COUNT, cl
    pop eax
    mov dx, ATA_LBA0
    out dx, al                          ; sector number
    shr eax, 16
    inc dx
    out dx, al                          ; cylinder low
    inc dx
    mov al, ah
    out dx, al                          ; cylinder high
    ata_out ATA_COMMAND, bl
    ret

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 0x00020F3F, 0x00010A01
