/*
 * l1test: "smp_hostile", an L1 that starts another CPU behind its
 * hypervisor's back.
 *
 * The BSP finds the CPUs (ACPI MADT through the RSDP, else the MP table),
 * copies a trampoline below 1 MiB and sends INIT-SIPI-SIPI through the xAPIC
 * ICR to one application processor (the first enabled one the table lists;
 * if the table lists none, to "all excluding self", so a CPU the hypervisor
 * hid is targeted anyway). The trampoline is self-contained in low memory
 * (identity mapped on a plain PC and under Nestor alike): a CPU that runs it
 * natively, outside VMX, really executes it. It records CPUID.1:ECX and leaf
 * 0x40000000 in a mailbox in its own page, then, in protected mode with
 * paging off, fills 2 MiB-4 MiB with a pattern: on a plain PC that is the
 * RAM GRUB loads a kernel into, and it is where Nestor's image sits in host
 * memory. Under a hypervisor that owns every CPU the writes land in L1's
 * own RAM, where the BSP sees them.
 *
 * Lines (all "l1test: smp ..."):
 *   cpus=<n>                         enabled CPUs in the table (0: none found)
 *   table=<madt|mp|none> bsp_apic=0x.. target=<0x..|all-but-self>
 *   bsp hypervisor=<vendor|none>
 *   [roundN ]ap_started=1 hypervisor=<vendor|none>   or   [roundN ]ap_started=0
 *   [roundN ]ap done=<0|1> pattern_seen=<0|1>        (after ap_started=1)
 *   [roundN ]ap stage=<n>                            (after ap_started=0)
 * smp_rounds=2 on the command line runs a second INIT-SIPI-SIPI round to the
 * same CPU after the first one (as CPU hot-replug and kexec do).
 * tramp=0x.. moves the trampoline page (default 0x20000, below 0xa0000).
 * target=0x.. sends to that APIC ID whatever the table says (a CPU the
 * hypervisor hid from the table is still there on the hardware).
 */
#include "l1test.h"
#include "idt.h"
#include "io.h"

#define TRAMP_DEFAULT   0x20000u
#define MAILBOX_OFF     0xf00u      /* the AP's mailbox, in the trampoline page */
#define SCRIBBLE_START  0x200000u
#define SCRIBBLE_END    0x400000u
#define PATTERN_BASE    0x5a5a0000u /* | round */

/* Mailbox words (u32), written by the AP. */
enum { MB_STAGE, MB_ROUND, MB_CPUID1_ECX, MB_HV_EAX, MB_HV_EBX, MB_HV_ECX, MB_HV_EDX, MB_WORDS };
/* MB_STAGE: 1 real mode, 2 protected mode, 3 CPUID recorded and writing, 4 done. */

/* TSC ticks (Bochs with clock sync=none: about one per instruction). */
#define INIT_DELAY      1000000ull
#define SIPI_DELAY      100000ull
#define AP_TIMEOUT      400000000ull
#define ICR_TIMEOUT     10000000ull

#define MSR_APIC_BASE   0x1bu
#define APIC_ID         0x20u
#define APIC_ICR_LO     0x300u
#define APIC_ICR_HI     0x310u
#define ICR_BUSY        (1u << 12)
#define ICR_INIT        0x00004500u /* INIT, level assert, physical destination */
#define ICR_SIPI        0x00004600u /* start-up; | vector */
#define ICR_ALL_BUT_SELF 0x000c0000u

/*
 * The trampoline: entered in real mode at CS:IP = (page >> 4):0. Every
 * absolute address in it is TRAMP_DEFAULT-based at assembly time; the BSP
 * relocates the two that depend on the page (the far jump and the GDT base)
 * when it uses another page; the protected-mode part addresses its page
 * through EBP. No stack, no call, nothing outside its own page but the
 * pattern it writes.
 */
