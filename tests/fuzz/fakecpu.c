/* The fake CPU (see fakecpu.h): VMX instructions, MSRs, XSETBV, CPUID and physical memory on the host. */
#include "fakecpu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/physmem.h"
#include "nestor/vcpu.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

struct fake_cpu g_fake_cpu;

/* ------------------------------------------------------------------ physical memory */

static uint8_t *arena;

void fake_mem_init(void)
{
    if (!arena)
        arena = aligned_alloc(2u << 20, FAKE_PHYS_SIZE);
    if (!arena)
        abort();
}

uint8_t *fake_mem_base(void) { return arena; }

void *phys_to_virt(paddr_t pa)
{
    if (pa < FAKE_PHYS_BASE || pa >= FAKE_PHYS_BASE + FAKE_PHYS_SIZE) {
        fprintf(stderr, "fakecpu: access to host-physical 0x%llx, outside the machine's memory\n%s",
                (unsigned long long)pa, fake_log_tail());
        abort();
    }
    return arena + (pa - FAKE_PHYS_BASE);
}

paddr_t virt_to_phys(const void *va)
{
    const uint8_t *p = va;
    if (p < arena || p >= arena + FAKE_PHYS_SIZE) {
        fprintf(stderr, "fakecpu: virt_to_phys(%p) outside the arena\n", va);
        abort();
    }
    return FAKE_PHYS_BASE + (paddr_t)(p - arena);
}

/* ------------------------------------------------------------------ VMCS store */

/*
 * A field's value lives at a direct index made of its encoding's width, type and index bits
 * (SDM 24.11.2), so VMREAD/VMWRITE cost one array access: the harness is on every input's
 * hot path. A field is present when its stamp equals its VMCS's epoch; forgetting every
 * field (VMCS reuse, reset) is one increment, not a 96 KiB memset.
 */
#define FIELD_SLOTS 8192u /* width (2 bits), type (2), index (9) */

struct fake_vmcs {
    paddr_t pa; /* 0: free */
    bool launched;
    uint32_t epoch;
    uint32_t stamp[FIELD_SLOTS];
    uint64_t val[FIELD_SLOTS];
};
static struct fake_vmcs vmcs_tab[FAKE_VMCS_MAX];
static struct fake_vmcs *cur_vmcs; /* the VMCS at g_fake_cpu.current, NULL when none */

static void forget_fields(struct fake_vmcs *c)
{
    if (++c->epoch == 0) { /* wrapped: stamps from 2^32 epochs ago would match again */
        memset(c->stamp, 0, sizeof c->stamp);
        c->epoch = 1;
    }
}

void fake_cpu_reset(uint64_t basic, bool vmwrite_any)
{
    for (unsigned i = 0; i < FAKE_VMCS_MAX; i++)
        if (vmcs_tab[i].pa) {
            forget_fields(&vmcs_tab[i]);
            vmcs_tab[i].pa = 0;
            vmcs_tab[i].launched = false;
        }
    cur_vmcs = NULL;
    memset(&g_fake_cpu, 0, sizeof g_fake_cpu);
    g_fake_cpu.revision = basic & 0x7fffffff;
    g_fake_cpu.vmwrite_any = vmwrite_any;
    g_fake_cpu.current = ~(paddr_t)0;
    g_fake_cpu.xcr0 = 1;
}

static struct fake_vmcs *find_vmcs(paddr_t pa, bool create)
{
    struct fake_vmcs *free_slot = NULL;
    for (unsigned i = 0; i < FAKE_VMCS_MAX; i++) {
        if (vmcs_tab[i].pa == pa)
            return &vmcs_tab[i];
        if (!vmcs_tab[i].pa && !free_slot)
            free_slot = &vmcs_tab[i];
    }
    if (!create)
        return NULL;
    if (!free_slot) {
        fprintf(stderr, "fakecpu: more than %d VMCSs in use\n", FAKE_VMCS_MAX);
        abort();
    }
    free_slot->pa = pa;
    free_slot->launched = false;
    forget_fields(free_slot);
    return free_slot;
}

/* SDM 24.11.2: bits 31:15 and 12 are 0; bit 0 (high access) only for 64-bit fields. */
static bool encoding_valid(uint64_t enc)
{
    if (enc >> 15 || (enc & BIT(12)))
        return false;
    unsigned width = (enc >> 13) & 3;
    return !(enc & 1) || width == 1;
}

static uint64_t width_mask(uint64_t enc)
{
    switch ((enc >> 13) & 3) {
    case 0: return 0xffff;
    case 2: return 0xffffffff;
    default: return ~0ull;
    }
}

