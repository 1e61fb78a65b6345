/*
 * VM-entry checks on a vmcs12 (SDM 26.2.1-26.2.4 and 26.3.1), in the SDM's
 * order. Each CHECK names the rule it enforces; the first failure is returned.
 */
#include "nestor/arch.h"
#include "nestor/ept12.h"
#include "nestor/entry_checks.h"

#define CHECK(cond, rule)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return rule;                                                                           \
    } while (0)

static bool ctl_ok(uint32_t value, struct vmx_ctl_cap cap)
{
    return (value & cap.allowed0) == cap.allowed0 && (value & ~cap.allowed1) == 0;
}

static bool addr_ok(uint64_t a, uint64_t align, const struct entry_check_ctx *c)
{
    return (a & (align - 1)) == 0 && (a & ~c->maxphyaddr_mask) == 0;
}

/* An MSR area of count 16-byte entries: aligned, and its last byte within the physical-address width. */
static bool msr_area_ok(uint64_t a, uint64_t count, const struct entry_check_ctx *c)
{
    if (count == 0)
        return true;
    return (a & 15) == 0 && (a & ~c->maxphyaddr_mask) == 0 && ((a + count * 16 - 1) & ~c->maxphyaddr_mask) == 0;
}

static bool pat_ok(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (pat >> (8 * i)) & 0xff;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return false;
    }
    return true;
}

#define CR4_CET_BIT BIT(23)            /* CR4.CET (SDM vol. 3A 2.5) */
#define PENDING_DBG_ENABLED_BP BIT(12) /* pending debug exceptions, SDM 24.4.2 Table 24-4 */
#define PENDING_DBG_BS BIT(14)
#define PENDING_DBG_RTM BIT(16)

static bool efer_reserved_ok(uint64_t efer) { return (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) == 0; }

bool entry_check_reads_vtpr(const struct vmcs12 *v)
{
    return (V12(v, VMCS_PROC_CONTROLS) & PROC_TPR_SHADOW) &&
           !(vmcs12_proc2(v) & (PROC2_VIRT_INTR_DELIVERY | PROC2_VIRT_APIC_ACCESSES));
}

