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

struct percpu;
/* boot/gdt.c: this CPU's GDT and TSS (in its percpu), with the given IST stack tops for #DF, NMI, #MC. */
void gdt_load(struct percpu *p, const uint64_t ist_tops[3]);
/* boot/idt.c: builds the shared IDT (once) and loads it on this CPU. */
void idt_init(void);
void idt_load(void);
/* The running CPU's TSS, for the host state of its VMCSs. */
uint64_t tss_base(void);

#endif
