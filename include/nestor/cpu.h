/* Nestor's own CPU tables: GDT, TSS, IDT (boot/). */
#ifndef NESTOR_CPU_H
#define NESTOR_CPU_H

#include "types.h"

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* Saved by boot/isr.S, in push order reversed. */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

void gdt_init(void);
void idt_init(void);
uint64_t tss_base(void);
/* NMIs taken while Nestor runs; the vcpu hands them on to L1. */
extern volatile uint32_t host_nmi_count;

#endif