__asm__(
    ".pushsection .text.smp_tramp, \"ax\"\n"
    ".globl l1_smp_tramp_start, l1_smp_tramp_end, l1_smp_tramp_ljmp, l1_smp_tramp_gdtr\n"
    ".code16\n"
    "l1_smp_tramp_start:\n"
    "    cli\n"
    "    cld\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    movl $1, 0xf00\n"
    "    xor %ebp, %ebp\n"                  /* EBP = this page's address: no stack needed */
    "    mov %cs, %bp\n"
    "    shl $4, %ebp\n"
    "    lgdtl l1_smp_tramp_gdtr - l1_smp_tramp_start\n"
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    .byte 0x66, 0xea\n"                 /* ljmpl $0x08, $abs32 */
    "l1_smp_tramp_ljmp:\n"
    "    .long 0x20000 + (1f - l1_smp_tramp_start)\n"
    "    .word 0x08\n"
    ".code32\n"
    "1:  mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    movl $2, 0xf00(%ebp)\n"
    "    mov $1, %eax\n"
    "    cpuid\n"
    "    mov %ecx, 0xf08(%ebp)\n"
    "    mov $0x40000000, %eax\n"
    "    xor %ecx, %ecx\n"
    "    cpuid\n"
    "    mov %eax, 0xf0c(%ebp)\n"
    "    mov %ebx, 0xf10(%ebp)\n"
    "    mov %ecx, 0xf14(%ebp)\n"
    "    mov %edx, 0xf18(%ebp)\n"
    "    movl $3, 0xf00(%ebp)\n"
    "    mov 0xf04(%ebp), %eax\n"
    "    or $0x5a5a0000, %eax\n"
    "    mov $0x200000, %edi\n"
    "    mov $0x80000, %ecx\n"               /* 2 MiB of dwords */
    "    rep stosl\n"
    "    movl $4, 0xf00(%ebp)\n"
    "3:  cli\n"
    "    hlt\n"
    "    jmp 3b\n"
    "    .balign 8\n"
    "4:  .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff\n"
    "    .word 0\n"
    "l1_smp_tramp_gdtr:\n"
    "    .word 23\n"
    "    .long 0x20000 + (4b - l1_smp_tramp_start)\n"
    "l1_smp_tramp_end:\n"
    ".popsection\n");

extern const char l1_smp_tramp_start[], l1_smp_tramp_end[], l1_smp_tramp_ljmp[], l1_smp_tramp_gdtr[];

struct cpu_table {
    const char *name;       /* "madt", "mp" or "none" */
    uint32_t cpus;          /* enabled CPUs */
    int ap_apic;            /* first enabled CPU that is not the BSP, -1 if none */
};

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void delay(uint64_t ticks)
{
    uint64_t end = rdtsc() + ticks;
    while (rdtsc() < end)
        __asm__ volatile("pause");
}

static uint8_t sum8(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

static int sig_is(const void *p, const char *sig, uint32_t n)
{
    const char *a = p;
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != sig[i])
            return 0;
    return 1;
}

/* 16-byte aligned search for a signature with a checksummed structure of len bytes (or len_at's byte * 16). */
static const uint8_t *scan(uint32_t start, uint32_t end, const char *sig, uint32_t sig_len, uint32_t sum_len,
                           int len_in_paragraphs_at)
{
    for (uint32_t a = start; a + sum_len <= end; a += 16) {
        const uint8_t *p = (const uint8_t *)(uintptr_t)a;
        if (!sig_is(p, sig, sig_len))
            continue;
        uint32_t n = len_in_paragraphs_at >= 0 ? (uint32_t)p[len_in_paragraphs_at] * 16u : sum_len;
        if (n && sum8(p, n) == 0)
            return p;
    }
    return 0;
}

/* A physical address as a pointer; hidden from the compiler, which otherwise
 * warns about dereferencing a small constant address. */
static const volatile uint8_t *phys_ptr(uint32_t a)
{
    __asm__("" : "+r"(a));
    return (const volatile uint8_t *)(uintptr_t)a;
}

static const uint8_t *find_in_bios_areas(const char *sig, uint32_t sig_len, uint32_t sum_len, int len_at)
{
    uint32_t ebda = (uint32_t)(*(const volatile uint16_t *)phys_ptr(0x40e)) << 4;
    const uint8_t *p = 0;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        p = scan(ebda, ebda + 1024, sig, sig_len, sum_len, len_at);
    if (!p)
        p = scan(0x9fc00, 0xa0000, sig, sig_len, sum_len, len_at);
    if (!p)
        p = scan(0xe0000, 0x100000, sig, sig_len, sum_len, len_at);
    return p;
}

static uint32_t rd32(const uint8_t *p) { return *(const uint32_t *)p; }

