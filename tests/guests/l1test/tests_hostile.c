/*
 * l1test: an L1 that tries what a hostile guest would (issue 9): reach the host
 * through tracing MSRs or PCI config space, crash Nestor with a bad XCR0, lose
 * its debug state across exits, wedge the CPU with #DB, reset the machine
 * behind Nestor's back, straddle emulated and passed-through I/O ports.
 */
#include "l1test.h"
#include "idt.h"
#include "io.h"

#define CR4_OSXSAVE    (1u << 18)
#define EFLAGS_TF      (1u << 8)

static void probe_msr(uint32_t msr)
{
    uint64_t v;
    if (l1_safe_rdmsr(msr, &v) == 0)
        l1_say("rdmsr 0x%x = 0x%llx", msr, v);
    else
        l1_say("rdmsr 0x%x #GP", msr);
    /* Zero: had it reached the CPU, it would at least switch tracing off, never on. */
    if (l1_safe_wrmsr(msr, 0) == 0)
        l1_say("wrmsr 0x%x ok", msr);
    else
        l1_say("wrmsr 0x%x #GP", msr);
}

uint32_t l1_test_tracemsr(struct l1_ctx *ctx)
{
    probe_msr(0x570);  /* IA32_RTIT_CTL */
    probe_msr(0x600);  /* IA32_DS_AREA */
    probe_msr(0x3f1);  /* IA32_PEBS_ENABLE */
    probe_msr(0x38f);  /* IA32_PERF_GLOBAL_CTRL */
    return ctx->status;
}

/* XSETBV is 0f 01 d1: 3 bytes, skipped on #GP. */
static int try_xsetbv(uint64_t v)
{
    l1_expect_fault(L1_VEC_GP, 3);
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
    return l1_fault_taken() ? -1 : 0;
}

uint32_t l1_test_xcr0bad(struct l1_ctx *ctx)
{
    static const uint64_t bad[] = {0x9, 0x11, 0x20003, 0x40003, 0x27};
    uint32_t lo, hi;
    l1_write_cr4(l1_read_cr4() | CR4_OSXSAVE);
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        l1_say("xsetbv 0x%llx %s", bad[i], try_xsetbv(bad[i]) ? "#GP" : "ok");
    l1_say("xsetbv 0x3 %s", try_xsetbv(3) ? "#GP" : "ok");
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    l1_say("xcr0=0x%llx", ((uint64_t)hi << 32) | lo);
    return ctx->status;
}

/* No breakpoint enabled (L0-L3/G0-G3 clear): only the R/W, LEN and GE fields, which DR7 keeps. */
#define DR7_PROBE 0x00550600u

uint32_t l1_test_dr7(struct l1_ctx *ctx)
{
    uint32_t r[4], dr7;
    __asm__ volatile("mov %0, %%dr7" : : "r"(DR7_PROBE));
    l1_cpuid(0, 0, r); /* a VM exit */
    __asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
    l1_say("dr7 written=0x%x after exit=0x%x", DR7_PROBE, dr7);
    return ctx->status;
}

static volatile uint32_t db_count, db_dr6, db_eip;

static int db_hook(struct l1_frame *f)
{
    uint32_t dr6;
    if (f->vector != 1)
        return 0;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    db_count++;
    db_dr6 = dr6;
    db_eip = f->eip;
    f->eflags &= ~EFLAGS_TF; /* one step only */
    return 1;
}

uint32_t l1_test_dbtrap(struct l1_ctx *ctx)
{
    uint32_t after;
    l1_idt_set_exc_hook(db_hook);
    __asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0u));
    /* TF set by POPF: the trap comes after the instruction following it. */
    __asm__ volatile("pushf\n\torl %1, (%%esp)\n\tpopf\n\tnop\n\tmovl $1f, %0\n1:"
                     : "=r"(after) : "i"(EFLAGS_TF) : "memory", "cc");
    l1_say("single-step #DB count=%u bs=%u", db_count, (db_dr6 >> 14) & 1);
    db_count = 0;
    __asm__ volatile(".byte 0xf1\n\tmovl $1f, %0\n1:" : "=r"(after) : : "memory"); /* INT1 (ICEBP) */
    l1_say("int1 #DB count=%u", db_count);
    l1_idt_set_exc_hook(0);
    return ctx->status;
}