const char *entry_check_controls(const struct vmcs12 *v, const struct entry_check_ctx *c)
{
    const struct nested_caps *k = c->caps;
    uint32_t pin = (uint32_t)V12(v, VMCS_PIN_CONTROLS), proc = (uint32_t)V12(v, VMCS_PROC_CONTROLS);
    uint32_t proc2 = vmcs12_proc2(v);
    uint32_t exit = (uint32_t)V12(v, VMCS_EXIT_CONTROLS), entry = (uint32_t)V12(v, VMCS_ENTRY_CONTROLS);

    /* 26.2.1.1 VM-execution control fields */
    CHECK(ctl_ok(pin, k->pin), "26.2.1.1 pin-based controls must respect IA32_VMX_TRUE_PINBASED_CTLS");
    CHECK(ctl_ok(proc, k->proc), "26.2.1.1 primary processor-based controls must respect IA32_VMX_TRUE_PROCBASED_CTLS");
    CHECK(!(proc & PROC_SECONDARY_CONTROLS) || ctl_ok(proc2, k->proc2),
          "26.2.1.1 secondary processor-based controls must respect IA32_VMX_PROCBASED_CTLS2");
    CHECK(V12(v, VMCS_CR3_TARGET_COUNT) <= ((k->misc >> 16) & 0x1ff),
          "26.2.1.1 CR3-target count must not exceed IA32_VMX_MISC[24:16]");
    CHECK(!(proc & PROC_USE_IO_BITMAPS) ||
              (addr_ok(V12(v, VMCS_IO_BITMAP_A), 4096, c) && addr_ok(V12(v, VMCS_IO_BITMAP_B), 4096, c)),
          "26.2.1.1 I/O bitmap addresses must be 4-KByte aligned and within the physical-address width");
    CHECK(!(proc & PROC_USE_MSR_BITMAPS) || addr_ok(V12(v, VMCS_MSR_BITMAP), 4096, c),
          "26.2.1.1 MSR-bitmap address must be 4-KByte aligned and within the physical-address width");
    if (proc & PROC_TPR_SHADOW) {
        CHECK(addr_ok(V12(v, VMCS_VIRTUAL_APIC_ADDR), 4096, c),
              "26.2.1.1 virtual-APIC address must be 4-KByte aligned and within the physical-address width");
        uint64_t threshold = V12(v, VMCS_TPR_THRESHOLD);
        CHECK((proc2 & PROC2_VIRT_INTR_DELIVERY) || (threshold & 0xfffffff0u) == 0,
              "26.2.1.1 TPR threshold bits 31:4 must be 0 without virtual-interrupt delivery");
        CHECK(!entry_check_reads_vtpr(v) || (threshold & 0xf) <= (c->vtpr >> 4u),
              "26.2.1.1 TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (virtual-APIC page offset 080H)");
    } else {
        CHECK(!(proc2 & (PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)),
              "26.2.1.1 virtualize x2APIC mode, APIC-register virtualization and virtual-interrupt delivery require use TPR shadow");
    }
    CHECK(!(proc2 & PROC2_VIRT_X2APIC) || !(proc2 & PROC2_VIRT_APIC_ACCESSES),
          "26.2.1.1 virtualize x2APIC mode and virtualize APIC accesses must not both be 1");
    CHECK(!(proc2 & PROC2_VIRT_INTR_DELIVERY) || (pin & PIN_EXT_INTR_EXITING),
          "26.2.1.1 virtual-interrupt delivery requires external-interrupt exiting");
    CHECK(!(proc2 & PROC2_VIRT_APIC_ACCESSES) || addr_ok(V12(v, VMCS_APIC_ACCESS_ADDR), 4096, c),
          "26.2.1.1 APIC-access address must be 4-KByte aligned and within the physical-address width");
    CHECK(!(proc2 & PROC2_VMCS_SHADOWING) ||
              (addr_ok(V12(v, VMCS_VMREAD_BITMAP), 4096, c) && addr_ok(V12(v, VMCS_VMWRITE_BITMAP), 4096, c)),
          "26.2.1.1 VMREAD- and VMWRITE-bitmap addresses must be 4-KByte aligned and within the physical-address width");
    CHECK((pin & PIN_NMI_EXITING) || !(pin & PIN_VIRTUAL_NMIS),
          "26.2.1.1 virtual NMIs require NMI exiting");
    CHECK((pin & PIN_VIRTUAL_NMIS) || !(proc & PROC_NMI_WINDOW_EXITING),
          "26.2.1.1 NMI-window exiting requires virtual NMIs");
    CHECK(!(proc2 & PROC2_ENABLE_VPID) || (V12(v, VMCS_VPID) & 0xffff) != 0,
          "26.2.1.1 VPID must not be 0 when enable VPID is 1");
    CHECK(!(proc2 & PROC2_UNRESTRICTED_GUEST) || (proc2 & PROC2_ENABLE_EPT),
          "26.2.1.1 unrestricted guest requires enable EPT");
    if (proc2 & PROC2_ENABLE_EPT) {
        const char *r = ept12_check_eptp(V12(v, VMCS_EPT_POINTER), k->ept_vpid & EPT_CAP_MEMTYPE_UC,
                                         k->ept_vpid & EPT_CAP_MEMTYPE_WB, k->ept_vpid & EPT_CAP_AD, c->maxphyaddr_mask);
        if (r)
            return r;
    }
    CHECK(!(proc2 & PROC2_ENABLE_PML) || (proc2 & PROC2_ENABLE_EPT), "26.2.1.1 enable PML requires enable EPT");
    CHECK(!(proc2 & PROC2_ENABLE_PML) || addr_ok(V12(v, VMCS_PML_ADDR), 4096, c),
          "26.2.1.1 PML address must be 4-KByte aligned (bits 11:0 = 0) and within the physical-address width");

    /* 26.2.1.2 VM-exit control fields */
    CHECK(ctl_ok(exit, k->exit), "26.2.1.2 VM-exit controls must respect IA32_VMX_TRUE_EXIT_CTLS");
    CHECK((pin & PIN_PREEMPTION_TIMER) || !(exit & EXIT_SAVE_PREEMPTION_TIMER),
          "26.2.1.2 save VMX-preemption timer value requires activate VMX-preemption timer");
    CHECK(msr_area_ok(V12(v, VMCS_EXIT_MSR_STORE_ADDR), V12(v, VMCS_EXIT_MSR_STORE_COUNT), c),
          "26.2.1.2 VM-exit MSR-store area must be 16-byte aligned and within the physical-address width");
    CHECK(msr_area_ok(V12(v, VMCS_EXIT_MSR_LOAD_ADDR), V12(v, VMCS_EXIT_MSR_LOAD_COUNT), c),
          "26.2.1.2 VM-exit MSR-load area must be 16-byte aligned and within the physical-address width");

    /* 26.2.1.3 VM-entry control fields */
    CHECK(ctl_ok(entry, k->entry), "26.2.1.3 VM-entry controls must respect IA32_VMX_TRUE_ENTRY_CTLS");
    uint32_t info = (uint32_t)V12(v, VMCS_ENTRY_INTR_INFO);
    if (info & INTR_INFO_VALID) {
        unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);
        CHECK(type != 1, "26.2.1.3 event injection: interruption type 1 is reserved");
        CHECK(type != INTR_TYPE_OTHER, "26.2.1.3 event injection: type 7 (other event) needs monitor trap flag, which is not offered");
        CHECK(type != INTR_TYPE_NMI || vector == 2, "26.2.1.3 event injection: an NMI must have vector 2");
        CHECK(type != INTR_TYPE_HW_EXCEPTION || vector <= 31,
              "26.2.1.3 event injection: a hardware exception must have a vector of at most 31");
        bool pe = (V12(v, VMCS_GUEST_CR0) & CR0_PE) || !(proc2 & PROC2_UNRESTRICTED_GUEST);
        bool errcode_vector = vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 ||
                              vector == 14 || vector == 17;
        bool needs_error = pe && type == INTR_TYPE_HW_EXCEPTION && errcode_vector;
        CHECK(!!(info & INTR_INFO_ERROR_CODE_VALID) == needs_error,
              "26.2.1.3 event injection: deliver-error-code must be 1 exactly for #DF, #TS, #NP, #SS, #GP, #PF, #AC in protected mode");
        CHECK((info & 0x7ffff000u) == 0, "26.2.1.3 event injection: reserved bits 30:12 must be 0");
        CHECK(!(info & INTR_INFO_ERROR_CODE_VALID) || (V12(v, VMCS_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u) == 0,
              "26.2.1.3 event injection: error code bits 31:16 must be 0");
        if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION) {
            uint64_t len = V12(v, VMCS_ENTRY_INSTRUCTION_LEN);
            CHECK(len >= 1 && len <= 15, "26.2.1.3 event injection: software event instruction length must be 1-15");
        }
    }
    CHECK(msr_area_ok(V12(v, VMCS_ENTRY_MSR_LOAD_ADDR), V12(v, VMCS_ENTRY_MSR_LOAD_COUNT), c),
          "26.2.1.3 VM-entry MSR-load area must be 16-byte aligned and within the physical-address width");
    return NULL;
}

