; vga-vbe: a 1024x768x32 Bochs VBE mode set through the DISPI registers (1CEh index, 1CFh
; data) and drawn through the linear framebuffer, no VGA BIOS. The framebuffer address
; is BAR0 of the VGA's PCI function 00:02.0, read through configuration mechanism #1
; (CF8h/CFCh); the guest assigns 0xE0000000 if BAR0 is unassigned and turns memory
; decoding on. Drawing runs in 32-bit protected mode with flat segments:
;   param0 times: fill the whole screen with colour 0x00010203 * (pass + 1)
;   then: a 64x64 red (0x00FF0000) square at (100, 100), a green (0x0000FF00) line
;   across the screen at y = 700, a blue (0x000000FF) pixel at (1023, 767).
; Serial: "vga-vbe: id=0x<vendor/device> lfb=0x<BAR0> dispi=0x<ID>",
;         "vga-vbe: mode=0x<xres> 0x<yres> 0x<bpp>", "vga-vbe: filling", "vga-vbe: done".
%include "firmware.inc"
%include "serial.inc"

%define IMAGE_BASE      0xF0000
%define SEL_CODE        0x08
%define SEL_DATA        0x10
%define PCI_ADDRESS     0xCF8
%define PCI_DATA        0xCFC
%define PCI_VGA         0x80001000      ; enable, bus 0, device 2, function 0
%define PCI_COMMAND     0x04
%define PCI_BAR0        0x10
%define LFB_DEFAULT     0xE0000000
%define DISPI_INDEX     0x1CE
%define DISPI_DATA      0x1CF
%define DISPI_ID        0
%define DISPI_XRES      1
%define DISPI_YRES      2
%define DISPI_BPP       3
%define DISPI_ENABLE    4
%define DISPI_ENABLED   0x01
%define DISPI_LFB       0x40
%define XRES            1024
%define YRES            768
%define LFB             VARS            ; dword: framebuffer base

%macro dispi_write 2
    mov dx, DISPI_INDEX
    mov ax, %1
    out dx, ax
    mov dx, DISPI_DATA
    mov ax, %2
    out dx, ax
%endmacro

; EAX = dispi register %1, zero-extended.
%macro dispi_read 1
    mov dx, DISPI_INDEX
    mov ax, %1
    out dx, ax
    mov dx, DISPI_DATA
    in ax, dx
    movzx eax, ax
%endmacro

start:
    guest_init
    mov eax, PCI_VGA
    call pci_read
    print "vga-vbe: id="
    call serial_hex32
    mov eax, PCI_VGA + PCI_BAR0
    call pci_read
    and eax, 0xFFFFFFF0
    jnz .have_bar
    mov eax, PCI_VGA + PCI_BAR0
    mov ebx, LFB_DEFAULT
    call pci_write
    mov eax, LFB_DEFAULT
.have_bar:
    mov [LFB], eax
    mov eax, PCI_VGA + PCI_COMMAND
    call pci_read
    or eax, 0x0002                      ; memory space decoding
    mov ebx, eax
    mov eax, PCI_VGA + PCI_COMMAND
    call pci_write
    print " lfb="
    mov eax, [LFB]
    call serial_hex32
    print " dispi="
    dispi_read DISPI_ID
    call serial_hex32
    call serial_crlf

    dispi_write DISPI_ENABLE, 0
    dispi_write DISPI_XRES, XRES
    dispi_write DISPI_YRES, YRES
    dispi_write DISPI_BPP, 32
    dispi_write DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB
    print "vga-vbe: mode="
    dispi_read DISPI_XRES
    call serial_hex32
    print " "
    dispi_read DISPI_YRES
    call serial_hex32
    print " "
    dispi_read DISPI_BPP
    call serial_hex32
    call serial_crlf

    lgdt [cs:gdt_pointer]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE:(IMAGE_BASE + protected_entry)

; EAX = configuration address: EAX = the dword there.
pci_read:
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    in eax, dx
    ret

; EAX = configuration address, EBX = dword to write.
pci_write:
    mov dx, PCI_ADDRESS
    out dx, eax
    mov dx, PCI_DATA
    mov eax, ebx
    out dx, eax
    ret

bits 32
protected_entry:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, STACK_TOP
    mov esi, IMAGE_BASE + filling_text
    call print32
    mov ebp, [IMAGE_BASE + param0]
    mov ebx, 0x00010203
.fill:
    test ebp, ebp
    jz .shapes
    mov edi, [LFB]
    mov eax, ebx
    mov ecx, XRES * YRES
    rep stosd
    add ebx, 0x00010203
    dec ebp
    jmp .fill

.shapes:
    mov edi, [LFB]
    add edi, (100 * XRES + 100) * 4
    mov edx, 64
.square:
    mov eax, 0x00FF0000
    mov ecx, 64
    rep stosd
    add edi, (XRES - 64) * 4
    dec edx
    jnz .square
    mov edi, [LFB]
    add edi, 700 * XRES * 4
    mov eax, 0x0000FF00
    mov ecx, XRES
    rep stosd
    mov edi, [LFB]
    mov dword [edi + (767 * XRES + 1023) * 4], 0x000000FF
    mov esi, IMAGE_BASE + done_text
    call print32
    cli
.stop:
    hlt
    jmp .stop

%include "serial32-routines.inc"

filling_text: db "vga-vbe: filling", 13, 10, 0
done_text:    db "vga-vbe: done", 13, 10, 0

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

%include "serial-routines.inc"
    firmware_end 0, 0
