/*
 * l1test gdb: a target for Nestor's GDB stub (tests/boot/test_gdb.py). It turns
 * paging on with two 4 MiB pages, the first 4 MiB identity-mapped and the same
 * physical 4 MiB again at 0x40000000, so a debugger reading the alias goes
 * through L1's page tables. Then a function to break at, a variable to read and
 * change, and a function taking its argument in EAX for the debugger to change.
 * With gdb_wait=1 it first spins without a VM exit until the debugger sets
 * gdb_release (a Ctrl-C must stop it: the stub's preemption-timer polling).
 */
#include "l1test.h"
#include "io.h"

#define PDE_P  (1u << 0)
#define PDE_RW (1u << 1)
#define PDE_PS (1u << 7)
#define CR4_PSE (1u << 4)
#define CR0_PG  (1u << 31)
#define ALIAS   0x40000000u

static uint32_t page_dir[1024] __attribute__((aligned(4096)));

volatile uint32_t gdb_counter;
volatile uint32_t gdb_release; /* gdb_wait=1: spins until the debugger sets it (after a Ctrl-C) */

/* noipa: no clone or constant propagation, so the symbol is the code that runs. */
__attribute__((noipa)) uint32_t gdb_work(uint32_t x)
{
    gdb_counter += x;
    return gdb_counter * 3;
}

__attribute__((noipa, regparm(1))) void gdb_report(uint32_t value)
{
    l1_say("gdb report value=0x%x counter=0x%x", value, gdb_counter);
}

static void paging_on(void)
{
    page_dir[0] = 0 | PDE_P | PDE_RW | PDE_PS;
    page_dir[ALIAS >> 22] = 0 | PDE_P | PDE_RW | PDE_PS;
    __asm__ volatile("mov %%cr4, %%eax; or %0, %%eax; mov %%eax, %%cr4" : : "i"(CR4_PSE) : "eax");
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
    __asm__ volatile("mov %%cr0, %%eax; or %0, %%eax; mov %%eax, %%cr0" : : "i"(CR0_PG) : "eax", "memory");
}

uint32_t l1_test_gdb(struct l1_ctx *ctx)
{
    l1_cli(); /* a single step must not wander into an interrupt handler */
    paging_on();
    l1_say("gdb paging on: 0x0-0x3fffff also at 0x%x; counter at 0x%x", ALIAS, (uint32_t)(uintptr_t)&gdb_counter);
    char wait[4];
    if (l1_cmdline_get(ctx->cmdline, "gdb_wait", wait, sizeof wait) == 0) {
        l1_say("gdb spinning until the debugger sets gdb_release at 0x%x", (uint32_t)(uintptr_t)&gdb_release);
        while (!gdb_release)
            __asm__ volatile("pause");
        l1_say("gdb released");
    }
    gdb_counter = 0x1000;
    uint32_t r = gdb_work(0x234);
    gdb_report(r);
    l1_say("gdb done counter=0x%x", gdb_counter);
    return ctx->status;
}