const char *entry_check_host_state(const struct vmcs12 *v, const struct entry_check_ctx *c)
{
    const struct nested_caps *k = c->caps;
    uint32_t exit = (uint32_t)V12(v, VMCS_EXIT_CONTROLS), entry = (uint32_t)V12(v, VMCS_ENTRY_CONTROLS);
    bool host64 = exit & EXIT_HOST_ADDR_SPACE_SIZE;
    uint64_t cr0 = V12(v, VMCS_HOST_CR0), cr4 = V12(v, VMCS_HOST_CR4);

    /* 26.2.2 host control registers and MSRs */
    CHECK((cr0 & k->cr0_fixed0) == k->cr0_fixed0 && (cr0 & ~k->cr0_fixed1) == 0,
          "26.2.2 host CR0 must respect IA32_VMX_CR0_FIXED0/FIXED1");
    CHECK((cr4 & k->cr4_fixed0) == k->cr4_fixed0 && (cr4 & ~k->cr4_fixed1) == 0,
          "26.2.2 host CR4 must respect IA32_VMX_CR4_FIXED0/FIXED1");
    CHECK(!(cr4 & CR4_CET_BIT) || (cr0 & CR0_WP), "26.2.2 host CR4.CET = 1 requires host CR0.WP = 1");
    CHECK((V12(v, VMCS_HOST_CR3) & ~c->maxphyaddr_mask) == 0,
          "26.2.2 host CR3 must be within the physical-address width");
    CHECK(is_canonical(V12(v, VMCS_HOST_SYSENTER_ESP)) && is_canonical(V12(v, VMCS_HOST_SYSENTER_EIP)),
          "26.2.2 host IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical");
    CHECK(!(exit & EXIT_LOAD_PAT) || pat_ok(V12(v, VMCS_HOST_PAT)),
          "26.2.2 host IA32_PAT must hold only valid memory types when load IA32_PAT is 1");
    if (exit & EXIT_LOAD_EFER) {
        uint64_t efer = V12(v, VMCS_HOST_EFER);
        CHECK(efer_reserved_ok(efer), "26.2.2 host IA32_EFER reserved bits must be 0");
        CHECK(!!(efer & EFER_LMA) == host64 && !!(efer & EFER_LME) == host64,
              "26.2.2 host IA32_EFER.LMA and LME must equal host address-space size");
    }

    /* 26.2.3 host segment and descriptor-table registers */
    uint64_t es = V12(v, VMCS_HOST_ES_SEL), cs = V12(v, VMCS_HOST_CS_SEL), ss = V12(v, VMCS_HOST_SS_SEL);
    uint64_t ds = V12(v, VMCS_HOST_DS_SEL), fs = V12(v, VMCS_HOST_FS_SEL), gs = V12(v, VMCS_HOST_GS_SEL);
    uint64_t tr = V12(v, VMCS_HOST_TR_SEL);
    CHECK(((es | cs | ss | ds | fs | gs | tr) & 7) == 0,
          "26.2.3 host selector fields must have RPL = 0 and TI = 0");
    CHECK(cs != 0, "26.2.3 host CS selector must not be 0");
    CHECK(tr != 0, "26.2.3 host TR selector must not be 0");
    CHECK(host64 || ss != 0, "26.2.3 host SS selector must not be 0 when host address-space size is 0");
    CHECK(is_canonical(V12(v, VMCS_HOST_FS_BASE)) && is_canonical(V12(v, VMCS_HOST_GS_BASE)) &&
              is_canonical(V12(v, VMCS_HOST_GDTR_BASE)) && is_canonical(V12(v, VMCS_HOST_IDTR_BASE)) &&
              is_canonical(V12(v, VMCS_HOST_TR_BASE)),
          "26.2.3 host FS, GS, GDTR, IDTR and TR bases must be canonical");

    /* 26.2.4 address-space size */
    if (!c->l1_ia32e) {
        CHECK(!(entry & ENTRY_IA32E_MODE_GUEST), "26.2.4 outside IA-32e mode, IA-32e mode guest must be 0");
        CHECK(!host64, "26.2.4 outside IA-32e mode, host address-space size must be 0");
    } else {
        CHECK(host64, "26.2.4 in IA-32e mode, host address-space size must be 1");
    }
    if (!host64) {
        CHECK(!(entry & ENTRY_IA32E_MODE_GUEST), "26.2.4 host address-space size 0 requires IA-32e mode guest 0");
        CHECK(!(cr4 & CR4_PCIDE), "26.2.4 host address-space size 0 requires host CR4.PCIDE = 0");
        CHECK((V12(v, VMCS_HOST_RIP) >> 32) == 0, "26.2.4 host address-space size 0 requires host RIP bits 63:32 = 0");
    } else {
        CHECK(cr4 & CR4_PAE, "26.2.4 host address-space size 1 requires host CR4.PAE = 1");
        CHECK(is_canonical(V12(v, VMCS_HOST_RIP)), "26.2.4 host address-space size 1 requires a canonical host RIP");
    }
    return NULL;
}

