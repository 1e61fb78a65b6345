/*
 * l1test: thin wrappers around privileged instructions.
 *
 * Kept as inline asm with exact instruction sequences because some callers
 * (the #GP-guarded MSR accessors in idt.c) rely on the faulting instruction
 * having a known length.
 */
#ifndef L1TEST_IO_H
#define L1TEST_IO_H

#include <stdint.h>

static inline void l1_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t l1_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void l1_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void l1_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline uint32_t l1_read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint32_t l1_read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void l1_write_cr4(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void l1_cli(void) { __asm__ volatile("cli" ::: "memory"); }

/* Parks the CPU for good; the loop covers NMIs/SMIs waking it up. */
static inline __attribute__((noreturn)) void l1_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

#endif
