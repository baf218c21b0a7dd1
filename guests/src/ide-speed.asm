; ide-speed: sequential reads or writes on the primary master for throughput measurement.
; Moves param1 chunks of 64 KiB (128 sectors) from LBA 0 on, through 0x10000-0x1FFFF, with
; the method param0's low byte selects, in passes (param0's second byte, 0 = 1 pass), each
; the same run from LBA 0 (a first pass warms a fresh VM up, as fio's ramp_time does):
;   0  READ SECTORS: PIO, one 512-byte DRQ block (one rep insw) per sector
;   1  READ MULTIPLE after SET MULTIPLE MODE 16: PIO, one rep insw per 8 KiB block
;   2  READ DMA through the PIIX3 bus master (one PRD entry of 64 KiB; BAR4 as the
;      firmware or service assigned it, or 0xC000 when nobody did, as under QEMU -bios)
;   3, 4, 5  the same with WRITE SECTORS (rep outsw per sector), WRITE MULTIPLE 16 and
;      WRITE DMA; every chunk's first dword is 0x3C000000 + its LBA, the rest is whatever
;      the buffer holds; FLUSH CACHE after the last chunk (counted in the time)
;   6, 7  READ DMA EXT / WRITE DMA EXT of 8 chunks (512 KiB, 1024 sectors) per command, as
;      Linux issues large requests: a PRD table of 8 entries of 64 KiB, 0x10000-0x8FFFF,
;      the chunks in LBA order (param1 must be a multiple of 8); marks and sums as above
; It prints a line when it starts (then spins briefly, see below) and when it is done, with
; the sum of the first dword of every chunk it moved (so runs with different methods can be
; compared), and the number of chunks (and the flush) that ended with ERR:
;   "ide-speed: start method=0x........ chunks=0x........"
;   "ide-speed: pass sum=0x........ errors=0x........"   (after each pass but the last)
;   "ide-speed: done sum=0x........ errors=0x........"
%include "firmware.inc"
%include "serial.inc"
%include "ata.inc"

%define CHUNK_SECTORS 128
%define BLOCK         16                ; sectors per READ MULTIPLE block
%define BUFFER_SEG    0x1000            ; 0x10000: 64 KiB, one PRD entry
%define PRD           0x7800
%define PCI_ADDRESS   0xCF8
%define PCI_DATA      0xCFC
%define PIIX3_IDE     0x70108086
%define BM_TO_MEMORY  0x08
%define BM_START      0x01
%define BM_INTERRUPT  0x04

%define BM_BASE   VARS                  ; word
%define SUM       VARS + 4              ; dword
%define ERRORS    VARS + 8              ; dword
%define LBA       VARS + 12             ; dword: next chunk
%define BM_DIR    VARS + 16             ; byte: BM_TO_MEMORY for reads, 0 for writes
%define PASSES    VARS + 20             ; dword: passes still to run
%define WRITE_MARK 0x3C000000
%define DEFAULT_BAR4 0xC000
%define BIG_ENTRIES 8                   ; 64 KiB PRD entries per READ/WRITE DMA EXT (methods 6, 7)
%define BIG_PRD     0x7900
%define BIG_END_SEG (BUFFER_SEG + BIG_ENTRIES * 0x1000)

start:
    guest_init
    mov ax, BUFFER_SEG
    mov es, ax
    mov byte [BM_DIR], BM_TO_MEMORY
    cmp byte [cs:param0], 6
    je .dir_set
    cmp byte [cs:param0], 3
    jb .dir_set
    mov byte [BM_DIR], 0
.dir_set:
    cmp byte [cs:param0], 1
    je .multiple_mode
    cmp byte [cs:param0], 4
    jne .no_multiple
.multiple_mode:
    call ata_wait_not_busy
    ata_out ATA_DEVICE, DEV_MASTER
    ata_out ATA_COUNT, BLOCK
    ata_out ATA_COMMAND, CMD_SET_MULTIPLE
    call ata_wait_not_busy
.no_multiple:
    cmp byte [cs:param0], 2
    je .dma_setup
    cmp byte [cs:param0], 5
    je .dma_setup
    cmp byte [cs:param0], 6
    jb .no_dma
.dma_setup:
    call find_bus_master
    mov dword [PRD], 0x10000
    mov dword [PRD + 4], 0x80000000     ; byte count 0 = 64 KiB, end of table
    mov di, BIG_PRD                     ; and the big commands' table: 8 x 64 KiB
    mov eax, 0x10000
.big_prd:
    mov [di], eax
    mov dword [di + 4], 0
    add di, 8
    add eax, 0x10000
    cmp eax, 0x10000 * (BIG_ENTRIES + 1)
    jb .big_prd
    or dword [di - 4], 0x80000000       ; end of table on the last entry
.no_dma:
    print "ide-speed: start method="
    mov eax, [cs:param0]
    call serial_hex32
    print " chunks="
    mov eax, [cs:param1]
    call serial_hex32
    call serial_crlf
    call spin
    movzx eax, byte [cs:param0 + 1]     ; passes (0 counts as 1)
    test eax, eax
    jnz .passes_set
    inc eax
.passes_set:
    mov [PASSES], eax

.pass:
    mov dword [SUM], 0
    mov dword [ERRORS], 0
    mov dword [LBA], 0
    cmp byte [cs:param0], 6
    jae .big
    mov ebp, [cs:param1]
.chunk:
    test ebp, ebp
    jz .done
    movzx eax, byte [cs:param0]
    cmp eax, 3
    jb .method
    mov ebx, [LBA]                      ; a write: mark the chunk with its LBA
    add ebx, WRITE_MARK
    mov [es:0], ebx
.method:
    mov bl, CMD_READ_SECTORS
    cmp eax, 0
    je .sectors
    mov bl, CMD_READ_MULTIPLE
    cmp eax, 1
    je .multiple
    mov bl, CMD_READ_DMA
    cmp eax, 2
    je .dma
    mov bl, CMD_WRITE_MULTIPLE
    cmp eax, 4
    je .multiple
    mov bl, CMD_WRITE_DMA
    cmp eax, 5
    je .dma
    mov bl, CMD_WRITE_SECTORS
.sectors:
    call chunk_sectors
    jmp .next
.multiple:
    call chunk_multiple
    jmp .next
.dma:
    call chunk_dma
.next:
    test al, ST_ERR
    jz .ok
    inc dword [ERRORS]
.ok:
    mov eax, [es:0]
    add [SUM], eax
    add dword [LBA], CHUNK_SECTORS
    dec ebp
    jmp .chunk
.done:
    cmp byte [cs:param0], 6
    je .report
    cmp byte [cs:param0], 3
    jb .report
    call ata_wait_not_busy
    ata_out ATA_COMMAND, CMD_FLUSH_CACHE
    call ata_wait_not_busy
    test al, ST_ERR
    jz .report
    inc dword [ERRORS]
.report:
    dec dword [PASSES]
    jz .last_pass
    print "ide-speed: pass sum="
    call report_sums
    call spin
    jmp .pass
.last_pass:
    print "ide-speed: done sum="
    call report_sums
    halt_forever

; Methods 6 and 7: param1 / 8 commands of 8 chunks each.
.big:
    mov ebp, [cs:param1]
    shr ebp, 3
.big_command:
    test ebp, ebp
    jz .done
    cmp byte [BM_DIR], 0
    jne .big_go
    mov ebx, [LBA]                      ; a write: mark each chunk with its LBA
    add ebx, WRITE_MARK
    mov ax, BUFFER_SEG
.big_mark:
    mov fs, ax
    mov [fs:0], ebx
    add ebx, CHUNK_SECTORS
    add ax, 0x1000
    cmp ax, BIG_END_SEG
    jb .big_mark
.big_go:
    call big_dma
    test al, ST_ERR
    jz .big_ok
    inc dword [ERRORS]
.big_ok:
    mov ax, BUFFER_SEG
.big_sum:
    mov fs, ax
    mov ebx, [fs:0]
    add [SUM], ebx
    add ax, 0x1000
    cmp ax, BIG_END_SEG
    jb .big_sum
    add dword [LBA], CHUNK_SECTORS * BIG_ENTRIES
    dec ebp
    jmp .big_command

; READ/WRITE DMA EXT (direction from BM_DIR) of 8 chunks at LBA through BIG_PRD. AL = ATA
; status after the transfer.
big_dma:
    mov dx, [BM_BASE]
    mov al, [BM_DIR]
    out dx, al
    add dx, 4
    mov eax, BIG_PRD
    out dx, eax
    sub dx, 2
    mov al, BM_INTERRUPT | 0x02         ; clear INTERRUPT and ERROR
    out dx, al
    mov eax, [LBA]
    xor edx, edx
    mov cx, CHUNK_SECTORS * BIG_ENTRIES
    mov bl, CMD_READ_DMA_EXT
    cmp byte [BM_DIR], 0
    jne .command
    mov bl, CMD_WRITE_DMA_EXT
.command:
    call ata_lba48
    jmp bm_transfer

; Starts the bus master on the command just issued (direction from BM_DIR), waits for its
; INTERRUPT bit, stops it and waits for the drive to leave BSY. Clobbers AL, DX.
bm_transfer:
    mov dx, [BM_BASE]
    mov al, [BM_DIR]
    or al, BM_START
    out dx, al
    add dx, 2
.poll:
    in al, dx
    test al, BM_INTERRUPT
    jz .poll
    sub dx, 2
    mov al, [BM_DIR]
    out dx, al
    call ata_wait_not_busy
    ret

; Moves one DRQ block of CX words between ES:DI (reads; DI advances) or ES:SI (writes; SI
; advances) and the data port, the direction from the command in BL. Clobbers CX, DX.
pio_block:
    mov dx, ATA_DATA
    cmp bl, CMD_WRITE_SECTORS
    je .write
    cmp bl, CMD_WRITE_MULTIPLE
    je .write
    rep insw
    ret
.write:
    es rep outsw
    ret

; READ/WRITE SECTORS (command in BL) of one chunk: a rep insw/outsw per sector.
; AL = final status.
chunk_sectors:
    push ebp
    mov eax, [LBA]
    mov cl, CHUNK_SECTORS
    mov bh, DEV_MASTER
    call ata_lba28
    xor di, di
    xor si, si
    mov bp, CHUNK_SECTORS
.sector:
    call ata_wait_drq
    test al, ST_ERR
    jnz .out
    mov cx, 256
    call pio_block
    dec bp
    jnz .sector
    call ata_wait_not_busy
.out:
    pop ebp
    ret

; READ/WRITE MULTIPLE (command in BL) of one chunk: a rep insw/outsw per 16-sector
; block. AL = final status.
chunk_multiple:
    push ebp
    mov eax, [LBA]
    mov cl, CHUNK_SECTORS
    mov bh, DEV_MASTER
    call ata_lba28
    xor di, di
    xor si, si
    mov bp, CHUNK_SECTORS / BLOCK
.block:
    call ata_wait_drq
    test al, ST_ERR
    jnz .out
    mov cx, 256 * BLOCK
    call pio_block
    dec bp
    jnz .block
    call ata_wait_not_busy
.out:
    pop ebp
    ret

; READ/WRITE DMA (command in BL) of one chunk through 0x10000. AL = ATA status after
; the transfer.
chunk_dma:
    mov dx, [BM_BASE]
    mov al, [BM_DIR]
    out dx, al
    add dx, 4
    mov eax, PRD
    out dx, eax
    sub dx, 2
    mov al, BM_INTERRUPT | 0x02         ; clear INTERRUPT and ERROR
    out dx, al
    mov eax, [LBA]
    mov cl, CHUNK_SECTORS
    mov bh, DEV_MASTER
    call ata_lba28
    jmp bm_transfer

; Finds the PIIX3 IDE function on bus 0 and its BAR4 (which must be assigned), and turns on
; I/O decode and bus mastering.
find_bus_master:
    mov ebx, 0x80000000
.next:
    mov eax, ebx
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in eax, dx
    cmp eax, PIIX3_IDE
    je .found
    add ebx, 0x100
    cmp ebx, 0x80010000
    jb .next
    print_line "ide-speed: no PIIX3 IDE function on PCI bus 0"
    halt_forever
.found:
    lea eax, [ebx + 0x20]
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in eax, dx
    and ax, 0xFFF0
    jnz .assigned
    mov eax, DEFAULT_BAR4 | 1           ; nobody assigned BAR4: take 0xC000 (I/O)
    out dx, eax
    mov ax, DEFAULT_BAR4
.assigned:
    mov [BM_BASE], ax
    lea eax, [ebx + 0x04]
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in ax, dx
    or ax, 0x0005
    out dx, ax
    ret

; Prints SUM and ERRORS as "0x........ errors=0x........" and the line's end.
report_sums:
    mov eax, [SUM]
    call serial_hex32
    print " errors="
    mov eax, [ERRORS]
    call serial_hex32
    call serial_crlf
    ret

; Spins 400,000 instructions: a soft CPU reports serial output at the end of each slice of
; 50,000 instructions, so a line leaves before the next chunk is moved (its time is the bench's).
spin:
    mov ecx, 200000
.again:
    dec ecx
    jnz .again
    ret

%include "serial-routines.inc"
%include "ata-routines.inc"
    firmware_end 0, 16
