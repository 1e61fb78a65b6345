/*
 * ghv: declarations shared by the C files of the guest-hypervisor test kernel.
 *
 * ghv is a tiny L1 hypervisor: it runs identity mapped in 64-bit mode at
 * CPL 0, so every pointer below is also a physical address (the VMX
 * instructions want physical addresses; phys() only documents that).
 */
#ifndef GHV_H
#define GHV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define GHV_PAGE 4096

/* Selectors of ghv's own GDT (cpu.c); the user ones carry RPL 3. */
#define GHV_KCS 0x08
#define GHV_KDS 0x10
#define GHV_UDS 0x1b
#define GHV_UCS 0x23
#define GHV_TSS 0x28

static inline u64 phys(const volatile void *p) { return (u64)(uintptr_t)p; }

/* ---- port I/O, MSRs, control registers ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

#define GHV_CR_RW(n)                                                                    \
    static inline u64 read_cr##n(void)                                                  \
    {                                                                                   \
        u64 v;                                                                          \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                               \
        return v;                                                                       \
    }                                                                                   \
    static inline void write_cr##n(u64 v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
GHV_CR_RW(0)
GHV_CR_RW(2)
GHV_CR_RW(3)
GHV_CR_RW(4)
#undef GHV_CR_RW

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCE (1ull << 8)
#define CR4_VMXE (1ull << 13)

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_EFER 0xc0000080

/* ---- util.c ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int ghv_strncmp(const char *a, const char *b, size_t n);

/* ---- serial.c / print.c ---- */
void serial_init(void);
void serial_putc(char c);
void serial_flush(void);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- cpu.c: GDT/TSS/IDT, fault recovery, return from ring 3 ---- */
struct ghv_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, err, rip, cs, rflags, rsp, ss;
};
void cpu_init(void);
u64 ghv_tss_base(void);
/* Set by the asm in vmx_try.S / user.S, consumed by ghv_trap(). */
extern volatile u64 ghv_fault_resume, ghv_fault_vec, ghv_fault_err;
extern volatile u64 ghv_user_active, ghv_user_resume_rip, ghv_user_resume_rsp;
extern volatile u64 ghv_user_vec, ghv_user_err, ghv_user_rax;

/* ---- main.c ---- */
__attribute__((noreturn)) void ghv_finish(u32 status);

/* ---- l2_env.c: what L2 runs on ---- */
#define GHV_L2_CS 0x08
#define GHV_L2_DS 0x10
#define GHV_L2_TR 0x18
struct l2_env {
    u64 cr3, cr3_alt;           /* two PML4s with identical contents */
    u64 gdt_base, idt_base, tss_base;
    u16 gdt_limit, idt_limit;
    u64 stack_top;
};
extern struct l2_env ghv_l2;
void l2_env_init(void);

/* ---- basic.c / negative.c ---- */
bool basic_run(void);
bool neg_run(void);
/* ---- events.c / l0.c / msrarea.c / pae.c (extended tests, xtest.h) ---- */
bool events_run(void);
bool l0_run(void);
bool msrarea_run(void);
bool pae_run(void);
/* ---- eptlib.c: ept, ept-ug, ept-hostile, ept-outside, runl2 (ept.h) ---- */
bool eptx_run(int test, u32 mbi);
/* ---- smp.c: test=smp, ghv on two CPUs ---- */
bool smp_run(void);
bool hostile_nested_run(void); /* hostile_nested.c */
bool livebitmap_run(void);     /* livebitmap.c */
bool shadow_run(void);         /* shadow.c */
bool eptad_run(void);          /* eptad.c */
bool xexits_run(void);         /* xexits.c */
bool apicv_run(void);          /* apicv.c */
bool apicv_outside_run(void);  /* apicv_outside.c */
bool latency_run(void);        /* latency.c */

#endif
