/*
 * Nestor's virtual address layout (docs/ARCHITECTURE.md has the picture).
 * Kept in one header because the linker script, the 32-bit entry and C all
 * depend on the same numbers.
 */
#ifndef NESTOR_LAYOUT_H
#define NESTOR_LAYOUT_H

/* The image is linked in the top 2 GiB so -mcmodel=kernel works. */
#define KERNEL_VMA 0xffffffff80000000
/* Physical load address: 2 MiB aligned, so large pages can map it. */
#define KERNEL_LMA 0x200000
/* All of host-physical memory is mapped here (the "direct map"). */
#define PHYS_MAP_BASE 0xffff800000000000

/* Where the AP start-up code is copied for the SIPI (a free page below 1 MiB; its bytes are put back). */
#define AP_TRAMP_PA 0x7000

#define BOOT_STACK_SIZE 0x4000
#define IST_STACK_SIZE 0x2000

#endif
