/* The per-CPU structs and loading one on its CPU (GDT, TSS, IDT, GS base). */
#include "nestor/arch.h"
#include "nestor/cpu.h"
#include "nestor/lib.h"
#include "nestor/palloc.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"

#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define AP_STACK_SIZE (4 * PAGE_SIZE)

struct percpu *g_cpus[MAX_CPUS];
unsigned g_cpu_count;
volatile unsigned g_cpus_online;

static struct percpu bsp;
static uint8_t bsp_ist[3][IST_STACK_SIZE] __attribute__((aligned(16)));

struct percpu *percpu_bsp(void) { return &bsp; }

struct percpu *percpu_alloc(unsigned index, uint32_t apic_id)
{
    /* The struct, its kernel stack and three IST stacks in one allocation. */
    uint64_t pages = (ALIGN_UP(sizeof(struct percpu), PAGE_SIZE) + AP_STACK_SIZE + 3 * IST_STACK_SIZE) / PAGE_SIZE;
    paddr_t pa = palloc_locked_alloc(pages);
    if (!pa)
        return NULL;
    uint8_t *mem = phys_to_virt(pa);
    memset(mem, 0, pages * PAGE_SIZE);
    struct percpu *p = (struct percpu *)mem;
    p->self = p;
    p->index = index;
    p->apic_id = apic_id;
    p->stack_top = (uint64_t)(uintptr_t)(mem + pages * PAGE_SIZE - 3 * IST_STACK_SIZE);
    return p;
}

void percpu_load(struct percpu *p)
{
    uint64_t ist[3];
    if (p == &bsp) {
        p->self = p;
        for (int i = 0; i < 3; i++)
            ist[i] = (uint64_t)(uintptr_t)(bsp_ist[i] + IST_STACK_SIZE);
    } else {
        for (int i = 0; i < 3; i++)
            ist[i] = p->stack_top + (uint64_t)(i + 1) * IST_STACK_SIZE;
    }
    gdt_load(p, ist);
    idt_load();
    /* Loading GS above zeroed its base: point it at the struct (this_cpu reads GS:0). */
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}
