/*
 * The linear address of a memory operand of a VMX instruction, from the
 * VM-exit instruction information (SDM 27.2.5, Table 27-13) and the
 * displacement in the exit qualification (27.2.1): base + index * scale +
 * displacement, truncated to the address size, plus the segment base, with
 * the checks segmentation makes (SDM vol. 3A 3.4.5, 5.3: limits and rights
 * outside 64-bit mode, canonical addresses in it). Pure, unit-tested.
 */
#ifndef NESTOR_OPERAND_ADDR_H
#define NESTOR_OPERAND_ADDR_H

#include "types.h"

#define OPSEG_ES 0
#define OPSEG_CS 1
#define OPSEG_SS 2
#define OPSEG_DS 3
#define OPSEG_FS 4
#define OPSEG_GS 5

struct operand_ctx {
    uint64_t gpr[16]; /* RSP at index 4 */
    bool long_mode;   /* 64-bit code (EFER.LMA and CS.L) */
    bool la57;        /* CR4.LA57: 57-bit canonical addresses */
    struct {
        uint64_t base;
        uint32_t limit;
        uint32_t ar; /* VMCS access-rights format */
    } seg[6];
};

enum operand_fault { OPERAND_OK, OPERAND_GP, OPERAND_SS };

enum operand_fault operand_linear(const struct operand_ctx *c, uint32_t info, uint64_t disp, size_t size, bool write,
                                  uint64_t *linear);

#endif