static uint64_t *slot(struct fake_vmcs *c, uint32_t enc, bool create)
{
    unsigned i = ((enc >> 13) & 3) << 11 | ((enc >> 10) & 3) << 9 | ((enc >> 1) & 0x1ff);
    if (c->stamp[i] != c->epoch) {
        if (!create)
            return NULL;
        c->stamp[i] = c->epoch;
        c->val[i] = 0;
    }
    return &c->val[i];
}

static uint64_t field_get(struct fake_vmcs *c, uint32_t enc)
{
    uint64_t *p = slot(c, enc, false);
    uint64_t v = p ? *p : 0;
    return (enc & 1) ? v >> 32 : v;
}

static void field_set(struct fake_vmcs *c, uint32_t enc, uint64_t value)
{
    uint64_t *p = slot(c, enc, true);
    if (enc & 1)
        *p = (*p & 0xffffffffull) | (value << 32);
    else
        *p = value & width_mask(enc);
}

bool fake_vmcs_get(paddr_t pa, uint32_t field, uint64_t *value)
{
    struct fake_vmcs *c = find_vmcs(pa, false);
    if (!c || !slot(c, field, false))
        return false;
    *value = field_get(c, field);
    return true;
}

void fake_vmcs_set(paddr_t pa, uint32_t field, uint64_t value) { field_set(find_vmcs(pa, true), field, value); }

bool fake_vmcs_launched(paddr_t pa)
{
    struct fake_vmcs *c = find_vmcs(pa, false);
    return c && c->launched;
}

void fake_vmcs_set_launched(paddr_t pa, bool launched) { find_vmcs(pa, true)->launched = launched; }

static struct fake_vmcs *current(void) { return cur_vmcs; }

static int fail_valid(unsigned err)
{
    struct fake_vmcs *c = current();
    if (!c)
        return VMX_FAIL_INVALID;
    field_set(c, VMCS_VM_INSTRUCTION_ERROR, err);
    return VMX_FAIL_VALID;
}

/* ------------------------------------------------------------------ VMX instructions (SDM 31) */

static bool bad_region(paddr_t pa)
{
    return (pa & 0xfff) || pa < FAKE_PHYS_BASE || pa >= FAKE_PHYS_BASE + FAKE_PHYS_SIZE;
}

int vmxon(paddr_t region)
{
    (void)region;
    return fail_valid(VMERR_VMXON_IN_ROOT); /* L0 is in VMX operation from boot on */
}

int vmclear(paddr_t pa)
{
    g_fake_cpu.rec.vmclear++;
    if (bad_region(pa))
        return fail_valid(VMERR_VMCLEAR_INVALID_ADDR);
    struct fake_vmcs *c = find_vmcs(pa, true);
    c->launched = false;
    if (g_fake_cpu.current == pa) {
        g_fake_cpu.current = ~(paddr_t)0;
        cur_vmcs = NULL;
    }
    return VMX_OK;
}

int vmptrld(paddr_t pa)
{
    g_fake_cpu.rec.vmptrld++;
    if (bad_region(pa))
        return fail_valid(VMERR_VMPTRLD_INVALID_ADDR);
    uint32_t rev = *(uint32_t *)phys_to_virt(pa);
    if ((rev & 0x7fffffff) != g_fake_cpu.revision)
        return fail_valid(VMERR_VMPTRLD_BAD_REVISION);
    cur_vmcs = find_vmcs(pa, true);
    g_fake_cpu.current = pa;
    return VMX_OK;
}

int vmwrite(uint64_t field, uint64_t value)
{
    struct fake_vmcs *c = current();
    if (!c) {
        g_fake_cpu.rec.vmwrite_fail++;
        return VMX_FAIL_INVALID;
    }
    if (!encoding_valid(field)) {
        g_fake_cpu.rec.vmwrite_fail++;
        return fail_valid(VMERR_UNSUPPORTED_FIELD);
    }
    if (((field >> 10) & 3) == 1 && !g_fake_cpu.vmwrite_any) {
        g_fake_cpu.rec.vmwrite_fail++;
        return fail_valid(VMERR_VMWRITE_READ_ONLY);
    }
    field_set(c, (uint32_t)field, value);
    return VMX_OK;
}

int vmread_checked(uint64_t field, uint64_t *out)
{
    struct fake_vmcs *c = current();
    if (!c)
        return VMX_FAIL_INVALID;
    if (!encoding_valid(field))
        return fail_valid(VMERR_UNSUPPORTED_FIELD);
    *out = field_get(c, (uint32_t)field);
    return VMX_OK;
}

uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    if (vmread_checked(field, &v) != VMX_OK) {
        /* Nestor's unchecked VMREAD must never fail: its value would be garbage on the real CPU. */
        fprintf(stderr, "fakecpu: VMREAD of field 0x%llx failed (current VMCS 0x%llx)\n%s",
                (unsigned long long)field, (unsigned long long)g_fake_cpu.current, fake_log_tail());
        abort();
    }
    return v;
}