/* PCI configuration mechanism #1. */
static uint32_t cf8(unsigned reg) { return 0x80000000u | (reg & 0xfc); }

static uint8_t cfg_read8(unsigned reg)
{
    uint8_t v;
    l1_outl(0xcf8, cf8(reg));
    __asm__ volatile("inb %w1, %0" : "=a"(v) : "Nd"((uint16_t)(0xcfc + (reg & 3))));
    return v;
}

static void cfg_write8(unsigned reg, uint8_t v)
{
    l1_outl(0xcf8, cf8(reg));
    __asm__ volatile("outb %0, %w1" : : "a"(v), "Nd"((uint16_t)(0xcfc + (reg & 3))));
}

static uint32_t cfg_read32(unsigned reg)
{
    uint32_t v;
    l1_outl(0xcf8, cf8(reg));
    __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((uint16_t)0xcfc));
    return v;
}

#define SMRAM_D_OPEN (1u << 6)
#define SMRAM_D_LCK  (1u << 4)

uint32_t l1_test_smram(struct l1_ctx *ctx)
{
    uint32_t id = cfg_read32(0);
    unsigned smram_reg, pam_reg;
    if (id == 0x12378086u) {
        smram_reg = 0x72;
        pam_reg = 0x5a;
    } else if (id == 0x29c08086u) {
        smram_reg = 0x9d;
        pam_reg = 0x91;
    } else {
        l1_say("host bridge %x: not i440FX/Q35", id);
        return ctx->status;
    }
    uint8_t before = cfg_read8(smram_reg);
    l1_say("host bridge id=0x%x smram=0x%x", id, before);
    /* Open SMRAM: D_OPEN on, D_LCK off (a write of 0 to D_LCK cannot unlock real chipsets either). */
    cfg_write8(smram_reg, (uint8_t)((before | SMRAM_D_OPEN) & ~SMRAM_D_LCK));
    l1_say("smram after D_OPEN write=0x%x", cfg_read8(smram_reg));
    uint8_t pam = cfg_read8(pam_reg);
    cfg_write8(pam_reg, (uint8_t)(pam ^ 0x33));
    l1_say("pam 0x%x before=0x%x after=0x%x", pam_reg, pam, cfg_read8(pam_reg));
    return ctx->status;
}

uint32_t l1_test_reset_cf9(struct l1_ctx *ctx)
{
    l1_outb(0xcf9, 0x02);
    l1_outb(0xcf9, 0x06);
    l1_say("still running after reset through 0xcf9");
    return ctx->status;
}

uint32_t l1_test_reset_92(struct l1_ctx *ctx)
{
    l1_outb(0x92, (uint8_t)(l1_inb(0x92) | 1));
    l1_say("still running after reset through 0x92");
    return ctx->status;
}

uint32_t l1_test_reset_kbc(struct l1_ctx *ctx)
{
    for (int i = 0; i < 100000 && (l1_inb(0x64) & 2); i++)
        ;
    l1_outb(0x64, 0xfe);
    l1_say("still running after reset through 0x64");
    return ctx->status;
}

uint32_t l1_test_poweroff(struct l1_ctx *ctx)
{
    __asm__ volatile("outw %0, %w1" : : "a"((uint16_t)0x2000), "Nd"((uint16_t)0xb004));
    l1_say("still running after poweroff");
    return ctx->status;
}

