/*
 * ghv: the negative test — architectural outcomes of VMX misuse.
 *
 * Each case runs one VMX instruction in a deliberately wrong situation and
 * prints "ghv: neg <name> = <outcome>". The expected outcome of every case
 * comes from the instruction pseudo-code in the Intel SDM (Vol. 3, ch. 31
 * "VMX Instruction Reference", and ch. 27 for VM-entry checks); a case
 * whose outcome differs is listed on the final "ghv: neg FAIL" line.
 * Faults are caught by ghv's own IDT (cpu.c): the vmx_try.S wrappers resume
 * after a fault, and ring-3 excursions come back through user.S.
 */
#include "check.h"
#include "l2_shared.h"
#include "vmx.h"

enum { O_OK, O_INVALID, O_VALID, O_FAULT, O_ENTRYFAIL, O_EXIT, O_SKIPPED, O_SETUP };

struct outcome {
    int kind;
    u32 code;                       /* VM-instruction error / vector / exit reason */
    u64 extra;                      /* #GP error code / entry-failure qualification */
};

/* vmx_try.S */
int ghv_try_vmxon(const u64 *pa);
int ghv_try_vmclear(const u64 *pa);
int ghv_try_vmptrld(const u64 *pa);
int ghv_try_vmptrst(u64 *out);
int ghv_try_vmread(u64 field, u64 *out);
int ghv_try_vmwrite(u64 field, u64 val);
int ghv_try_vmlaunch(void);
int ghv_try_vmresume(void);
int ghv_try_vmxoff(void);
int ghv_try_invvpid(u64 type, const void *desc);
extern const char ghv_u_vmxon[], ghv_u_vmxoff[], ghv_u_vmclear[], ghv_u_vmptrld[], ghv_u_vmptrst[];
extern const char ghv_u_vmread[], ghv_u_vmwrite[], ghv_u_vmlaunch[], ghv_u_vmresume[], ghv_u_invvpid[];
/* user.S */
void ghv_user_call(const void *body, u64 rdi, u64 rsi);

static u8 vmcs_neg[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 vmcs_scratch[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 region_badrev[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 region_bit31[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u64 invvpid_desc[2] __attribute__((aligned(16)));
static u64 regs[16];
static u32 exit_seq;
static struct faillist fails;

/* Memory operands of the VMX instructions (they take a pointer to a u64). */
static u64 pa_vmxon, pa_vmcs, pa_scratch, pa_badrev, pa_bit31, pa_vmxon_unaligned, pa_vmcs_unaligned, tmp;

static const struct outcome UD = {O_FAULT, 6, 0};
static const struct outcome GP0 = {O_FAULT, 13, 0};
static const struct outcome OK = {O_OK, 0, 0};
static const struct outcome INVALID = {O_INVALID, 0, 0};
static const struct outcome SKIPPED = {O_SKIPPED, 0, 0};
static struct outcome valid(u32 err) { return (struct outcome){O_VALID, err, 0}; }

/* Turn a flag result (vmx_try.S, ghv_vmrun) into an outcome. */
static struct outcome from_result(int r)
{
    switch (r) {
    case VMX_OK: return OK;
    case VMX_FAIL_INVALID: return INVALID;
    case VMX_FAIL_VALID: return valid((u32)vmread(VM_INSN_ERROR));
    default: return (struct outcome){O_FAULT, (u32)ghv_fault_vec, ghv_fault_err};
    }
}

static struct outcome from_rflags(u64 rflags)
{
    return from_result(rflags & 1 ? VMX_FAIL_INVALID : rflags & 0x40 ? VMX_FAIL_VALID : VMX_OK);
}

static void print_outcome(const struct outcome *o)
{
    switch (o->kind) {
    case O_OK: gprintf("ok"); break;
    case O_INVALID: gprintf("VMfailInvalid"); break;
    case O_VALID: gprintf("VMfailValid(%u)", o->code); break;
    case O_FAULT:
        if (o->code == 6)
            gprintf("#UD");
        else if (o->code == 13)
            gprintf("#GP(0x%lx)", o->extra);
        else
            gprintf("#vector%u(0x%lx)", o->code, o->extra);
        break;
    case O_ENTRYFAIL: gprintf("entryfail reason=0x%x qual=0x%lx", o->code, o->extra); break;
    case O_EXIT: gprintf("exit reason=%u", o->code); break;
    case O_SKIPPED: gprintf("skipped"); break;
    default: gprintf("setup failed"); break;
    }
}

static void report(const char *name, struct outcome got, struct outcome want)
{
    gprintf("ghv: neg %s = ", name);
    print_outcome(&got);
    gprintf("\n");
    if (got.kind != want.kind || got.code != want.code || got.extra != want.extra)
        fail_add(&fails, name);
}

/* Run the current VMCS's guest; a VM exit is printed like the basic test's. */
static struct outcome run_vm(int resume)
{
    int r = ghv_vmrun(regs, resume);
    if (r != VMX_OK)
        return from_result(r);
    struct exit_info e;
    exit_read(&e);
    if (e.reason >> 31)
        return (struct outcome){O_ENTRYFAIL, e.reason, e.qual};
    exit_print(++exit_seq, &e);
    return (struct outcome){O_EXIT, e.basic, 0};
}

/* A fresh, valid VMCS whose guest is l2_neg_entry (a lone VMCALL). */
static bool fresh_vmcs(void)
{
    memset(regs, 0, sizeof regs);
    return vmcs_setup(vmcs_neg, phys(l2_neg_entry));
}

static struct outcome user(const char *body, u64 rdi, u64 rsi)
{
    ghv_user_call(body, rdi, rsi);
    if (ghv_user_vec == 0x80)
        return from_rflags(ghv_user_rax);
    return (struct outcome){O_FAULT, (u32)ghv_user_vec, ghv_user_err};
}

static void outside_cases(void)
{
    report("vmptrld-outside", from_result(ghv_try_vmptrld(&pa_vmcs)), UD);
    report("vmclear-outside", from_result(ghv_try_vmclear(&pa_vmcs)), UD);
    report("vmread-outside", from_result(ghv_try_vmread(GUEST_RIP, &tmp)), UD);
    report("vmwrite-outside", from_result(ghv_try_vmwrite(GUEST_RIP, 0)), UD);
    report("vmlaunch-outside", from_result(ghv_try_vmlaunch()), UD);
    report("vmresume-outside", from_result(ghv_try_vmresume()), UD);
    report("vmptrst-outside", from_result(ghv_try_vmptrst(&tmp)), UD);
    report("vmxoff-outside", from_result(ghv_try_vmxoff()), UD);
    if (ghv_caps.has_invvpid)
        report("invvpid-outside", from_result(ghv_try_invvpid(2, invvpid_desc)), UD);
    else
        report("invvpid-outside", SKIPPED, SKIPPED);
}

static void vmxon_cases(void)
{
    vmx_set_vmxe(false);
    report("vmxon-no-vmxe", from_result(ghv_try_vmxon(&pa_vmxon)), UD);
    vmx_set_vmxe(true);
    report("vmxon-unaligned-region", from_result(ghv_try_vmxon(&pa_vmxon_unaligned)), INVALID);
    report("vmxon-bad-revision", from_result(ghv_try_vmxon(&pa_badrev)), INVALID);
    report("vmxon-revision-bit31", from_result(ghv_try_vmxon(&pa_bit31)), INVALID);
    struct outcome o = from_result(ghv_try_vmxon(&pa_vmxon));
    report("vmxon", o, OK);
    ghv_vmx_on = o.kind == O_OK;
}

/* In VMX root operation, no current VMCS. */
static void nocurrent_cases(void)
{
    report("vmxon-twice-nocurrent", from_result(ghv_try_vmxon(&pa_vmxon)), INVALID);
    report("vmread-nocurrent", from_result(ghv_try_vmread(GUEST_RIP, &tmp)), INVALID);
    report("vmwrite-nocurrent", from_result(ghv_try_vmwrite(GUEST_RIP, 0)), INVALID);
    report("vmlaunch-nocurrent", from_result(ghv_try_vmlaunch()), INVALID);
    tmp = 0;
    report("vmptrst-nocurrent", from_result(ghv_try_vmptrst(&tmp)), OK);
    gprintf("ghv: neg vmptrst-nocurrent value=0x%lx\n", tmp);
    check_u64(&fails, "vmptrst-nocurrent-value", tmp, ~0ull);
    report("vmclear-unaligned", from_result(ghv_try_vmclear(&pa_vmcs_unaligned)), INVALID);
    report("vmclear-vmxon-region", from_result(ghv_try_vmclear(&pa_vmxon)), INVALID);
}

/* With a current VMCS (vmcs_neg after vmptrld-good). */
static void current_cases(void)
{
    vmclear(pa_vmcs);               /* a VMCS must be cleared before its first VMPTRLD */
    *(volatile u32 *)vmcs_neg = vmx_revision();
    report("vmptrld-good", from_result(ghv_try_vmptrld(&pa_vmcs)), OK);
    report("vmptrld-unaligned", from_result(ghv_try_vmptrld(&pa_vmcs_unaligned)), valid(9));
    report("vmptrld-vmxon-region", from_result(ghv_try_vmptrld(&pa_vmxon)), valid(10));
    report("vmptrld-bad-revision", from_result(ghv_try_vmptrld(&pa_badrev)), valid(11));
    report("vmclear-unaligned-cur", from_result(ghv_try_vmclear(&pa_vmcs_unaligned)), valid(2));
    report("vmclear-vmxon-region-cur", from_result(ghv_try_vmclear(&pa_vmxon)), valid(3));
    report("vmxon-twice", from_result(ghv_try_vmxon(&pa_vmxon)), valid(15));
    tmp = 0;
    report("vmptrst", from_result(ghv_try_vmptrst(&tmp)), OK);
    gprintf("ghv: neg vmptrst value=0x%lx match=%u\n", tmp, tmp == pa_vmcs);
    check_u64(&fails, "vmptrst-value", tmp, pa_vmcs);
    report("vmread-unsupported", from_result(ghv_try_vmread(0x6c42, &tmp)), valid(12));
    report("vmwrite-unsupported", from_result(ghv_try_vmwrite(0x6c42, 0)), valid(12));
    /* IA32_VMX_MISC[29]: VMWRITE may write the read-only exit-information fields. */
    u32 misc29 = (ghv_caps.misc >> 29) & 1;
    gprintf("ghv: neg misc29=%u\n", misc29);
    report("vmwrite-readonly", from_result(ghv_try_vmwrite(EXIT_REASON, 0)), misc29 ? OK : valid(13));
}

/* VMLAUNCH/VMRESUME against a valid VMCS with one thing wrong. */
static void entry_cases(void)
{
    static const struct outcome SETUP = {O_SETUP, 0, 0};

    report("vmresume-clear", fresh_vmcs() ? run_vm(1) : SETUP, valid(5));

    u32 may = (u32)(ghv_caps.pin >> 32), bad = 0;
    while (bad < 32 && (may >> bad) & 1)
        bad++;
    if (bad == 32) {
        report("vmlaunch-badctl", SKIPPED, SKIPPED);
    } else {
        bool ok = fresh_vmcs() && vmwrite(PIN_CONTROLS, ghv_ctls.pin | (1u << bad)) == VMX_OK;
        report("vmlaunch-badctl", ok ? run_vm(0) : SETUP, valid(7));
    }

    bool ok = fresh_vmcs() && vmwrite(HOST_CS_SEL, 0) == VMX_OK;
    report("vmlaunch-badhost", ok ? run_vm(0) : SETUP, valid(8));

    ok = fresh_vmcs() && vmwrite(GUEST_RFLAGS, 0) == VMX_OK;
    report("vmlaunch-badguest", ok ? run_vm(0) : SETUP, ((struct outcome){O_ENTRYFAIL, 0x80000021, 0}));

    /* Launch for real (L2 exits at once with VMCALL), then VMLAUNCH the now
     * launched VMCS again. */
    struct outcome o = fresh_vmcs() ? run_vm(0) : SETUP;
    if (o.kind == O_EXIT && o.code == 18)
        o = run_vm(0);
    report("vmlaunch-good-then-relaunch", o, valid(4));

    if (!ghv_caps.has_invvpid) {
        report("invvpid-badtype", SKIPPED, SKIPPED);
        return;
    }
    /* The lowest type IA32_VMX_EPT_VPID_CAP[43:40] does not support, or 4
     * (no such type) when all four are supported. */
    u64 type = 0;
    while (type < 4 && (ghv_caps.ept_vpid >> (40 + type)) & 1)
        type++;
    report("invvpid-badtype", from_result(ghv_try_invvpid(type, invvpid_desc)), valid(28));
}

/* Every VMX instruction at CPL 3 in VMX root operation: #GP(0). */
static void cpl3_cases(void)
{
    report("vmxon-cpl3", user(ghv_u_vmxon, phys(&pa_vmxon), 0), GP0);
    report("vmxoff-cpl3", user(ghv_u_vmxoff, 0, 0), GP0);
    report("vmclear-cpl3", user(ghv_u_vmclear, phys(&pa_scratch), 0), GP0);
    report("vmptrld-cpl3", user(ghv_u_vmptrld, phys(&pa_vmcs), 0), GP0);
    report("vmptrst-cpl3", user(ghv_u_vmptrst, phys(&tmp), 0), GP0);
    report("vmread-cpl3", user(ghv_u_vmread, GUEST_RIP, 0), GP0);
    report("vmwrite-cpl3", user(ghv_u_vmwrite, GUEST_RIP, phys(l2_neg_entry)), GP0);
    report("vmlaunch-cpl3", user(ghv_u_vmlaunch, 0, 0), GP0);
    report("vmresume-cpl3", user(ghv_u_vmresume, 0, 0), GP0);
    if (ghv_caps.has_invvpid)
        report("invvpid-cpl3", user(ghv_u_invvpid, 2, phys(invvpid_desc)), GP0);
    else
        report("invvpid-cpl3", SKIPPED, SKIPPED);
}

bool neg_run(void)
{
    memset(&fails, 0, sizeof fails);
    exit_seq = 0;
    u32 rev = vmx_revision();
    pa_vmxon = vmx_region_init(ghv_vmxon_region, rev);
    pa_vmcs = vmx_region_init(vmcs_neg, rev);
    pa_scratch = vmx_region_init(vmcs_scratch, rev);
    pa_badrev = vmx_region_init(region_badrev, (rev + 1) & 0x7fffffff);
    pa_bit31 = vmx_region_init(region_bit31, rev | 0x80000000u);
    pa_vmxon_unaligned = pa_vmxon + 0x800;
    pa_vmcs_unaligned = pa_vmcs + 0x800;
    memset(invvpid_desc, 0, sizeof invvpid_desc);
    if (!vmcs_compute_controls())
        fail_add(&fails, "controls");

    /* Outside VMX operation, CR0/CR4 VMX-ready and CR4.VMXE = 1. */
    vmx_prepare_cr();
    outside_cases();
    vmxon_cases();
    if (!ghv_vmx_on) {
        gprintf("ghv: neg not in vmx operation, remaining cases not run\n");
        return fail_report(&fails, "neg");
    }
    nocurrent_cases();
    current_cases();
    entry_cases();
    cpl3_cases();

    struct outcome o = from_result(ghv_try_vmxoff());
    report("vmxoff", o, OK);
    ghv_vmx_on = o.kind != O_OK;
    report("vmread-after-vmxoff", from_result(ghv_try_vmread(GUEST_RIP, &tmp)), UD);
    return fail_report(&fails, "neg");
}
