/*
 * ghv: the basic test — VMXON, one VMCS, L2's scripted workload.
 *
 * Every VM exit is printed (exits.c) before it is handled, then checked
 * against the script's expected exit sequence. After L2's final VMCALL the
 * values L2 recorded are printed one per line and compared with what the
 * architecture says L2 must have seen.
 */
#include "check.h"
#include "l2_shared.h"
#include "vmx.h"

enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4 };
enum { CONTINUE, DONE, ABORT };

#define MAX_EXITS 64

static u8 vmcs_basic[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u64 regs[16];

/* What ghv itself observed while emulating L2's instructions. */
static struct {
    u64 out80, wrmsr, dr7;
} seen;

/* The exit sequence the script must produce (l2_workload.S). qual of the
 * MOV CR/DR exits encodes the GPR the script uses; lengths are the
 * encodings' sizes. intr: valid | type << 8 | vector (| bit 11 error code). */
struct expect {
    u32 reason;
    u64 qual;
    u32 len, intr, err;
};
static const struct expect script[] = {
    {10, 0, 2, 0, 0},                       /* CPUID */
    {30, (0x80 << 16) | 0x40, 2, 0, 0},     /* OUT imm8 0x80, 1 byte */
    {30, (0x61 << 16) | 0x48, 2, 0, 0},     /* IN imm8 0x61, 1 byte */
    {12, 0, 1, 0, 0},                       /* HLT */
    {28, 0x300, 3, 0, 0},                   /* MOV RBX -> CR0 */
    {28, 0x104, 3, 0, 0},                   /* MOV RCX -> CR4 */
    {28, 0x203, 3, 0, 0},                   /* MOV RDX -> CR3 (not a target) */
    {31, 0, 2, 0, 0},                       /* RDMSR 0x174 */
    {32, 0, 2, 0, 0},                       /* WRMSR 0xc0000102 */
    {16, 0, 2, 0, 0},                       /* RDTSC */
    {14, L2_INVLPG_ADDR, 3, 0, 0},          /* INVLPG */
    {29, 0x607, 3, 0, 0},                   /* MOV RSI -> DR7 */
    {0, 0, 0, 0x80000306, 0},               /* UD2: #UD, hardware exception */
    {0, 0, 1, 0x80000603, 0},               /* INT3: #BP, software exception */
    {0, L2_RO_ADDR, 0, 0x80000b0e, 3},      /* write to RO page: #PF, W|P */
    {18, 0, 3, 0, 0},                       /* VMCALL inject */
    {18, 0, 3, 0, 0},                       /* VMCALL done */
};
#define SCRIPT_LEN (sizeof script / sizeof script[0])

/* Without CR3-target values L2's load of its own CR3 (just before script[6]) exits as well,
 * with the same qualification as script[6]: one exit more, the rest shifted by one. */
static u32 script_len(void) { return SCRIPT_LEN + (ghv_ctls.cr3_targets ? 0 : 1); }

static const struct expect *script_at(u32 n)
{
    if (!ghv_ctls.cr3_targets && n > 7)
        n--;
    return &script[n - 1];
}

static u64 gpr(unsigned n) { return n == RSP ? vmread(GUEST_RSP) : regs[n]; }

static void skip(const struct exit_info *e, u32 len) { vmwrite(GUEST_RIP, e->rip + len); }

static void inject(u32 info, u32 errcode, u32 len)
{
    vmwrite(ENTRY_INTR_INFO, info);
    vmwrite(ENTRY_EXC_ERRCODE, errcode);
    vmwrite(ENTRY_INSN_LEN, len);
}

static int handle_cr(const struct exit_info *e)
{
    unsigned cr = e->qual & 0xf, type = (e->qual >> 4) & 3, reg = (e->qual >> 8) & 0xf;
    if (type != 0)                  /* only MOV to CR is part of the script */
        return ABORT;
    u64 v = gpr(reg);
    switch (cr) {
    case 0:
        vmwrite(GUEST_CR0, (v | ghv_caps.cr0_fixed0) & ghv_caps.cr0_fixed1);
        vmwrite(CR0_READ_SHADOW, v);
        break;
    case 3:
        vmwrite(GUEST_CR3, v);
        break;
    case 4:
        vmwrite(GUEST_CR4, (v | ghv_caps.cr4_fixed0) & ghv_caps.cr4_fixed1);
        vmwrite(CR4_READ_SHADOW, v);
        break;
    default:
        return ABORT;
    }
    skip(e, e->len);
    return CONTINUE;
}

static int handle_exception(const struct exit_info *e)
{
    u32 vec = e->intr & 0xff, type = (e->intr >> 8) & 7;
    if (vec == 6 && type == 3) {            /* UD2: the script's only #UD, 2 bytes */
        skip(e, 2);
        return CONTINUE;
    }
    if (vec == 3 && type == 6) {            /* INT3: give it back to L2 */
        inject(0x80000000u | (6u << 8) | 3, 0, e->len);
        return CONTINUE;
    }
    if (vec == 14 && type == 3) {           /* write fault: L2 handles it with our CR2 */
        write_cr2(e->qual);
        inject(0x80000000u | (1u << 11) | (3u << 8) | 14, e->err, 0);
        return CONTINUE;
    }
    return ABORT;
}

static int handle(const struct exit_info *e)
{
    switch (e->basic) {
    case 0:
        return handle_exception(e);
    case 10:                                /* CPUID: "L2L2L2L2L2L2" */
        regs[RAX] = 0x4c32;
        regs[RBX] = regs[RCX] = regs[RDX] = 0x324c324c;
        break;
    case 12:                                /* HLT: just skip it */
    case 14:                                /* INVLPG: nothing to do without EPT/VPID */
        break;
    case 16:                                /* RDTSC */
        regs[RAX] = 0x22222222;
        regs[RDX] = 0x11111111;
        break;
    case 18:                                /* VMCALL */
        if (regs[RAX] == L2_CALL_DONE)
            return DONE;
        if (regs[RAX] != L2_CALL_INJECT)
            return ABORT;
        skip(e, e->len);
        /* An injected external interrupt requires RFLAGS.IF=1 (SDM 27.3.1.4). */
        vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) | 0x200);
        inject(0x80000000u | L2_INT_VECTOR, 0, 0);
        return CONTINUE;
    case 28:
        return handle_cr(e);
    case 29:                                /* MOV DR */
        if ((e->qual & 7) != 7 || (e->qual & 0x10))
            return ABORT;
        seen.dr7 = gpr((e->qual >> 8) & 0xf);
        vmwrite(GUEST_DR7, seen.dr7);
        break;
    case 30: {                              /* I/O */
        u32 port = (u32)(e->qual >> 16), in = (e->qual >> 3) & 1, size = (e->qual & 7) + 1;
        if ((e->qual & 0x10) || size != 1)
            return ABORT;
        if (in && port == 0x61)
            regs[RAX] = (regs[RAX] & ~0xffull) | 0x3c;
        else if (!in && port == 0x80)
            seen.out80 = regs[RAX] & 0xff;
        else
            return ABORT;
        break;
    }
    case 31:                                /* RDMSR */
        if ((u32)regs[RCX] != 0x174)
            return ABORT;
        regs[RAX] = 0x9abcdef0;
        regs[RDX] = 0x12345678;
        break;
    case 32:                                /* WRMSR: swallowed, value remembered */
        if ((u32)regs[RCX] != 0xc0000102)
            return ABORT;
        seen.wrmsr = ((u64)(u32)regs[RDX] << 32) | (u32)regs[RAX];
        break;
    default:
        return ABORT;
    }
    skip(e, e->len);
    return CONTINUE;
}

