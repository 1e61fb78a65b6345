/* x86 instructions C cannot express: thin inline wrappers, nothing else. */
#ifndef NESTOR_ARCH_H
#define NESTOR_ARCH_H

#include "types.h"

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* A 1-, 2- or 4-byte port access of the size an I/O instruction names. */
static inline uint32_t port_in(uint16_t port, unsigned size)
{
    return size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
}

static inline void port_out(uint16_t port, unsigned size, uint32_t v)
{
    if (size == 4)
        outl(port, v);
    else if (size == 2)
        outw(port, (uint16_t)v);
    else
        outb(port, (uint8_t)v);
}

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

#ifdef NESTOR_FAKE_CPU
/* Host builds of the nested layer (tests/fuzz): the fake CPU answers and records these (see vmx_ops.h). */
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t v);
struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf);
#else
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}
#endif

#define DEFINE_CR_ACCESS(n)                                                                       \
    static inline uint64_t read_cr##n(void)                                                       \
    {                                                                                             \
        uint64_t v;                                                                               \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                        \
        return v;                                                                                 \
    }                                                                                             \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static inline void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" ::"r"(v)); }

/* DR6 (SDM vol. 3B 17.2.3): B0-B3, BD, BS; RTM (bit 16) is active low; the other bits read as 1. */
#define DR6_B0_B3 0xfull
#define DR6_BD BIT(13)
#define DR6_BS BIT(14)
#define DR6_RTM BIT(16)
#define DR6_FIXED_1 0xfffe0ff0ull

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}
static inline uint64_t read_rbp(void)
{
    uint64_t v;
    __asm__ volatile("mov %%rbp, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_rsp(void)
{
    uint64_t v;
    __asm__ volatile("mov %%rsp, %0" : "=r"(v));
    return v;
}
static inline uint16_t read_seg_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_seg_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t read_seg_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t read_tr(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }

struct PACKED desc_ptr {
    uint16_t limit;
    uint64_t base;
};
static inline void read_gdtr(struct desc_ptr *d) { __asm__ volatile("sgdt %0" : "=m"(*d)); }
static inline void read_idtr(struct desc_ptr *d) { __asm__ volatile("sidt %0" : "=m"(*d)); }

#ifdef NESTOR_FAKE_CPU
void xsetbv(uint32_t index, uint64_t v);
uint64_t xgetbv(uint32_t index);
#else
static inline void xsetbv(uint32_t index, uint64_t v)
{
    __asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t xgetbv(uint32_t index)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* boot/msr_safe.S: 0 on success, -1 when the MSR access raised #GP. */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);
/* The same for XSETBV: for XCR values L1 chose, which the CPU may still refuse. */
int xsetbv_safe(uint32_t xcr, uint64_t value);

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }
static inline NORETURN void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Architectural MSRs (SDM vol. 4, chapter 2). */
#define MSR_IA32_TSC 0x10u
#define MSR_IA32_APIC_BASE 0x1bu
#define MSR_IA32_FEATURE_CONTROL 0x3au
#define MSR_IA32_BIOS_UPDT_TRIG 0x79u
#define MSR_IA32_BIOS_SIGN_ID 0x8bu
#define MSR_IA32_SMM_MONITOR_CTL 0x9bu
#define MSR_IA32_MPERF 0xe7u
#define MSR_IA32_APERF 0xe8u
#define MSR_IA32_MTRRCAP 0xfeu
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_MISC_ENABLE 0x1a0u
#define MSR_IA32_DEBUGCTL 0x1d9u
#define MSR_IA32_MTRR_PHYSBASE0 0x200u
#define MSR_IA32_MTRR_FIX64K_00000 0x250u
#define MSR_IA32_MTRR_FIX16K_80000 0x258u
#define MSR_IA32_MTRR_FIX16K_A0000 0x259u
#define MSR_IA32_MTRR_FIX4K_C0000 0x268u
#define MSR_IA32_MTRR_FIX4K_F8000 0x26fu
#define MSR_IA32_PAT 0x277u
#define MSR_IA32_MTRR_DEF_TYPE 0x2ffu
#define MSR_IA32_VMX_BASIC 0x480u
#define MSR_IA32_VMX_PINBASED_CTLS 0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u
#define MSR_IA32_VMX_EXIT_CTLS 0x483u
#define MSR_IA32_VMX_ENTRY_CTLS 0x484u
#define MSR_IA32_VMX_MISC 0x485u
#define MSR_IA32_VMX_CR0_FIXED0 0x486u
#define MSR_IA32_VMX_CR0_FIXED1 0x487u
#define MSR_IA32_VMX_CR4_FIXED0 0x488u
#define MSR_IA32_VMX_CR4_FIXED1 0x489u
#define MSR_IA32_VMX_VMCS_ENUM 0x48au
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48bu
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490u
#define MSR_IA32_VMX_VMFUNC 0x491u
#define MSR_IA32_EFER 0xc0000080u
#define MSR_IA32_STAR 0xc0000081u
#define MSR_IA32_LSTAR 0xc0000082u
#define MSR_IA32_CSTAR 0xc0000083u
#define MSR_IA32_FMASK 0xc0000084u
#define MSR_IA32_FS_BASE 0xc0000100u
#define MSR_IA32_GS_BASE 0xc0000101u
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102u
#define MSR_IA32_TSC_AUX 0xc0000103u
#define MSR_IA32_RTIT_CTL 0x570u
#define MSR_IA32_DS_AREA 0x600u
#define MSR_IA32_PEBS_ENABLE 0x3f1u
#define MSR_IA32_PERF_GLOBAL_CTRL 0x38fu

/* IA32_FEATURE_CONTROL bits (SDM vol. 3C 23.7). */
#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX_IN_SMX BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

/* IA32_DEBUGCTL bits a CPU may implement (SDM vol. 3B 17.4.1); the others are reserved. */
#define DEBUGCTL_VALID_BITS 0xdfc3ull
/* TR, BTS, BTINT: branch trace messages/records into the DS area (SDM vol. 3B 18.4.4), absent for L1. */
#define DEBUGCTL_BTS_BITS (BIT(6) | BIT(7) | BIT(8))
#define DEBUGCTL_BTF BIT(1) /* single-step on branches */

/* XCR0 state components (SDM vol. 1 13.1). */
#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_BNDREGS BIT(3)
#define XCR0_BNDCSR BIT(4)
#define XCR0_AVX512 (BIT(5) | BIT(6) | BIT(7))
#define XCR0_TILECFG BIT(17)
#define XCR0_TILEDATA BIT(18)

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_PKE BIT(22)

#define RFLAGS_CF BIT(0)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_VM BIT(17)

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)

#endif
