/*
 * A test-and-test-and-set spin lock for Nestor's shared state (allocator,
 * console, emulated devices). Never taken on the common exit path: the exit
 * handlers work on their own CPU's vCPU.
 */
#ifndef NESTOR_SPINLOCK_H
#define NESTOR_SPINLOCK_H

#include "types.h"

struct spinlock {
    volatile uint32_t locked;
};

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            __asm__ volatile("pause");
}

static inline bool spin_trylock(struct spinlock *l) { return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE); }

static inline void spin_unlock(struct spinlock *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

#endif
