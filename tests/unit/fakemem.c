/* Fake host-physical memory (see fakemem.h). */
#include "fakemem.h"

#include <stdio.h>
#include <stdlib.h>

static uint8_t *arena;
static unsigned long p2v_calls;

int fakemem_group_setup(void **state)
{
    (void)state;
    arena = aligned_alloc(2u << 20, FAKE_SIZE);
    return arena ? 0 : -1;
}

int fakemem_group_teardown(void **state)
{
    (void)state;
    free(arena);
    arena = NULL;
    return 0;
}

int fakemem_test_setup(void **state)
{
    (void)state;
    memset(arena, 0xa5, FAKE_SIZE);
    palloc_init(&g_palloc);
    if (!palloc_add_free(&g_palloc, FAKE_BASE, FAKE_END))
        return -1;
    p2v_calls = 0;
    capture_reset();
    return 0;
}

int fakemem_test_teardown(void **state)
{
    (void)state;
    return 0;
}

bool fake_backed(paddr_t pa, uint64_t len)
{
    return pa >= FAKE_BASE && pa <= FAKE_END && len <= FAKE_END - pa;
}

uint8_t *fake_va(paddr_t pa)
{
    if (!arena || !fake_backed(pa, 1)) {
        print_error("physical address 0x%llx is not backed by the fake memory [0x%llx, 0x%llx)\n",
                    (unsigned long long)pa, (unsigned long long)FAKE_BASE, (unsigned long long)FAKE_END);
        fail();
    }
    return arena + (pa - FAKE_BASE);
}

void *phys_to_virt(paddr_t pa)
{
    p2v_calls++;
    return fake_va(pa);
}

paddr_t virt_to_phys(const void *va)
{
    const uint8_t *p = va;
    if (!arena || p < arena || p >= arena + FAKE_SIZE) {
        print_error("virtual address %p is not in the fake memory arena\n", va);
        fail();
    }
    return FAKE_BASE + (paddr_t)(p - arena);
}

unsigned long fake_p2v_calls(void) { return p2v_calls; }
