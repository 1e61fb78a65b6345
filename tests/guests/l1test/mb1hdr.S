/*
 * l1test: multiboot v1 header (linked only into l1test-mb1.elf).
 *
 * Flags: page-align modules (bit 0) and provide memory info (bit 1). No
 * a.out kludge (bit 16): the loader places us by the ELF program headers.
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000003

    .section .multiboot, "a"
    .balign 4
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .section .note.GNU-stack, "", @progbits