uint32_t l1_test_iosplit(struct l1_ctx *ctx)
{
    uint16_t ax;
    /* 0x3f7 (passed through) and 0x3f8 (Nestor's COM1: receive buffer, nothing received = 0). */
    __asm__ volatile("inw %w1, %0" : "=a"(ax) : "Nd"((uint16_t)0x3f7));
    l1_say("in ax,0x3f7 = 0x%x", ax);
    /* COM1's scratch register 0x3ff and the passed-through 0x400: write, read back. */
    __asm__ volatile("outw %0, %w1" : : "a"((uint16_t)0x00a5), "Nd"((uint16_t)0x3ff));
    __asm__ volatile("inw %w1, %0" : "=a"(ax) : "Nd"((uint16_t)0x3ff));
    l1_say("scratch after out 0x3ff,ax = 0x%x", ax & 0xff);
    /* 0xf2-0xf3 passed through, 0xf4-0xf5 Nestor's debug exit: the run ends with status 0x%x of bytes 2-3. */
    l1_say("out 0xf2,eax with 0x%x", (ctx->status << 16) | 0x1234u);
    __asm__ volatile("outl %0, %w1" : : "a"((ctx->status << 16) | 0x1234u), "Nd"((uint16_t)0xf2));
    l1_say("still running after out 0xf2,eax");
    return 0xe9;
}

/* ------------------------------------------------------------------ #AC from ring 3 */

extern uint64_t l1_gdt[4];
extern const uint8_t l1_ring3_ac_insn[];
extern const uint8_t l1_ring3_return[];
void l1_ring3_ac_run(const void *addr);

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
} __attribute__((packed));

static uint64_t gdt3[7] __attribute__((aligned(8)));
static struct tss32 tss;
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static uint32_t ac_data[2];
static volatile uint32_t ac_count, ac_error, ac_cs;

#define CR0_AM (1u << 18)
#define EFLAGS_AC (1u << 18)

static int ac_hook(struct l1_frame *f)
{
    if (f->vector == 17 && (f->cs & 3) == 3) {
        ac_count++;
        ac_error = f->error;
        ac_cs = f->cs;
        f->eip += 2; /* movl (%ebx), %eax */
        return 1;
    }
    if (f->vector == L1_VEC_GP && (f->cs & 3) == 3) {
        /* The HLT that ends the ring-3 trip: resume in ring 0, where l1_ring3_return reloads the stack. */
        f->eip = (uint32_t)(uintptr_t)l1_ring3_return;
        f->cs = L1_SEL_CODE32;
        f->eflags &= ~EFLAGS_AC;
        return 1;
    }
    return 0;
}

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
    return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

uint32_t l1_test_actrap(struct l1_ctx *ctx)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) desc;
    for (int i = 0; i < 4; i++)
        gdt3[i] = l1_gdt[i];
    gdt3[4] = 0x00cffa000000ffffull; /* 0x20: ring-3 code */
    gdt3[5] = 0x00cff2000000ffffull; /* 0x28: ring-3 data */
    tss.ss0 = L1_SEL_DATA;
    tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof ring0_stack);
    tss.iomap = sizeof tss;
    gdt3[6] = seg_desc((uint32_t)(uintptr_t)&tss, sizeof tss - 1, 0x89, 0); /* 0x30: 32-bit TSS */
    desc.limit = sizeof gdt3 - 1;
    desc.base = (uint32_t)(uintptr_t)gdt3;
    __asm__ volatile("lgdt %0" : : "m"(desc) : "memory");
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)0x30));
    __asm__ volatile("mov %%cr0, %%eax; or %0, %%eax; mov %%eax, %%cr0" : : "i"(CR0_AM) : "eax", "memory");

    l1_idt_set_exc_hook(ac_hook);
    l1_ring3_ac_run((const uint8_t *)ac_data + 1);
    l1_idt_set_exc_hook(0);
    l1_say("ring-3 #AC count=%u error=0x%x cs=0x%x", ac_count, ac_error, ac_cs);
    return ctx->status;
}
