/*
 * l1test: tests probing CPU features the hypervisor virtualises or filters:
 * hello, cpuid, msr, apic, xsetbv, vmx.
 */
#include "l1test.h"
#include "idt.h"
#include "io.h"

#define MSR_FEATURE_CONTROL 0x3au
#define MSR_VMX_BASIC       0x480u
#define MSR_APIC_BASE       0x1bu
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_REG_VERSION    0x30u

#define CPUID1_ECX_VMX        (1u << 5)
#define CPUID1_ECX_XSAVE      (1u << 26)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CR4_OSXSAVE           (1u << 18)

uint32_t l1_test_hello(struct l1_ctx *ctx)
{
    l1_say("hello from L1");
    return ctx->status;
}

static void sig_chars(char *out, uint32_t reg)
{
    for (int i = 0; i < 4; i++) {
        char c = (char)(reg >> (8 * i));
        out[i] = (c >= 0x20 && c < 0x7f) ? c : '.';  /* NUL padding stays visible */
    }
}

uint32_t l1_test_cpuid(struct l1_ctx *ctx)
{
    uint32_t r[4];
    char sig[13];

    l1_cpuid(1, 0, r);
    l1_say("cpuid.1 ecx=0x%x hypervisor=%u vmx=%u", r[2],
           (r[2] & CPUID1_ECX_HYPERVISOR) ? 1u : 0u,
           (r[2] & CPUID1_ECX_VMX) ? 1u : 0u);

    l1_cpuid(0x40000000u, 0, r);
    sig_chars(sig, r[1]);
    sig_chars(sig + 4, r[2]);
    sig_chars(sig + 8, r[3]);
    sig[12] = '\0';
    l1_say("cpuid.40000000 max=0x%x sig=%s", r[0], sig);
    return ctx->status;
}

static void say_rdmsr(uint32_t msr, uint64_t *val, int *ok)
{
    *ok = l1_safe_rdmsr(msr, val) == 0;
    if (*ok)
        l1_say("rdmsr 0x%x = 0x%llx", msr, *val);
    else
        l1_say("rdmsr 0x%x #GP", msr);
}

uint32_t l1_test_msr(struct l1_ctx *ctx)
{
    uint64_t fc = 0, basic = 0;
    int ok;

    say_rdmsr(MSR_FEATURE_CONTROL, &fc, &ok);
    say_rdmsr(MSR_VMX_BASIC, &basic, &ok);
    /* Bit 2 = VMX outside SMX: a guest trying to enable VMX for itself. */
    if (l1_safe_wrmsr(MSR_FEATURE_CONTROL, fc | 4) == 0)
        l1_say("wrmsr 0x%x ok", MSR_FEATURE_CONTROL);
    else
        l1_say("wrmsr 0x%x #GP", MSR_FEATURE_CONTROL);
    return ctx->status;
}

static uint32_t apic_version(uint64_t base)
{
    volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)
        (((uint32_t)base & ~0xfffu) + APIC_REG_VERSION);
    return *reg;
}

uint32_t l1_test_apic(struct l1_ctx *ctx)
{
    uint64_t base, now;

    if (l1_safe_rdmsr(MSR_APIC_BASE, &base) != 0) {
        l1_say("rdmsr 0x%x #GP", MSR_APIC_BASE);
        return L1_ST_APIC_MSR_GP;
    }
    l1_say("apic_base=0x%llx", base);
    l1_say("apic version=0x%x", apic_version(base));

    if (l1_safe_wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_ENABLE) != 0 ||
        l1_safe_rdmsr(MSR_APIC_BASE, &now) != 0) {
        l1_say("apic disable #GP");
        return L1_ST_APIC_MSR_GP;
    }
    l1_say("apic disabled base=0x%llx", now);

    if (l1_safe_wrmsr(MSR_APIC_BASE, now | APIC_BASE_ENABLE) != 0 ||
        l1_safe_rdmsr(MSR_APIC_BASE, &now) != 0) {
        l1_say("apic reenable #GP");
        return L1_ST_APIC_MSR_GP;
    }
    l1_say("apic reenabled base=0x%llx version=0x%x", now, apic_version(now));
    return ctx->status;
}

uint32_t l1_test_xsetbv(struct l1_ctx *ctx)
{
    uint32_t r[4];
    uint32_t lo, hi;

    l1_cpuid(1, 0, r);
    if (!(r[2] & CPUID1_ECX_XSAVE)) {
        l1_say("no xsave");
        return ctx->status;
    }
    /* XSETBV/XGETBV #UD unless the OS has opted in through CR4.OSXSAVE. */
    l1_write_cr4(l1_read_cr4() | CR4_OSXSAVE);
    __asm__ volatile("xsetbv" : : "c"(0), "a"(3), "d"(0) : "memory");
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    l1_say("xcr0=0x%llx", ((uint64_t)hi << 32) | lo);
    return ctx->status;
}

/* VMXON's operand: the address of a (bogus, zero) VMXON region pointer. */
static uint64_t vmxon_ptr __attribute__((aligned(8)));

uint32_t l1_test_vmx(struct l1_ctx *ctx)
{
    /*
     * Emitted as bytes so the length is certain: f3 0f c7 /6 with ModRM 0x30
     * = vmxon (%eax), 4 bytes, which is what the #UD path skips.
     */
    l1_expect_fault(L1_VEC_UD, 4);
    __asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0x30" : : "a"(&vmxon_ptr) : "memory", "cc");
    if (l1_fault_taken())
        l1_say("vmxon #UD");
    else
        l1_say("vmxon executed");
    return ctx->status;
}