/* ACPI 5.2.12: MADT entries of type 0 are processor local APICs (flags bit 0: enabled). */
static int parse_madt(uint32_t bsp, struct cpu_table *t)
{
    const uint8_t *rsdp = find_in_bios_areas("RSD PTR ", 8, 20, -1);
    if (!rsdp)
        return 0;
    const uint8_t *rsdt = (const uint8_t *)(uintptr_t)rd32(rsdp + 16);
    if (!rsdt || !sig_is(rsdt, "RSDT", 4))
        return 0;
    uint32_t n = (rd32(rsdt + 4) - 36) / 4;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *madt = (const uint8_t *)(uintptr_t)rd32(rsdt + 36 + 4 * i);
        if (!madt || !sig_is(madt, "APIC", 4))
            continue;
        uint32_t len = rd32(madt + 4);
        t->name = "madt";
        for (uint32_t off = 44; off + 2 <= len;) {
            uint8_t type = madt[off], elen = madt[off + 1];
            if (elen < 2)
                break;
            if (type == 0 && elen >= 8 && (rd32(madt + off + 4) & 1)) {
                t->cpus++;
                if (madt[off + 3] != bsp && t->ap_apic < 0)
                    t->ap_apic = madt[off + 3];
            }
            off += elen;
        }
        return 1;
    }
    return 0;
}

/* MP spec 1.4, 4.1 and 4.3.1: floating pointer "_MP_", configuration table "PCMP", processor entries (type 0, 20 bytes). */
static int parse_mp(uint32_t bsp, struct cpu_table *t)
{
    const uint8_t *fp = find_in_bios_areas("_MP_", 4, 16, 8);
    if (!fp || !rd32(fp + 4))
        return 0;
    const uint8_t *ct = (const uint8_t *)(uintptr_t)rd32(fp + 4);
    if (!sig_is(ct, "PCMP", 4))
        return 0;
    uint32_t count = *(const uint16_t *)(ct + 34), off = 44;
    t->name = "mp";
    for (uint32_t i = 0; i < count; i++) {
        uint8_t type = ct[off];
        if (type == 0) {
            if (ct[off + 3] & 1) {
                t->cpus++;
                if (ct[off + 1] != bsp && t->ap_apic < 0)
                    t->ap_apic = ct[off + 1];
            }
            off += 20;
        } else if (type <= 4) {
            off += 8;
        } else {
            break;
        }
    }
    return 1;
}

static volatile uint32_t *apic_reg(uint32_t base, uint32_t reg)
{
    return (volatile uint32_t *)(uintptr_t)(base + reg);
}

static int icr_send(uint32_t apic, uint32_t hi, uint32_t lo)
{
    *apic_reg(apic, APIC_ICR_HI) = hi;
    *apic_reg(apic, APIC_ICR_LO) = lo;
    uint64_t end = rdtsc() + ICR_TIMEOUT;
    while (*apic_reg(apic, APIC_ICR_LO) & ICR_BUSY)
        if (rdtsc() > end)
            return -1;
    return 0;
}

/* SDM vol. 3A 9.4.4.1 (MP initialization example): INIT, 10 ms, SIPI, 200 us, SIPI. */
static void init_sipi_sipi(uint32_t apic, int target, uint32_t vector)
{
    uint32_t hi = target >= 0 ? (uint32_t)target << 24 : 0;
    uint32_t shorthand = target >= 0 ? 0 : ICR_ALL_BUT_SELF;
    if (icr_send(apic, hi, ICR_INIT | shorthand))
        l1_say("smp icr stuck after INIT");
    delay(INIT_DELAY);
    for (int i = 0; i < 2; i++) {
        if (icr_send(apic, hi, ICR_SIPI | shorthand | vector))
            l1_say("smp icr stuck after SIPI");
        delay(SIPI_DELAY);
    }
}

static void vendor(char out[13], uint32_t ecx1, uint32_t b, uint32_t c, uint32_t d)
{
    if (!(ecx1 & (1u << 31))) {
        const char *none = "none";
        for (int i = 0; i < 5; i++)
            out[i] = none[i];
        return;
    }
    uint32_t r[3] = {b, c, d};
    for (int i = 0; i < 12; i++) {
        char ch = (char)(r[i / 4] >> (8 * (i % 4)));
        out[i] = (ch > 0x20 && ch < 0x7f) ? ch : '.';
    }
    out[12] = '\0';
}

