/*
 * Fake host-physical memory for code that reaches physical pages through
 * phys_to_virt() (EPT tables, page_try_alloc_zeroed, the L1 loader).
 *
 * Host-physical [FAKE_BASE, FAKE_BASE + FAKE_SIZE) is backed by one heap
 * arena aligned like the physical addresses (2 MiB), and g_palloc hands out
 * exactly that range. Any other physical address is not backed: EPT may map it
 * (that never touches the page), but phys_to_virt() on it fails the test.
 */
#ifndef NESTOR_UNIT_FAKEMEM_H
#define NESTOR_UNIT_FAKEMEM_H

#include "harness.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"

#define FAKE_BASE ((paddr_t)0x1000000) /* 16 MiB: nonzero and 2 MiB aligned */
#define FAKE_SIZE ((uint64_t)64 << 20)
#define FAKE_END (FAKE_BASE + FAKE_SIZE)

/* Group fixtures: allocate / release the arena. */
int fakemem_group_setup(void **state);
int fakemem_group_teardown(void **state);
/* Test fixture: g_palloc reset to the whole arena, arena filled with 0xa5 garbage. */
int fakemem_test_setup(void **state);
/* Test fixture: nothing to undo (the next setup resets everything). */
int fakemem_test_teardown(void **state);

/* The arena byte that backs physical address pa (pa must be backed). */
uint8_t *fake_va(paddr_t pa);
bool fake_backed(paddr_t pa, uint64_t len);
/* Number of phys_to_virt() calls since the last test setup. */
unsigned long fake_p2v_calls(void);

#endif