/* INVEPT/INVVPID: every type the capability MSR offers works; anything else is VMfailValid(28). */
int invept(uint64_t type, uint64_t eptp)
{
    (void)eptp;
    if (type == INVEPT_SINGLE_CONTEXT) {
        g_fake_cpu.rec.invept_single++;
        return VMX_OK;
    }
    if (type == INVEPT_ALL_CONTEXT) {
        g_fake_cpu.rec.invept_all++;
        return VMX_OK;
    }
    g_fake_cpu.rec.invept_fail++;
    return fail_valid(VMERR_INVALID_INVEPT_INVVPID);
}

int invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
    (void)linear;
    if (type > INVVPID_ALL_CONTEXT || (type != INVVPID_ALL_CONTEXT && vpid == 0)) {
        g_fake_cpu.rec.invvpid_fail++;
        return fail_valid(VMERR_INVALID_INVEPT_INVVPID);
    }
    g_fake_cpu.rec.invvpid++;
    return VMX_OK;
}

/* ------------------------------------------------------------------ VM entry */

static const char *entry_why = "";
const char *fake_vmentry_why(void) { return entry_why; }

static bool ctl_ok(struct vmx_ctl_cap cap, uint64_t v)
{
    return (v & cap.allowed0) == cap.allowed0 && !(v & ~(uint64_t)cap.allowed1);
}

int fake_vmentry(bool launch, const struct vmx_caps *caps, bool force_fail)
{
    struct fake_vmcs *c = current();
    if (!c) {
        entry_why = "no current VMCS";
        return VMX_FAIL_INVALID;
    }
    if (launch && c->launched) {
        entry_why = "VMLAUNCH of a launched VMCS";
        return fail_valid(VMERR_VMLAUNCH_NONCLEAR);
    }
    if (!launch && !c->launched) {
        entry_why = "VMRESUME of a clear VMCS";
        return fail_valid(VMERR_VMRESUME_NONLAUNCHED);
    }
    uint64_t proc = field_get(c, VMCS_PROC_CONTROLS);
    if (!ctl_ok(caps->pin, field_get(c, VMCS_PIN_CONTROLS)) || !ctl_ok(caps->proc, proc) ||
        ((proc & PROC_SECONDARY_CONTROLS) && !ctl_ok(caps->proc2, field_get(c, VMCS_PROC_CONTROLS2))) ||
        !ctl_ok(caps->exit, field_get(c, VMCS_EXIT_CONTROLS)) || !ctl_ok(caps->entry, field_get(c, VMCS_ENTRY_CONTROLS))) {
        entry_why = "26.2.1 controls outside the capability MSRs";
        return fail_valid(VMERR_ENTRY_INVALID_CONTROLS);
    }
    for (unsigned i = 0; i < fake_l0_host_state_count; i++)
        if (field_get(c, fake_l0_host_state[i].field) != fake_l0_host_state[i].value) {
            entry_why = "host state not L0's";
            return fail_valid(VMERR_ENTRY_INVALID_HOST_STATE);
        }
    if (force_fail) {
        entry_why = "refused by the fuzzer's choice (a check Nestor lacks)";
        return fail_valid(VMERR_ENTRY_INVALID_CONTROLS);
    }
    c->launched = true;
    entry_why = "";
    return VMX_OK;
}

/* ------------------------------------------------------------------ L0's host state, MSRs, XSETBV, CPUID */

const struct fake_host_field fake_l0_host_state[] = {
    {VMCS_HOST_CR0, 0x80050033}, {VMCS_HOST_CR3, 0x1234000},     {VMCS_HOST_CR4, 0x3626f0},
    {VMCS_HOST_CS_SEL, 0x08},    {VMCS_HOST_SS_SEL, 0x10},       {VMCS_HOST_DS_SEL, 0x10},
    {VMCS_HOST_ES_SEL, 0x10},    {VMCS_HOST_FS_SEL, 0x10},       {VMCS_HOST_GS_SEL, 0x10},
    {VMCS_HOST_TR_SEL, 0x18},    {VMCS_HOST_FS_BASE, 0},         {VMCS_HOST_GS_BASE, 0xffffffff80400000ull},
    {VMCS_HOST_TR_BASE, 0xffffffff80401000ull}, {VMCS_HOST_GDTR_BASE, 0xffffffff80402000ull},
    {VMCS_HOST_IDTR_BASE, 0xffffffff80403000ull}, {VMCS_HOST_SYSENTER_CS, 0}, {VMCS_HOST_SYSENTER_ESP, 0},
    {VMCS_HOST_SYSENTER_EIP, 0}, {VMCS_HOST_EFER, 0xd01},        {VMCS_HOST_PAT, 0x0007040600070406ull},
    {VMCS_HOST_RIP, 0xffffffff80100000ull},
};
const unsigned fake_l0_host_state_count = sizeof fake_l0_host_state / sizeof fake_l0_host_state[0];

