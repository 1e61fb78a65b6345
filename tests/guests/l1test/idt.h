/*
 * l1test: 32-bit IDT, "expected fault" support and IRQ hook.
 */
#ifndef L1TEST_IDT_H
#define L1TEST_IDT_H

#include <stdint.h>

/* Must match the stub layout in isr.S. */
#define L1_ISR_STUB_SIZE 16
#define L1_IDT_VECTORS   48   /* 32 exceptions + 16 remapped PIC IRQs */

#define L1_VEC_UD   6
#define L1_VEC_GP   13
#define L1_IRQ_BASE 0x20

/* Register image pushed by isr.S (pusha order, then vector, error, CPU frame). */
struct l1_frame {
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};

typedef void (*l1_irq_fn)(uint32_t vector);

void l1_idt_install(void);
/* A probe's own exception handler, tried before the expected-fault logic: returns 1 if it handled f. */
typedef int (*l1_exc_hook_fn)(struct l1_frame *f);
void l1_idt_set_exc_hook(l1_exc_hook_fn fn);
void l1_idt_set_irq_handler(l1_irq_fn fn);

/*
 * Arms a one-shot expectation: if exception 'vector' arrives next, it is
 * recorded and the faulting instruction (of 'skip' bytes) is stepped over
 * instead of being reported as unexpected.
 */
void l1_expect_fault(uint32_t vector, uint32_t skip);
/* Returns 1 if the armed fault happened, and disarms in any case. */
int l1_fault_taken(void);

/* MSR access that reports #GP instead of dying: 0 = ok, -1 = #GP. */
int l1_safe_rdmsr(uint32_t msr, uint64_t *val);
int l1_safe_wrmsr(uint32_t msr, uint64_t val);

#endif
