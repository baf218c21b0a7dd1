; ide-identify: IDENTIFY DEVICE on the primary master and slave, printing the fields a BIOS
; and an OS size a disk by (ATA-6 8.15, table 11). For each drive ("master", "slave"):
;   "ide-identify: <drive> status=0x........ word0=0x........ chs=C/H/S as three hex numbers"
;   "ide-identify: <drive> lba28=0x........ lba48=0x........:0x........ w83=0x........ w47=0x........ sum=0x........"
;   "ide-identify: <drive> model=[40 characters] serial=[20 characters]"
; lba28 = words 60-61, lba48 = words 103-102 : 101-100, sum = the 512 bytes added mod 256
; (0 when word 255 holds a valid integrity checksum).
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define ID   0x8000             ; IDENTIFY data (256 words)

start:
    guest_init
    mov bh, DEV_MASTER
    call identify
    mov bh, DEV_SLAVE
    call identify
    print_line "ide-identify: done"
    halt_forever

; BH = DEV_MASTER or DEV_SLAVE: select the drive, IDENTIFY it, print what it says.
identify:
    call ata_wait_not_busy
    ata_out ATA_DEVICE, bh
    call ata_wait_not_busy
    ata_out ATA_COMMAND, CMD_IDENTIFY
    call ata_wait_drq
    mov bl, al                          ; status
    test al, ST_DRQ
    jz .no_data
    mov dx, ATA_DATA
    mov di, ID
    mov cx, 256
    rep insw
.no_data:
    call print_drive
    print " status="
    movzx eax, bl
    call serial_hex32
    print " word0="
    movzx eax, word [ID + 0 * 2]
    call serial_hex32
    print " chs="
    movzx eax, word [ID + 1 * 2]
    call serial_hex32
    print "/"
    movzx eax, word [ID + 3 * 2]
    call serial_hex32
    print "/"
    movzx eax, word [ID + 6 * 2]
    call serial_hex32
    call serial_crlf

    call print_drive
    print " lba28="
    mov eax, [ID + 60 * 2]
    call serial_hex32
    print " lba48="
    mov eax, [ID + 102 * 2]
    call serial_hex32
    print ":"
    mov eax, [ID + 100 * 2]
    call serial_hex32
    print " w83="
    movzx eax, word [ID + 83 * 2]
    call serial_hex32
    print " w47="
    movzx eax, word [ID + 47 * 2]
    call serial_hex32
    print " sum="
    xor eax, eax
    mov si, ID
    mov cx, 512
.sum:
    add al, [si]
    inc si
    loop .sum
    call serial_hex32
    call serial_crlf

    call print_drive
    print " model=["
    mov si, ID + 27 * 2
    mov cx, 20
    call print_ata_string
    print "] serial=["
    mov si, ID + 10 * 2
    mov cx, 10
    call print_ata_string
    print "]"
    call serial_crlf
    ret

; Prints "ide-identify: master" or "ide-identify: slave" for BH.
print_drive:
    print "ide-identify: "
    cmp bh, DEV_MASTER
    jne .slave
    print "master"
    ret
.slave:
    print "slave"
    ret

; An ATA string of CX words at DS:SI: each word holds its first character in bits 15:8.
print_ata_string:
    push ax
.word:
    lodsw
    xchg al, ah
    call serial_putc
    mov al, ah
    call serial_putc
    loop .word
    pop ax
    ret

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 0, 0