/* core/vcpu_host_state.c reads CRs, GDTR/IDTR and per-CPU addresses of the real machine: here L0's are fixed. */
bool vmcs_write_host_state(void)
{
    bool ok = true;
    for (unsigned i = 0; i < fake_l0_host_state_count; i++)
        ok &= vmwrite(fake_l0_host_state[i].field, fake_l0_host_state[i].value) == VMX_OK;
    return ok;
}

/* MSRs the fake CPU implements; any other access raises #GP (the _safe variants return -1). */
static bool msr_known(uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_TSC: case MSR_IA32_SYSENTER_CS: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
    case MSR_IA32_DEBUGCTL: case MSR_IA32_PAT: case MSR_IA32_EFER: case MSR_IA32_STAR: case MSR_IA32_LSTAR:
    case MSR_IA32_CSTAR: case MSR_IA32_FMASK: case MSR_IA32_FS_BASE: case MSR_IA32_GS_BASE:
    case MSR_IA32_KERNEL_GS_BASE: case MSR_IA32_TSC_AUX:
        return true;
    default:
        return false;
    }
}

static uint64_t msr_val[8];

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    g_fake_cpu.rec.rdmsr++;
    if (!msr_known(msr))
        return -1;
    *value = msr_val[msr & 7];
    return 0;
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
    g_fake_cpu.rec.wrmsr++;
    g_fake_cpu.rec.last_wrmsr = msr;
    if (!msr_known(msr))
        return -1;
    if ((msr >= MSR_IA32_FS_BASE && msr <= MSR_IA32_KERNEL_GS_BASE) && (uint64_t)((int64_t)(value << 16) >> 16) != value)
        return -1; /* non-canonical base: #GP */
    msr_val[msr & 7] = value;
    return 0;
}

uint64_t rdmsr(uint32_t msr)
{
    uint64_t v = 0;
    if (rdmsr_safe(msr, &v)) {
        fprintf(stderr, "fakecpu: RDMSR 0x%x would #GP in Nestor\n", msr);
        abort();
    }
    return v;
}

void wrmsr(uint32_t msr, uint64_t v)
{
    if (wrmsr_safe(msr, v)) {
        fprintf(stderr, "fakecpu: WRMSR 0x%x = 0x%llx would #GP in Nestor\n", msr, (unsigned long long)v);
        abort();
    }
}

int xsetbv_safe(uint32_t xcr, uint64_t value)
{
    g_fake_cpu.rec.xsetbv++;
    if (xcr != 0 || !(value & 1) || (value & ~7ull) || ((value & 4) && !(value & 2)))
        return -1;
    g_fake_cpu.xcr0 = value;
    return 0;
}

void xsetbv(uint32_t index, uint64_t v)
{
    if (xsetbv_safe(index, v)) {
        fprintf(stderr, "fakecpu: XSETBV %u = 0x%llx would #GP in Nestor\n", index, (unsigned long long)v);
        abort();
    }
}

uint64_t xgetbv(uint32_t index) { return index == 0 ? g_fake_cpu.xcr0 : 0; }

/* A Skylake-like CPU without RTM. */
struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    (void)subleaf;
    switch (leaf) {
    case 0: return (struct cpuid_regs){0x16, 0x756e6547, 0x6c65746e, 0x49656e69};
    case 7: return (struct cpuid_regs){0, 0x029c67af, 0, 0};
    default: return (struct cpuid_regs){0, 0, 0, 0};
    }
}

/* ------------------------------------------------------------------ what Nestor's other layers provide */

#define LOG_RING 4096
static char log_ring[LOG_RING];
static size_t log_pos;

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        log_ring[log_pos] = s[i];
        log_pos = (log_pos + 1) % LOG_RING;
    }
}
void console_lock(void) {}
void console_unlock(void) {}
void console_break_line(void) {}

const char *fake_log_tail(void)
{
    static char out[LOG_RING + 64];
    size_t n = 0;
    n += (size_t)snprintf(out, sizeof out, "--- Nestor's last log lines:\n");
    for (size_t i = 0; i < LOG_RING; i++) {
        char ch = log_ring[(log_pos + i) % LOG_RING];
        if (ch)
            out[n++] = ch;
    }
    out[n] = 0;
    return out;
}

void vcpu_com1_flush(void) {}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "Nestor panic: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", fake_log_tail());
    abort();
}

void print_stack_trace(uint64_t rbp) { (void)rbp; }
