/*
 * ghv: Multiboot2 header.
 *
 * Linked first (link.ld keeps .multiboot at the image start) so it sits well
 * inside the first 32 KiB of the file. No address or entry tags: the loader
 * places the ELF64 segments by their program headers and enters e_entry in
 * 32-bit protected mode.
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH  0                 /* i386 protected mode */

    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
    .balign 8
    .short 0                        /* end tag: type 0, flags 0, size 8 */
    .short 0
    .long 8
mb2_header_end:

    .section .note.GNU-stack, "", @progbits