static void check_exit(struct faillist *f, u32 n, const struct exit_info *e)
{
    if (n > script_len())
        return;                     /* counted by the exits= check */
    const struct expect *x = script_at(n);
    bool ok = e->reason == x->reason && e->qual == x->qual && e->len == x->len && e->intr == x->intr &&
              e->err == x->err && e->info == 0 && e->idtv == 0;
    if (x->reason == 0 && x->intr == 0x80000603)
        ok &= e->rip == phys(l2_int3_insn);
    if (x->reason == 0 && x->intr == 0x80000b0e)
        ok &= e->rip == phys(l2_write_fault_insn);
    if (!ok) {
        char name[8] = "exit";      /* "exit<n>" */
        int i = 4;
        if (n >= 10)
            name[i++] = (char)('0' + n / 10);
        name[i++] = (char)('0' + n % 10);
        name[i] = 0;
        fail_add(f, name);
    }
}

static void show(struct faillist *f, const char *what, u64 got, u64 want)
{
    gprintf("ghv: l2 %s=0x%lx\n", what, got);
    check_u64(f, what, got, want);
}

bool basic_run(void)
{
    struct faillist f = {0};
    if (!vmcs_compute_controls())
        return fail_report((fail_add(&f, "controls"), &f), "basic");

    vmx_prepare_cr();
    int r = vmxon(vmx_region_init(ghv_vmxon_region, vmx_revision()));
    if (r != VMX_OK) {
        gprintf("ghv: vmxon failed (%s)\n", vmx_result_name(r));
        fail_add(&f, "vmxon");
        return fail_report(&f, "basic");
    }
    ghv_vmx_on = true;
    gprintf("ghv: vmxon ok\n");
    if (!ghv_ctls.cr3_targets)
        gprintf("ghv: basic no cr3-target values: own-cr3 load exits too\n");

    memset((void *)ghv_l2_result, 0, sizeof ghv_l2_result);
    L2R(L2R_OWN_CR3) = ghv_l2.cr3;
    L2R(L2R_ALT_CR3) = ghv_l2.cr3_alt;
    memset(regs, 0, sizeof regs);
    if (!vmcs_setup(vmcs_basic, phys(l2_entry))) {
        fail_add(&f, "vmcs-setup");
        return fail_report(&f, "basic");
    }

    u32 n = 0;
    int state = CONTINUE;
    while (state == CONTINUE) {
        r = ghv_vmrun(regs, n > 0);
        if (r != VMX_OK) {
            u64 err = r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0;
            gprintf("ghv: basic %s failed %s error=%lu\n", n ? "vmresume" : "vmlaunch", vmx_result_name(r), err);
            fail_add(&f, "vmentry");
            break;
        }
        struct exit_info e;
        exit_read(&e);
        if (e.reason >> 31) {
            gprintf("ghv: basic entryfail reason=0x%x qual=0x%lx\n", e.reason, e.qual);
            fail_add(&f, "entryfail");
            break;
        }
        n++;
        exit_print(n, &e);
        check_exit(&f, n, &e);
        state = handle(&e);
        if (state == ABORT) {
            gprintf("ghv: basic unexpected exit (l2 step %lu)\n", L2R(L2R_STEP));
            fail_add(&f, "unexpected-exit");
        } else if (state == CONTINUE && n >= MAX_EXITS) {
            gprintf("ghv: basic too many exits\n");
            fail_add(&f, "too-many-exits");
            state = ABORT;
        }
    }

    show(&f, "cpuid.eax", L2R(L2R_CPUID_EAX), 0x4c32);
    show(&f, "cpuid.ebx", L2R(L2R_CPUID_EBX), 0x324c324c);
    show(&f, "cpuid.ecx", L2R(L2R_CPUID_ECX), 0x324c324c);
    show(&f, "cpuid.edx", L2R(L2R_CPUID_EDX), 0x324c324c);
    show(&f, "out80", seen.out80, 0x5a);
    show(&f, "in61", L2R(L2R_IN61), 0x3c);
    /* VM entry leaves CR0.CD/NW (and ET) as they were in ghv. */
    u64 keep = CR0_CD | CR0_NW | CR0_ET;
    show(&f, "cr0", L2R(L2R_CR0), (l2_guest_cr0() & ~keep) | (read_cr0() & keep) | CR0_TS);
    show(&f, "cr4", L2R(L2R_CR4), l2_guest_cr4() | CR4_PCE);
    show(&f, "cr3", vmread(GUEST_CR3), ghv_l2.cr3_alt);
    show(&f, "msr174", L2R(L2R_MSR174), 0x123456789abcdef0ull);
    show(&f, "efer", L2R(L2R_EFER), 0x500);
    show(&f, "wrmsr.c0000102", seen.wrmsr, ((u64)L2_WRMSR_EDX << 32) | L2_WRMSR_EAX);
    show(&f, "tsc", L2R(L2R_TSC), 0x1111111122222222ull);
    show(&f, "dr7", seen.dr7, L2_DR7_VALUE);
    show(&f, "bp.count", L2R(L2R_BP_COUNT), 1);
    show(&f, "bp.vector", L2R(L2R_BP_VEC), 3);
    show(&f, "bp.rip", L2R(L2R_BP_RIP), phys(l2_int3_insn) + 1);
    show(&f, "pf.count", L2R(L2R_PF_COUNT), 2);
    show(&f, "pf0.cr2", L2R(L2R_PF0_CR2), L2_NP_ADDR);
    show(&f, "pf0.err", L2R(L2R_PF0_ERR), 0);
    show(&f, "pf0.rip", L2R(L2R_PF0_RIP), phys(l2_read_fault_insn));
    show(&f, "pf1.cr2", L2R(L2R_PF1_CR2), L2_RO_ADDR);
    show(&f, "pf1.err", L2R(L2R_PF1_ERR), 3);
    show(&f, "pf1.rip", L2R(L2R_PF1_RIP), phys(l2_write_fault_insn));
    show(&f, "int40.count", L2R(L2R_INT40_COUNT), 1);
    show(&f, "int40.vector", L2R(L2R_INT40_VEC), L2_INT_VECTOR);
    gprintf("ghv: basic exits=%u\n", n);
    check_u64(&f, "exits", n, script_len());
    return fail_report(&f, "basic");
}
