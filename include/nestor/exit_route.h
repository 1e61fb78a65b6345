/*
 * Which exits from L2 belong to L1 (nested/exit_route.c): exactly those its
 * vmcs12 would cause on hardware. Pure: L1's I/O and MSR bitmaps are read
 * through a callback, so the decisions are unit-tested on the host.
 */
#ifndef NESTOR_EXIT_ROUTE_H
#define NESTOR_EXIT_ROUTE_H

#include "types.h"
#include "vmcs12.h"

struct route_ctx {
    const struct vmcs12 *v12;
    /* Bit `bit` of the 4 KiB bitmap at L1-physical `page`. */
    bool (*bitmap_bit)(void *ctx, gpa_t page, uint32_t bit);
    void *ctx;
    uint32_t intr_info; /* the exit's interruption information (exceptions) */
    uint64_t vmx_field; /* VMREAD/VMWRITE: the field operand, at L2's operand size */
};

bool nested_l1_wants_exit(const struct route_ctx *r, unsigned reason, uint64_t qual, uint32_t msr_index);

#endif