/* Segment access rights (SDM 24.4.1 Table 24-2). */
#define AR_TYPE(a) ((a) & 0xf)
#define AR_S(a) (((a) >> 4) & 1)
#define AR_DPL(a) (((a) >> 5) & 3)
#define AR_P(a) (((a) >> 7) & 1)
#define AR_L(a) (((a) >> 13) & 1)
#define AR_DB(a) (((a) >> 14) & 1)
#define AR_G(a) (((a) >> 15) & 1)
#define AR_UNUSABLE(a) (((a) >> 16) & 1)
#define AR_RESERVED(a) ((a) & 0xfffe0f00u)

/* Granularity must match the limit (SDM 26.3.1.2, last two items per segment). */
static bool granularity_ok(uint64_t limit, uint64_t ar)
{
    if ((limit & 0xfff) != 0xfff && AR_G(ar))
        return false;
    if ((limit & 0xfff00000u) != 0 && !AR_G(ar))
        return false;
    return true;
}

static const char *check_data_segment(const struct vmcs12 *v, unsigned idx, bool ug, const char *name_rules[5])
{
    uint64_t sel = v->f[SLOT_VMCS_GUEST_ES_SEL + idx];
    uint64_t ar = v->f[SLOT_VMCS_GUEST_ES_AR + idx], limit = v->f[SLOT_VMCS_GUEST_ES_LIMIT + idx];
    if (AR_UNUSABLE(ar))
        return NULL;
    CHECK(AR_TYPE(ar) & 1, name_rules[0]);                                     /* accessed */
    CHECK(!(AR_TYPE(ar) & 8) || (AR_TYPE(ar) & 2), name_rules[0]);             /* code must be readable */
    CHECK(AR_S(ar), name_rules[1]);
    CHECK(ug || AR_TYPE(ar) > 11 || AR_DPL(ar) >= (sel & 3), name_rules[2]);
    CHECK(AR_P(ar), name_rules[3]);
    CHECK(!AR_RESERVED(ar) && granularity_ok(limit, ar), name_rules[4]);
    return NULL;
}

const char *entry_check_guest_state(const struct vmcs12 *v, const struct entry_check_ctx *c, uint32_t *qual)
{
    const struct nested_caps *k = c->caps;
    *qual = 0;
    uint32_t entry = (uint32_t)V12(v, VMCS_ENTRY_CONTROLS), proc2 = vmcs12_proc2(v);
    uint32_t pin = (uint32_t)V12(v, VMCS_PIN_CONTROLS);
    bool ug = proc2 & PROC2_UNRESTRICTED_GUEST, ia32e = entry & ENTRY_IA32E_MODE_GUEST;
    uint64_t cr0 = V12(v, VMCS_GUEST_CR0), cr4 = V12(v, VMCS_GUEST_CR4);
    uint64_t rflags = V12(v, VMCS_GUEST_RFLAGS);

    /* 26.3.1.1 control registers, debug registers and MSRs */
    uint64_t fixed0 = k->cr0_fixed0 & (ug ? ~(CR0_PE | CR0_PG) : ~0ull);
    CHECK((cr0 & fixed0) == fixed0 && (cr0 & ~k->cr0_fixed1) == 0,
          "26.3.1.1 guest CR0 must respect IA32_VMX_CR0_FIXED0/FIXED1 (PE and PG free with unrestricted guest)");
    CHECK(!(cr0 & CR0_PG) || (cr0 & CR0_PE), "26.3.1.1 guest CR0.PG = 1 requires CR0.PE = 1");
    CHECK((cr4 & k->cr4_fixed0) == k->cr4_fixed0 && (cr4 & ~k->cr4_fixed1) == 0,
          "26.3.1.1 guest CR4 must respect IA32_VMX_CR4_FIXED0/FIXED1");
    if (ia32e)
        CHECK((cr0 & CR0_PG) && (cr4 & CR4_PAE), "26.3.1.1 IA-32e mode guest requires CR0.PG = 1 and CR4.PAE = 1");
    else
        CHECK(!(cr4 & CR4_PCIDE), "26.3.1.1 outside IA-32e mode guest CR4.PCIDE must be 0");
    CHECK(!(cr4 & CR4_CET_BIT) || (cr0 & CR0_WP), "26.3.1.1 guest CR4.CET = 1 requires guest CR0.WP = 1");
    CHECK((V12(v, VMCS_GUEST_CR3) & ~c->maxphyaddr_mask) == 0,
          "26.3.1.1 guest CR3 must be within the physical-address width");
    if (entry & ENTRY_LOAD_DEBUG_CONTROLS) {
        CHECK((V12(v, VMCS_GUEST_DEBUGCTL) & ~DEBUGCTL_VALID_BITS) == 0,
              "26.3.1.1 guest IA32_DEBUGCTL reserved bits must be 0 when load debug controls is 1");
        CHECK((V12(v, VMCS_GUEST_DR7) >> 32) == 0, "26.3.1.1 guest DR7 bits 63:32 must be 0 when load debug controls is 1");
    }
    CHECK(is_canonical(V12(v, VMCS_GUEST_SYSENTER_ESP)) && is_canonical(V12(v, VMCS_GUEST_SYSENTER_EIP)),
          "26.3.1.1 guest IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical");
    CHECK(!(entry & ENTRY_LOAD_PAT) || pat_ok(V12(v, VMCS_GUEST_PAT)),
          "26.3.1.1 guest IA32_PAT must hold only valid memory types when load IA32_PAT is 1");
    if (entry & ENTRY_LOAD_EFER) {
        uint64_t efer = V12(v, VMCS_GUEST_EFER);
        CHECK(efer_reserved_ok(efer), "26.3.1.1 guest IA32_EFER reserved bits must be 0");
        CHECK(!!(efer & EFER_LMA) == ia32e, "26.3.1.1 guest IA32_EFER.LMA must equal IA-32e mode guest");
        CHECK(!(cr0 & CR0_PG) || !!(efer & EFER_LME) == ia32e,
              "26.3.1.1 guest IA32_EFER.LME must equal IA-32e mode guest when CR0.PG = 1");
    }

    /* 26.3.1.2 segment registers */
    bool v86 = rflags & RFLAGS_VM;
    uint64_t cs_ar = V12(v, VMCS_GUEST_CS_AR), ss_ar = V12(v, VMCS_GUEST_SS_AR);
    uint64_t tr_ar = V12(v, VMCS_GUEST_TR_AR), ldtr_ar = V12(v, VMCS_GUEST_LDTR_AR);
    CHECK(!(V12(v, VMCS_GUEST_TR_SEL) & 4), "26.3.1.2 guest TR selector TI flag must be 0");
    CHECK(AR_UNUSABLE(ldtr_ar) || !(V12(v, VMCS_GUEST_LDTR_SEL) & 4), "26.3.1.2 guest LDTR selector TI flag must be 0 if LDTR is usable");
    CHECK(v86 || ug || (V12(v, VMCS_GUEST_SS_SEL) & 3) == (V12(v, VMCS_GUEST_CS_SEL) & 3),
          "26.3.1.2 guest SS.RPL must equal CS.RPL");
    if (v86) {
        static const char *const v86_rule = "26.3.1.2 in virtual-8086 mode each segment must have base = selector << 4, limit 0xffff, access rights 0xf3";
        for (unsigned i = 0; i < 6; i++)
            CHECK(v->f[SLOT_VMCS_GUEST_ES_BASE + i] == v->f[SLOT_VMCS_GUEST_ES_SEL + i] << 4 &&
                      v->f[SLOT_VMCS_GUEST_ES_LIMIT + i] == 0xffff && v->f[SLOT_VMCS_GUEST_ES_AR + i] == 0xf3,
                  v86_rule);
    }
    CHECK(is_canonical(V12(v, VMCS_GUEST_TR_BASE)) && is_canonical(V12(v, VMCS_GUEST_FS_BASE)) &&
              is_canonical(V12(v, VMCS_GUEST_GS_BASE)),
          "26.3.1.2 guest TR, FS and GS bases must be canonical");
    CHECK(AR_UNUSABLE(ldtr_ar) || is_canonical(V12(v, VMCS_GUEST_LDTR_BASE)),
          "26.3.1.2 guest LDTR base must be canonical if LDTR is usable");
    CHECK((V12(v, VMCS_GUEST_CS_BASE) >> 32) == 0, "26.3.1.2 guest CS base bits 63:32 must be 0");
    CHECK(AR_UNUSABLE(ss_ar) || (V12(v, VMCS_GUEST_SS_BASE) >> 32) == 0, "26.3.1.2 guest SS base bits 63:32 must be 0 if usable");
    CHECK(AR_UNUSABLE(V12(v, VMCS_GUEST_DS_AR)) || (V12(v, VMCS_GUEST_DS_BASE) >> 32) == 0,
          "26.3.1.2 guest DS base bits 63:32 must be 0 if usable");
    CHECK(AR_UNUSABLE(V12(v, VMCS_GUEST_ES_AR)) || (V12(v, VMCS_GUEST_ES_BASE) >> 32) == 0,
          "26.3.1.2 guest ES base bits 63:32 must be 0 if usable");
    if (!v86) {
        unsigned cs_type = AR_TYPE(cs_ar);
        CHECK(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 || (ug && cs_type == 3),
              "26.3.1.2 guest CS type must be 9, 11, 13 or 15 (or 3 with unrestricted guest)");
        CHECK(AR_S(cs_ar), "26.3.1.2 guest CS must be a code or data segment (S = 1)");
        if (cs_type == 3)
            CHECK(AR_DPL(cs_ar) == 0, "26.3.1.2 guest CS DPL must be 0 for type 3");
        else if (cs_type == 9 || cs_type == 11)
            CHECK(AR_DPL(cs_ar) == AR_DPL(ss_ar), "26.3.1.2 guest CS DPL must equal SS DPL for non-conforming code");
        else
            CHECK(AR_DPL(cs_ar) <= AR_DPL(ss_ar), "26.3.1.2 guest CS DPL must not exceed SS DPL for conforming code");
        CHECK(AR_P(cs_ar), "26.3.1.2 guest CS must be present");
        CHECK(!AR_RESERVED(cs_ar), "26.3.1.2 guest CS access-rights reserved bits must be 0");
        CHECK(!(ia32e && AR_L(cs_ar) && AR_DB(cs_ar)), "26.3.1.2 guest CS.D must be 0 when CS.L is 1 in IA-32e mode");
        CHECK(granularity_ok(V12(v, VMCS_GUEST_CS_LIMIT), cs_ar), "26.3.1.2 guest CS granularity must match its limit");
        CHECK(!(cs_ar & VMX_AR_UNUSABLE), "26.3.1.2 guest CS must be usable");
        if (!AR_UNUSABLE(ss_ar)) {
            CHECK(AR_TYPE(ss_ar) == 3 || AR_TYPE(ss_ar) == 7, "26.3.1.2 guest SS type must be 3 or 7 if usable");
            CHECK(AR_S(ss_ar), "26.3.1.2 guest SS must be a code or data segment (S = 1) if usable");
            CHECK(AR_P(ss_ar), "26.3.1.2 guest SS must be present if usable");
            CHECK(!AR_RESERVED(ss_ar) && granularity_ok(V12(v, VMCS_GUEST_SS_LIMIT), ss_ar),
                  "26.3.1.2 guest SS reserved bits must be 0 and granularity must match its limit");
        }
        CHECK(ug || AR_DPL(ss_ar) == (V12(v, VMCS_GUEST_SS_SEL) & 3), "26.3.1.2 guest SS DPL must equal its RPL");
        CHECK(!(cs_type == 3 || !(cr0 & CR0_PE)) || AR_DPL(ss_ar) == 0,
              "26.3.1.2 guest SS DPL must be 0 when CS type is 3 or CR0.PE is 0");
        static const char *const ds_rules[5] = {
            "26.3.1.2 guest DS, ES, FS, GS must be accessed, and readable if code, when usable",
            "26.3.1.2 guest DS, ES, FS, GS must have S = 1 when usable",
            "26.3.1.2 guest DS, ES, FS, GS DPL must not be below RPL for data and non-conforming code",
            "26.3.1.2 guest DS, ES, FS, GS must be present when usable",
            "26.3.1.2 guest DS, ES, FS, GS reserved bits must be 0 and granularity must match the limit"};
        static const unsigned data_segs[] = {0, 3, 4, 5}; /* ES, DS, FS, GS */
        for (unsigned i = 0; i < 4; i++) {
            const char *r = check_data_segment(v, data_segs[i], ug, (const char **)ds_rules);
            if (r)
                return r;
        }
    }
    unsigned tr_type = AR_TYPE(tr_ar);
    CHECK(ia32e ? tr_type == 11 : (tr_type == 3 || tr_type == 11),
          "26.3.1.2 guest TR type must be 11 (busy 64/32-bit TSS), or 3 outside IA-32e mode");
    CHECK(!AR_S(tr_ar) && AR_P(tr_ar) && !AR_UNUSABLE(tr_ar) && !AR_RESERVED(tr_ar),
          "26.3.1.2 guest TR must be a present, usable system segment with reserved bits 0");
    CHECK(granularity_ok(V12(v, VMCS_GUEST_TR_LIMIT), tr_ar), "26.3.1.2 guest TR granularity must match its limit");
    if (!AR_UNUSABLE(ldtr_ar)) {
        CHECK(AR_TYPE(ldtr_ar) == 2 && !AR_S(ldtr_ar) && AR_P(ldtr_ar) && !AR_RESERVED(ldtr_ar) &&
                  granularity_ok(V12(v, VMCS_GUEST_LDTR_LIMIT), ldtr_ar),
              "26.3.1.2 guest LDTR, if usable, must be a present LDT (type 2) with reserved bits 0");
    }

    /* 26.3.1.3 descriptor-table registers */
    CHECK(is_canonical(V12(v, VMCS_GUEST_GDTR_BASE)) && is_canonical(V12(v, VMCS_GUEST_IDTR_BASE)),
          "26.3.1.3 guest GDTR and IDTR bases must be canonical");
    CHECK((V12(v, VMCS_GUEST_GDTR_LIMIT) >> 16) == 0 && (V12(v, VMCS_GUEST_IDTR_LIMIT) >> 16) == 0,
          "26.3.1.3 guest GDTR and IDTR limits bits 31:16 must be 0");

    /* 26.3.1.4 RIP and RFLAGS */
    uint64_t rip = V12(v, VMCS_GUEST_RIP);
    if (!ia32e || !AR_L(cs_ar))
        CHECK((rip >> 32) == 0, "26.3.1.4 guest RIP bits 63:32 must be 0 outside 64-bit mode");
    else
        CHECK(is_canonical(rip), "26.3.1.4 guest RIP must be canonical in 64-bit mode");
    CHECK((rflags & 0xffffffffffc08028ull) == 0 && (rflags & 2),
          "26.3.1.4 guest RFLAGS reserved bits (63:22, 15, 5, 3) must be 0 and bit 1 must be 1");
    CHECK(!v86 || (!ia32e && (cr0 & CR0_PE)), "26.3.1.4 guest RFLAGS.VM must be 0 in IA-32e mode or when CR0.PE = 0");
    uint32_t info = (uint32_t)V12(v, VMCS_ENTRY_INTR_INFO);
    bool inject = info & INTR_INFO_VALID;
    unsigned itype = INTR_INFO_TYPE(info);
    CHECK(!(inject && itype == INTR_TYPE_EXT_INTR) || (rflags & RFLAGS_IF),
          "26.3.1.4 guest RFLAGS.IF must be 1 when injecting an external interrupt");

    /* 26.3.1.5 non-register state */
    uint64_t act = V12(v, VMCS_GUEST_ACTIVITY_STATE), intr = V12(v, VMCS_GUEST_INTERRUPTIBILITY);
    CHECK(act == ACTIVITY_ACTIVE || (act == ACTIVITY_HLT && (k->misc & VMX_MISC_ACTIVITY_HLT)),
          "26.3.1.5 guest activity state must be active, or HLT (the only other state offered)");
    CHECK(act != ACTIVITY_HLT || AR_DPL(ss_ar) == 0, "26.3.1.5 guest activity state HLT requires SS.DPL = 0");
    CHECK(act == ACTIVITY_ACTIVE || !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)),
          "26.3.1.5 guest activity state must be active when blocking by STI or MOV SS is set");
    if (inject && act == ACTIVITY_HLT) {
        unsigned vec = INTR_INFO_VECTOR(info);
        CHECK(itype == INTR_TYPE_EXT_INTR || itype == INTR_TYPE_NMI ||
                  (itype == INTR_TYPE_HW_EXCEPTION && (vec == VEC_DB || vec == VEC_MC)),
              "26.3.1.5 in HLT state only external interrupts, NMIs, #DB and #MC may be injected");
    }
    CHECK((intr & ~0x1full) == 0, "26.3.1.5 guest interruptibility-state reserved bits 31:5 must be 0");
    CHECK((intr & 3) != 3, "26.3.1.5 guest interruptibility: blocking by STI and by MOV SS must not both be set");
    CHECK(!(intr & INTERRUPTIBILITY_STI) || (rflags & RFLAGS_IF),
          "26.3.1.5 guest interruptibility: blocking by STI requires RFLAGS.IF = 1");
    CHECK(!(inject && itype == INTR_TYPE_EXT_INTR) || !(intr & 3),
          "26.3.1.5 guest interruptibility: no STI or MOV-SS blocking when injecting an external interrupt");
    CHECK(!(inject && itype == INTR_TYPE_NMI) || !(intr & INTERRUPTIBILITY_MOV_SS),
          "26.3.1.5 guest interruptibility: no MOV-SS blocking when injecting an NMI");
    CHECK(!(intr & INTERRUPTIBILITY_SMI), "26.3.1.5 guest interruptibility: blocking by SMI must be 0 outside SMM");
    CHECK(!(inject && itype == INTR_TYPE_NMI && (pin & PIN_VIRTUAL_NMIS)) || !(intr & INTERRUPTIBILITY_NMI),
          "26.3.1.5 guest interruptibility: no NMI blocking when injecting an NMI with virtual NMIs");
    uint64_t pend = V12(v, VMCS_GUEST_PENDING_DBG);
    CHECK((pend & ~0x1500full) == 0, "26.3.1.5 guest pending debug exceptions reserved bits must be 0");
    if (pend & PENDING_DBG_RTM) {
        CHECK(c->rtm, "26.3.1.5 pending debug exceptions RTM (bit 16) may be 1 only if the processor supports RTM");
        CHECK((pend & 0xfffull) == 0 && (pend & PENDING_DBG_ENABLED_BP) && !(pend & PENDING_DBG_BS),
              "26.3.1.5 pending debug exceptions with RTM (bit 16) = 1: bits 11:0 and 14 must be 0, bit 12 must be 1");
        CHECK(!(intr & INTERRUPTIBILITY_MOV_SS),
              "26.3.1.5 pending debug exceptions with RTM (bit 16) = 1: blocking by MOV SS must be 0");
    }
    if ((intr & 3) || act == ACTIVITY_HLT) {
        bool tf = rflags & BIT(8), btf = V12(v, VMCS_GUEST_DEBUGCTL) & BIT(1);
        bool bs = pend & BIT(14);
        CHECK(!(tf && !btf) || bs, "26.3.1.5 pending debug exceptions BS must be 1 when RFLAGS.TF = 1 and DEBUGCTL.BTF = 0");
        CHECK(!(!tf || btf) || !bs, "26.3.1.5 pending debug exceptions BS must be 0 when RFLAGS.TF = 0 or DEBUGCTL.BTF = 1");
    }
    uint64_t link = V12(v, VMCS_LINK_POINTER);
    if (link != ~0ull && ((link & 0xfff) || (link & ~c->maxphyaddr_mask))) {
        *qual = 4; /* the revision at the pointer is checked by the caller, which reads memory */
        return "26.3.1.5 VMCS link pointer must be FFFFFFFF_FFFFFFFFH or 4-KByte aligned within the physical-address width";
    }
    return NULL;
}