static void run_round(uint32_t apic, int target, uint32_t page, uint32_t round, const char *prefix)
{
    volatile uint32_t *mb = (volatile uint32_t *)(uintptr_t)(page + MAILBOX_OFF);
    for (int i = 0; i < MB_WORDS; i++)
        mb[i] = 0;
    mb[MB_ROUND] = round;
    uint32_t pattern = PATTERN_BASE | round;
    volatile uint32_t *first = (volatile uint32_t *)(uintptr_t)SCRIBBLE_START;
    volatile uint32_t *last = (volatile uint32_t *)(uintptr_t)(SCRIBBLE_END - 4);
    *first = 0;
    *last = 0;

    init_sipi_sipi(apic, target, page >> 12);
    uint64_t end = rdtsc() + AP_TIMEOUT;
    while (mb[MB_STAGE] < 4 && rdtsc() < end)
        __asm__ volatile("pause" ::: "memory");

    uint32_t stage = mb[MB_STAGE];
    if (stage < 3) {
        l1_say("smp %sap_started=0", prefix);
        l1_say("smp %sap stage=%u", prefix, stage);
        return;
    }
    char v[13];
    vendor(v, mb[MB_CPUID1_ECX], mb[MB_HV_EBX], mb[MB_HV_ECX], mb[MB_HV_EDX]);
    l1_say("smp %sap_started=1 hypervisor=%s", prefix, v);
    l1_say("smp %sap done=%u pattern_seen=%u", prefix, stage == 4 ? 1u : 0u,
           (*first == pattern && *last == pattern) ? 1u : 0u);
}

uint32_t l1_test_smp_hostile(struct l1_ctx *ctx)
{
    char value[32];
    uint64_t v;
    uint32_t page = TRAMP_DEFAULT, rounds = 1;

    if (l1_cmdline_get(ctx->cmdline, "tramp", value, sizeof(value)) == 0 && l1_parse_hex(value, &v) == 0 &&
        v >= 0x1000 && v < 0xa0000 && !(v & 0xfff))
        page = (uint32_t)v;
    if (l1_cmdline_get(ctx->cmdline, "smp_rounds", value, sizeof(value)) == 0 && value[0] == '2')
        rounds = 2;

    uint64_t base = 0xfee00000u;
    if (l1_safe_rdmsr(MSR_APIC_BASE, &base) != 0)
        base = 0xfee00000u;
    uint32_t apic = (uint32_t)base & 0xfffff000u;
    uint32_t bsp = *apic_reg(apic, APIC_ID) >> 24;

    struct cpu_table t = {"none", 0, -1};
    if (!parse_madt(bsp, &t)) {
        t.cpus = 0;
        t.ap_apic = -1;
        if (!parse_mp(bsp, &t)) {
            t.name = "none";
            t.cpus = 0;
            t.ap_apic = -1;
        }
    }
    l1_say("smp cpus=%u", t.cpus);
    if (l1_cmdline_get(ctx->cmdline, "target", value, sizeof(value)) == 0 && l1_parse_hex(value, &v) == 0 && v < 0xff)
        t.ap_apic = (int)v;
    if (t.ap_apic >= 0)
        l1_say("smp table=%s bsp_apic=0x%x target=0x%x", t.name, bsp, (uint32_t)t.ap_apic);
    else
        l1_say("smp table=%s bsp_apic=0x%x target=all-but-self", t.name, bsp);

    uint32_t r[4];
    char vb[13];
    l1_cpuid(1, 0, r);
    uint32_t ecx1 = r[2];
    l1_cpuid(0x40000000u, 0, r);
    vendor(vb, ecx1, r[1], r[2], r[3]);
    l1_say("smp bsp hypervisor=%s", vb);

    /* Copy the trampoline and point its two absolute addresses at this page. */
    uint32_t len = (uint32_t)(l1_smp_tramp_end - l1_smp_tramp_start);
    volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)page;
    for (uint32_t i = 0; i < len; i++)
        dst[i] = (uint8_t)l1_smp_tramp_start[i];
    uint32_t ljmp = (uint32_t)(l1_smp_tramp_ljmp - l1_smp_tramp_start) + 0;
    uint32_t gdtr = (uint32_t)(l1_smp_tramp_gdtr - l1_smp_tramp_start) + 2;
    *(volatile uint32_t *)(dst + ljmp) += page - TRAMP_DEFAULT;
    *(volatile uint32_t *)(dst + gdtr) += page - TRAMP_DEFAULT;

    run_round(apic, t.ap_apic, page, 1, "");
    if (rounds == 2)
        run_round(apic, t.ap_apic, page, 2, "round2 ");
    return ctx->status;
}
