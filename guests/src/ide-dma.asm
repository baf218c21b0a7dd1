; ide-dma: bus-master DMA on the primary master through the PIIX3 IDE function (SFF-8038i,
; PIIX3 datasheet 2.7). Finds the function (8086:7010) on PCI bus 0 with configuration
; mechanism 1 (0xCF8/0xCFC), takes its BAR4 or, when the firmware left it unassigned,
; programs it to param1, and turns on I/O decode and bus mastering. Then:
;   READ DMA of 4 sectors at LBA param0 into two PRD regions (0x8000 and 0xA000, 1 KiB each)
;   WRITE DMA of 3 sectors at LBA param0 + 100 from two PRD regions (0x9000: 1 sector,
;   0xB000: 2 sectors) + FLUSH CACHE; written sectors hold 'QVMD', their LBA, then 0xD3.
;   READ DMA EXT (48-bit) of 1 sector at LBA param0 + 100 back into 0xC000.
;   "ide-dma: found 0x........ bar4=0x........ command=0x........"
;   "ide-dma: read lba=0x........ bm=0x........ status=0x........ heads= 0x........ x4"
;   "ide-dma: wrote lba=0x........ bm=0x........ status=0x........ flush=0x........"
;   "ide-dma: read ext bm=0x........ status=0x........ heads= 0x........"
; "found" is the configuration address of the function (bus 0, device 15:11, function
; 10:8); bm is the bus-master status after the transfer (0x04: interrupt, not active).
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define PCI_ADDRESS 0xCF8
%define PCI_DATA    0xCFC
%define PIIX3_IDE   0x70108086          ; device:vendor
%define PCI_COMMAND 0x04
%define PCI_BAR4    0x20
%define PCI_IO_BUS_MASTER 0x0005        ; command: I/O space + bus master

; Bus-master registers (offsets from BAR4, primary channel)
%define BM_COMMAND  0
%define BM_STATUS   2
%define BM_PRD      4
%define BM_START    0x01
%define BM_TO_MEMORY 0x08               ; "read" in the datasheet: the device writes memory
%define BM_INTERRUPT 0x04
%define BM_ERROR    0x02
%define PRD_EOT     0x80000000

%define READ_PRD    0x7800              ; dword aligned, does not cross 64 KiB
%define WRITE_PRD   0x7810
%define EXT_PRD     0x7820

%define BM_BASE     VARS                ; word: bus-master I/O base
%define FUNCTION    VARS + 4            ; dword: configuration address of the function
%define SAVED       VARS + 8            ; byte: ATA status after the transfer
%define BM_SAVED    VARS + 12           ; byte: bus-master status after the transfer
%define FLUSHED     VARS + 16           ; byte: status after FLUSH CACHE

start:
    guest_init
    call find_function
    jc .missing

    ; PRD tables: base address (dword), byte count (word), EOT in bit 31 of the second dword.
    mov dword [READ_PRD], 0x8000
    mov dword [READ_PRD + 4], 1024
    mov dword [READ_PRD + 8], 0xA000
    mov dword [READ_PRD + 12], 1024 | PRD_EOT
    mov dword [WRITE_PRD], 0x9000
    mov dword [WRITE_PRD + 4], 512
    mov dword [WRITE_PRD + 8], 0xB000
    mov dword [WRITE_PRD + 12], 1024 | PRD_EOT
    mov dword [EXT_PRD], 0xC000
    mov dword [EXT_PRD + 4], 512 | PRD_EOT

    ; READ DMA, 4 sectors at param0.
    mov eax, READ_PRD
    mov cl, BM_TO_MEMORY
    call bm_prepare
    mov eax, [cs:param0]
    mov cl, 4
    mov bl, CMD_READ_DMA
    mov bh, DEV_MASTER
    call ata_lba28
    mov cl, BM_TO_MEMORY
    call bm_run
    print "ide-dma: read lba="
    mov eax, [cs:param0]
    call serial_hex32
    call print_transfer
    print " heads="
    mov si, 0x8000
    mov cx, 2
    call ata_print_sector_heads
    mov si, 0xA000
    call ata_print_sector_heads
    call serial_crlf

    ; WRITE DMA, 3 sectors at param0 + 100 from two regions, then FLUSH CACHE.
    mov ebx, [cs:param0]
    add ebx, 100
    mov eax, 'QVMD'
    mov dl, 0xD3
    mov di, 0x9000
    mov cx, 1
    call ata_fill_sectors
    inc ebx
    mov di, 0xB000
    mov cx, 2
    call ata_fill_sectors
    mov eax, WRITE_PRD
    mov cl, 0
    call bm_prepare
    mov eax, [cs:param0]
    add eax, 100
    mov cl, 3
    mov bl, CMD_WRITE_DMA
    mov bh, DEV_MASTER
    call ata_lba28
    mov cl, 0
    call bm_run
    ata_out ATA_COMMAND, CMD_FLUSH_CACHE
    call ata_wait_not_busy
    mov [FLUSHED], al
    print "ide-dma: wrote lba="
    mov eax, [cs:param0]
    add eax, 100
    call serial_hex32
    call print_transfer
    print " flush="
    movzx eax, byte [FLUSHED]
    call serial_hex32
    call serial_crlf

    ; READ DMA EXT, 1 sector at param0 + 100 (what was just written).
    mov eax, EXT_PRD
    mov cl, BM_TO_MEMORY
    call bm_prepare
    mov eax, [cs:param0]
    add eax, 100
    xor edx, edx
    mov cx, 1
    mov bl, CMD_READ_DMA_EXT
    call ata_lba48
    mov cl, BM_TO_MEMORY
    call bm_run
    print "ide-dma: read ext"
    call print_transfer
    print " heads="
    mov si, 0xC000
    mov cx, 1
    call ata_print_sector_heads
    call serial_crlf
    halt_forever

