/*
 * Multiboot2 header (Multiboot2 spec 3.1). The entry-address tag gives GRUB the
 * physical address of the 32-bit entry, because the ELF entry is a high-half
 * virtual address GRUB could not jump to.
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

    /* Information request: Nestor cannot run without these. */
    .balign 8
1:  .short 1, 0
    .long 2f - 1b
    .long 1     /* command line */
    .long 3     /* modules */
    .long 6     /* memory map */
2:
    /* Entry address (physical). */
    .balign 8
1:  .short 3, 0
    .long 2f - 1b
    .long _start32 - 0xffffffff80000000
2:
    /* Page-align modules, so L1 images are copied page by page. */
    .balign 8
    .short 6, 0
    .long 8
    /* End tag. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:
