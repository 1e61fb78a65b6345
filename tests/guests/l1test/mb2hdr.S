/*
 * l1test: multiboot2 header (linked only into l1test-mb2.elf).
 *
 * Only the mandatory end tag: the loader places us by the ELF program
 * headers and enters at e_entry, so no address/entry tags are needed.
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH  0             /* i386 protected mode */

    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
    .balign 8
    .short 0                    /* end tag: type 0, flags 0, size 8 */
    .short 0
    .long 8
mb2_header_end:

    .section .note.GNU-stack, "", @progbits
