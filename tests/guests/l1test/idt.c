/*
 * l1test: 32-bit IDT and the C side of exception/IRQ handling.
 *
 * Installed for every test (not only those that need it) so that a fault the
 * hypervisor injects by mistake shows up as a readable line and status 0xe6
 * rather than as an opaque triple fault.
 */
#include "l1test.h"
#include "idt.h"

#define NO_VECTOR 0xffffffffu

extern const uint8_t l1_isr_stubs[];   /* isr.S */

static uint64_t idt[L1_IDT_VECTORS] __attribute__((aligned(8)));
static volatile uint32_t expect_vector = NO_VECTOR;
static volatile uint32_t expect_skip;
static volatile int fault_hit;
static l1_irq_fn irq_handler;
static l1_exc_hook_fn exc_hook;

void l1_idt_set_exc_hook(l1_exc_hook_fn fn)
{
    exc_hook = fn;
}

static uint64_t gate(uint32_t handler)
{
    /* Present, DPL0, 32-bit interrupt gate (type 0xe): IF cleared on entry. */
    return (uint64_t)(handler & 0xffffu)
         | ((uint64_t)L1_SEL_CODE32 << 16)
         | ((uint64_t)0x8e << 40)
         | ((uint64_t)(handler >> 16) << 48);
}

void l1_idt_install(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) desc;

    for (uint32_t v = 0; v < L1_IDT_VECTORS; v++)
        idt[v] = gate((uint32_t)(uintptr_t)(l1_isr_stubs + v * L1_ISR_STUB_SIZE));
    desc.limit = sizeof(idt) - 1;
    desc.base = (uint32_t)(uintptr_t)idt;
    __asm__ volatile("lidt %0" : : "m"(desc) : "memory");
}

void l1_idt_set_irq_handler(l1_irq_fn fn)
{
    irq_handler = fn;
}

void l1_expect_fault(uint32_t vector, uint32_t skip)
{
    fault_hit = 0;
    expect_skip = skip;
    expect_vector = vector;
}

int l1_fault_taken(void)
{
    int hit = fault_hit;
    expect_vector = NO_VECTOR;
    fault_hit = 0;
    return hit;
}

/* Called from isr.S with a pointer to the saved frame; may edit eip. */
void l1_trap(struct l1_frame *f);
void l1_trap(struct l1_frame *f)
{
    if (f->vector >= L1_IRQ_BASE) {
        if (irq_handler)
            irq_handler(f->vector);
        return;
    }
    if (exc_hook && exc_hook(f))
        return;
    if (f->vector == expect_vector) {
        fault_hit = 1;
        expect_vector = NO_VECTOR;
        f->eip += expect_skip;
        return;
    }
    l1_say("unexpected exception vec=0x%x err=0x%x eip=0x%x",
           f->vector, f->error, f->eip);
    l1_done(L1_ST_UNEXPECTED_EXC);
}

/*
 * The asm bodies below must be exactly the 2-byte RDMSR/WRMSR opcodes: the
 * #GP path resumes at eip + 2, i.e. right after the instruction.
 */
int l1_safe_rdmsr(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    l1_expect_fault(L1_VEC_GP, 2);
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    if (l1_fault_taken())
        return -1;
    *val = ((uint64_t)hi << 32) | lo;
    return 0;
}

int l1_safe_wrmsr(uint32_t msr, uint64_t val)
{
    l1_expect_fault(L1_VEC_GP, 2);
    __asm__ volatile("wrmsr"
                     : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
    return l1_fault_taken() ? -1 : 0;
}