.missing:
    print_line "ide-dma: no PIIX3 IDE function on PCI bus 0"
    halt_forever

; Scans bus 0 for the PIIX3 IDE function; CF set when absent. Sets BM_BASE and FUNCTION,
; assigning BAR4 = param1 if the firmware did not, and enables I/O decode + bus mastering.
find_function:
    mov ebx, 0x80000000                 ; enable, bus 0, device 0, function 0
.next:
    mov eax, ebx
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in eax, dx
    cmp eax, PIIX3_IDE
    je .found
    add ebx, 0x100                      ; next function
    cmp ebx, 0x80010000                 ; past device 31 function 7
    jb .next
    stc
    ret
.found:
    mov [FUNCTION], ebx
    lea eax, [ebx + PCI_BAR4]
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in eax, dx
    and eax, 0xFFF0
    jnz .assigned
    mov eax, [cs:param1]
    out dx, eax
    and eax, 0xFFF0
.assigned:
    mov [BM_BASE], ax
    lea eax, [ebx + PCI_COMMAND]
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in ax, dx
    or ax, PCI_IO_BUS_MASTER
    out dx, ax
    print "ide-dma: found "
    mov eax, ebx
    call serial_hex32
    print " bar4="
    movzx eax, word [BM_BASE]
    call serial_hex32
    print " command="
    lea eax, [ebx + PCI_COMMAND]
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in ax, dx
    movzx eax, ax
    call serial_hex32
    call serial_crlf
    clc
    ret

; EAX = PRD table, CL = direction bit: stop the engine, clear INTERRUPT and ERROR, set the
; table and the direction. Clobbers EAX, DX.
bm_prepare:
    mov dx, [BM_BASE]
    add dx, BM_COMMAND
    push eax
    mov al, cl
    out dx, al                          ; stopped, direction set
    pop eax
    add dx, BM_PRD - BM_COMMAND
    out dx, eax
    add dx, BM_STATUS - BM_PRD
    mov al, BM_INTERRUPT | BM_ERROR     ; write one to clear
    out dx, al
    ret

; CL = direction bit: start the engine, poll its status until INTERRUPT, stop it, then read
; the ATA status (which also clears the drive's interrupt). Saves both statuses.
bm_run:
    mov dx, [BM_BASE]
    mov al, cl
    or al, BM_START
    out dx, al
    add dx, BM_STATUS
.poll:
    in al, dx
    test al, BM_INTERRUPT
    jz .poll
    mov [BM_SAVED], al
    sub dx, BM_STATUS
    mov al, cl
    out dx, al                          ; START off
    call ata_wait_not_busy
    mov [SAVED], al
    ret

print_transfer:
    print " bm="
    movzx eax, byte [BM_SAVED]
    call serial_hex32
    print " status="
    movzx eax, byte [SAVED]
    call serial_hex32
    ret

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 200, 0xC041
