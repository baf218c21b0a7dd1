; protected-paging: leaves real mode for 32-bit protected mode, turns on paging and
; prints from ring 0 through a page mapped only by the page tables, then takes a page
; fault on an unmapped address and prints CR2 and the error code from the #PF handler.
; Output:
;   "protected-paging: entering protected mode"
;   "protected-paging: ring 0 with paging on"       (read through the alias at 4 MiB)
;   "protected-paging: #PF at 0x00800000 code 0x00000002"
; then halts with interrupts off.
%include "firmware.inc"
%include "serial.inc"

%define IMAGE_BASE      0xF0000         ; linear address of image offset 0
%define PAGE_DIRECTORY  0x10000
%define PAGE_TABLE      0x11000
%define IDT_BASE        0x12000         ; 256 gates, only #PF present
%define ALIAS           0x400000        ; directory entry 1 maps the first 4 MiB again
%define UNMAPPED        0x800000        ; directory entry 2 is not present
%define PTE_P_RW        0x003
%define SEL_CODE        0x08
%define SEL_DATA        0x10

start:
    guest_init
    print_line "protected-paging: entering protected mode"
    lgdt [cs:gdt_pointer]
    lidt [cs:idt_pointer]
    mov eax, cr0
    or al, 1                            ; PE
    mov cr0, eax
    jmp dword SEL_CODE:(IMAGE_BASE + protected_entry)

bits 32
protected_entry:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, STACK_TOP
    ; One page table identity-mapping the first 4 MiB, used by directory entries 0 and 1.
    mov edi, PAGE_TABLE
    mov eax, PTE_P_RW
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov edi, PAGE_DIRECTORY
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PAGE_DIRECTORY], PAGE_TABLE | PTE_P_RW
    mov dword [PAGE_DIRECTORY + 4], PAGE_TABLE | PTE_P_RW
    ; The #PF gate (vector 14) in an IDT built in RAM; every other gate not present.
    mov edi, IDT_BASE
    xor eax, eax
    mov ecx, 256 * 2
    rep stosd
    mov eax, IMAGE_BASE + page_fault_handler
    mov word [IDT_BASE + 14 * 8], ax
    mov word [IDT_BASE + 14 * 8 + 2], SEL_CODE
    mov word [IDT_BASE + 14 * 8 + 4], 0x8E00    ; present, DPL 0, 32-bit interrupt gate
    shr eax, 16
    mov word [IDT_BASE + 14 * 8 + 6], ax
    mov eax, PAGE_DIRECTORY
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000                  ; PG
    mov cr0, eax
    jmp .paged
.paged:
    mov esi, ALIAS + IMAGE_BASE + paging_on_text
    call print32
    mov dword [UNMAPPED], 1             ; write to an unmapped page: #PF, error code 2
    mov esi, IMAGE_BASE + survived_text
    call print32
    jmp stop

page_fault_handler:
    mov esi, IMAGE_BASE + fault_text
    call print32
    mov eax, cr2
    call hex32
    mov esi, IMAGE_BASE + code_text
    call print32
    pop eax                             ; the error code
    call hex32
    mov esi, IMAGE_BASE + crlf_text
    call print32
stop:
    cli
.again:
    hlt
    jmp .again

; ESI = NUL-terminated string (linear address). Preserves all registers but flags.
print32:
    push eax
    push esi
.next:
    lodsb
    test al, al
    jz .done
    call putc32
    jmp .next
.done:
    pop esi
    pop eax
    ret

; AL = byte for COM1.
putc32:
    push edx
    push eax
    mov dx, COM1_LSR
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    pop eax
    mov dx, COM1_THR
    out dx, al
    pop edx
    ret

; EAX as 0x and 8 hex digits.
hex32:
    push eax
    push ebx
    push ecx
    mov ebx, eax
    mov al, '0'
    call putc32
    mov al, 'x'
    call putc32
    mov ecx, 8
.digit:
    rol ebx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    call putc32
    loop .digit
    pop ecx
    pop ebx
    pop eax
    ret

paging_on_text: db "protected-paging: ring 0 with paging on", 13, 10, 0
survived_text:  db "protected-paging: no page fault", 13, 10, 0
fault_text:     db "protected-paging: #PF at ", 0
code_text:      db " code ", 0
crlf_text:      db 13, 10, 0

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF               ; 0x08: flat 32-bit code, ring 0
    dq 0x00CF92000000FFFF               ; 0x10: flat data, ring 0
gdt_end:

bits 16
gdt_pointer:
    dw gdt_end - gdt - 1
    dd IMAGE_BASE + gdt
idt_pointer:
    dw 256 * 8 - 1
    dd IDT_BASE

%include "serial-routines.inc"
    firmware_end 0, 0
