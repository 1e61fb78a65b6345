/*
 * Fuzz target: sequences of L1's VMX instructions (NecoFuzz-style) and L2 exits,
 * through the whole nested layer on the fake CPU. Input: one configuration byte
 * (L1's mode and what L0 offers, l1env.h), then operations, each an opcode byte and
 * its operands. After every step l1env.c checks the invariants (no access outside
 * L1's memory, vmcs02 holding only what L0 chose, the architectural outcome of
 * every instruction and failed entry); a violation aborts.
 */
#include <stdint.h>
#include <string.h>

#include "fakecpu.h"
#include "l1env.h"
#include "../../nested/nested_internal.h"
#include "nestor/arch.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_ops.h"

#define ENC(enc, feat) enc,
static const uint32_t fields12[] = {VMCS12_FIELDS(ENC)};
#define NFIELDS (sizeof fields12 / sizeof fields12[0])

/* Addresses L1 hands to VMXON/VMCLEAR/VMPTRLD: mostly its VMCS pages, sometimes anything. */
static uint64_t pick_addr(struct fin *f)
{
    uint8_t s = fin_u8(f);
    switch (s >> 4) {
    case 10: return L1_VMXON_GPA;
    case 11: return L1_VMCS_GPA(s & 15) + 8 * (s & 7) + 1; /* unaligned */
    case 12: return L1_ROM_GPA;
    case 13: return 0x200000ull + ((uint64_t)(s & 15) << 12); /* not L1's memory */
    case 14: return (1ull << (39 + (s & 7))) | L1_VMCS_GPA(0); /* beyond MAXPHYADDR */
    case 15: return fin_u64(f);
    default: return L1_VMCS_GPA(s & 15);
    }
}

static uint64_t pick_field(struct fin *f)
{
    uint8_t s = fin_u8(f);
    if (s < NFIELDS)
        return fields12[s];
    if (s < 0xf0 && s - NFIELDS < NFIELDS)
        return fields12[s - NFIELDS] | 1; /* the HIGH access (valid for 64-bit fields only) */
    return fin_u32(f);
}

static uint64_t current_value(uint64_t field)
{
    struct nested_vmx *n = &E.v->nested;
    uint64_t v = 0;
    if (n->current)
        vmcs12_read(&n->current->v, field, ~0u, &v);
    return v;
}

static uint64_t pick_value(struct fin *f, uint64_t field)
{
    uint8_t m = fin_u8(f);
    if (m < 0x40)
        return fin_u64(f);
    if (m < 0xa0)
        return current_value(field) ^ BIT(m & 63);
    if (m < 0xc0)
        return current_value(field) & ~(uint64_t)fin_u32(f);
    if (m < 0xe0)
        return current_value(field) | fin_u32(f);
    return fin_u8(f);
}

static bool force_fail_next;

static void l1_entry(uint32_t reason)
{
    env_l1_vmx_exit(reason, env_reg_info(0, 0, true), 0);
    if (E.v->nested.in_l2 && !E.v->stopped) {
        env_enter_l2(force_fail_next);
        force_fail_next = false;
    }
}

/* The VMX instructions, with memory operands at the scratch page (or raw encodings). */
static void l1_op(uint8_t op, struct fin *f)
{
    struct vcpu *v = E.v;
    switch (op % 16) {
    case 0: env_l1_vmx_exit(EXIT_VMXON, env_mem_operand(pick_addr(f), 0, 0), 0); break;
    case 1: env_l1_vmx_exit(EXIT_VMXOFF, 0, 0); break;
    case 2: env_l1_vmx_exit(EXIT_VMCLEAR, env_mem_operand(pick_addr(f), 0, 0), 0); break;
    case 3: env_l1_vmx_exit(EXIT_VMPTRLD, env_mem_operand(pick_addr(f), 0, 0), 0); break;
    case 4: env_l1_vmx_exit(EXIT_VMPTRST, env_mem_operand(0, 0, fin_u16(f)), 0); break;
    case 5: {
        uint8_t how = fin_u8(f);
        v->regs.gpr[GPR_RDX] = pick_field(f);
        if (how & 1)
            env_l1_vmx_exit(EXIT_VMREAD, env_reg_info(how >> 4, GPR_RDX, true), 0);
        else
            env_l1_vmx_exit(EXIT_VMREAD, env_mem_operand(0, 0, how) | ((uint32_t)GPR_RDX << 28), 0);
        break;
    }
    case 6: {
        uint8_t how = fin_u8(f);
        uint64_t field = pick_field(f), value = pick_value(f, field);
        v->regs.gpr[GPR_RDX] = field;
        if (how & 1) {
            v->regs.gpr[GPR_RCX] = value;
            env_l1_vmx_exit(EXIT_VMWRITE, env_reg_info(GPR_RCX, GPR_RDX, true), 0);
        } else {
            env_l1_vmx_exit(EXIT_VMWRITE, env_mem_operand(value, 0, how) | ((uint32_t)GPR_RDX << 28), 0);
        }
        break;
    }
    case 7: l1_entry(EXIT_VMLAUNCH); break;
    case 8: l1_entry(EXIT_VMRESUME); break;
    case 9: {
        uint8_t t = fin_u8(f);
        uint64_t eptp = (t & 0x10) ? fin_u64(f) : (t & 0x20) ? current_value(VMCS_EPT_POINTER) : env_build_ept12();
        v->regs.gpr[GPR_RDX] = t & 3;
        env_l1_vmx_exit(EXIT_INVEPT, env_mem_operand(eptp, (t & 0x40) ? fin_u64(f) : 0, 0) | ((uint32_t)GPR_RDX << 28), 0);
        break;
    }
    case 10: {
        uint8_t t = fin_u8(f);
        uint64_t vpid = (t & 0x10) ? fin_u64(f) : fin_u8(f), lin = (t & 0x20) ? fin_u64(f) : 0x400000;
        v->regs.gpr[GPR_RDX] = t & 3;
        env_l1_vmx_exit(EXIT_INVVPID, env_mem_operand(vpid, lin, 0) | ((uint32_t)GPR_RDX << 28), 0);
        break;
    }
    case 11: { /* L1 writes its own memory: vmcs12 regions, EPT12, MSR areas, bitmaps, page tables */
        static const gpa_t bases[] = {0x10000, L1_EPT12_GPA, L1_MSR_AREA_GPA, L1_BITMAP_GPA, L1_PT_GPA, 0};
        static const uint32_t msrs[] = {MSR_IA32_EFER, MSR_IA32_PAT, MSR_IA32_DEBUGCTL, MSR_IA32_SYSENTER_CS,
                                        MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_IA32_FS_BASE,
                                        MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE, MSR_IA32_TSC, MSR_IA32_APIC_BASE,
                                        MSR_IA32_FEATURE_CONTROL, MSR_IA32_MTRR_DEF_TYPE, 0x802, 0x8b, 0x1a0,
                                        MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_TSC_AUX, 0x480, 0x174, 0x10a};
        uint8_t s = fin_u8(f);
        if (s >= 0xc0) { /* one MSR-area entry (SDM 24.7.2): an index worth trying, a value, maybe the count */
            gpa_t at = L1_MSR_AREA_GPA + 0x100 * (s % 3) + 16 * (fin_u8(f) % 4);
            uint32_t e[4] = {msrs[fin_u8(f) % 22], (s & 8) ? fin_u32(f) : 0};
            uint64_t val = fin_u64(f);
            memcpy(&e[2], &val, 8);
            memcpy(env_l1_ptr(at), e, sizeof e);
            if ((s & 0x30) && v->nested.current) {
                static const uint32_t counts[] = {VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_LOAD_COUNT,
                                                  VMCS_ENTRY_MSR_LOAD_COUNT};
                env_l1_vmwrite(counts[s % 3], (s & 0x20) ? 4 : 600);
            }
            break;
        }
        gpa_t at = (bases[s % 6] + ((uint64_t)fin_u16(f) << 3)) % (L1_RAM_SIZE - 8);
        uint64_t val = fin_u64(f);
        memcpy(env_l1_ptr(at), &val, 8);
        break;
    }
    case 12: {
        uint8_t s = fin_u8(f);
        env_write_good_vmcs12(s & 7, !(s & 0x10), !(s & 0x20), !(s & 0x40), !(s & 0x80), s & 8, s & 1);
        break;
    }
    case 13: { /* any VMX instruction with raw instruction information, qualification and registers */
        static const uint32_t reasons[] = {EXIT_VMXON, EXIT_VMXOFF, EXIT_VMCLEAR, EXIT_VMPTRLD, EXIT_VMPTRST,
                                           EXIT_VMREAD, EXIT_VMWRITE, EXIT_INVEPT, EXIT_INVVPID};
        uint32_t reason = reasons[fin_u8(f) % 9], info = fin_u32(f);
        uint64_t qual = fin_u64(f);
        for (unsigned i = 0; i < 4; i++)
            v->regs.gpr[fin_u8(f) & 15] = fin_u64(f);
        env_l1_vmx_exit(reason, info, qual);
        break;
    }
    case 14: { /* L1's state changes between instructions (MOV SS blocking, segment bases/limits, CPL) */
        static const uint32_t l1_fields[] = {VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT,
                                             VMCS_GUEST_DS_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_RFLAGS,
                                             VMCS_GUEST_PAT, VMCS_GUEST_EFER, VMCS_GUEST_DR7, VMCS_GUEST_DEBUGCTL,
                                             VMCS_GUEST_CR3, VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, VMCS_GUEST_CR4,
                                             VMCS_CR4_READ_SHADOW, VMCS_GUEST_PDPTE0, VMCS_ENTRY_CONTROLS};
        uint32_t fld = l1_fields[fin_u8(f) % 18];
        uint64_t val = fin_u64(f);
        fake_vmcs_set(v->vmcs, fld, val);
        break;
    }
    case 15: {
        uint8_t b = fin_u8(f);
        if (b & 0x80)
            env_set_paging(b % 5); /* L1 moves to another paging mode */
        else
            force_fail_next = true; /* the CPU refuses the next vmcs02 */
        break;
    }
    }
}

static const uint32_t l2_reasons[] = {
    EXIT_EXCEPTION_NMI, EXIT_EXTERNAL_INTERRUPT, EXIT_TRIPLE_FAULT, EXIT_INTERRUPT_WINDOW, EXIT_CPUID, EXIT_HLT,
    EXIT_VMCALL, EXIT_CR_ACCESS, EXIT_IO_INSTRUCTION, EXIT_RDMSR, EXIT_WRMSR, EXIT_EPT_VIOLATION,
    EXIT_EPT_MISCONFIG, EXIT_PREEMPTION_TIMER, EXIT_XSETBV, EXIT_VMPTRLD, EXIT_INVLPG, EXIT_RDTSC,
    EXIT_DR_ACCESS, EXIT_PAUSE, EXIT_NMI_WINDOW, EXIT_INVD, EXIT_WBINVD,
};
#define NL2 (sizeof l2_reasons / sizeof l2_reasons[0])

static void l2_op(uint8_t op, struct fin *f)
{
    struct vcpu *v = E.v;
    switch (op % 8) {
    case 0: {
        uint8_t r = fin_u8(f);
        uint32_t reason = r < NL2 * 4 ? l2_reasons[r % NL2] : fin_u16(f);
        const struct vmcs12 *v12 = &v->nested.current->v;
        bool ept12 = (V12(v12, VMCS_PROC_CONTROLS) & PROC_SECONDARY_CONTROLS) &&
                     (V12(v12, VMCS_PROC_CONTROLS2) & PROC2_ENABLE_EPT);
        if (ept12 && EXIT_REASON_BASIC(reason) == EXIT_EPT_MISCONFIG)
            break; /* only a bad EPT02 entry makes the CPU report that: env_check_ept02() looks for those */
        env_l2_exit(reason, fin_u64(f), fin_u32(f), fin_u32(f), fin_u32(f));
        break;
    }
    case 1: { /* EPT violation: mostly inside the first 4 MiB */
        uint8_t q = fin_u8(f);
        uint64_t gpa2 = (q & 0x80) ? fin_u64(f) : (uint64_t)fin_u16(f) << 6;
        env_l2_exit(EXIT_EPT_VIOLATION, (q & 0x87) | ((uint64_t)(q & 0x18) << 4) | ((q & 0x20) ? BIT(12) : 0), 0,
                    (q & 0x40) ? fin_u32(f) : 0, gpa2);
        break;
    }
    case 2: {
        uint16_t port = fin_u16(f);
        uint8_t s = fin_u8(f);
        env_l2_exit(EXIT_IO_INSTRUCTION, ((uint64_t)port << 16) | (s & 0x3b), 0, 0, 0);
        break;
    }
    case 3: {
        static const uint32_t msrs[] = {MSR_IA32_EFER, MSR_IA32_PAT, MSR_IA32_APIC_BASE, MSR_IA32_FEATURE_CONTROL,
                                        MSR_IA32_VMX_BASIC, 0x10, 0x1b, 0x3a, 0x174, 0x277, 0x2ff, 0xc0000100,
                                        0xc0000102, 0x40000000, 0x1fff, 0x2000, 0xc0001fff, 0xc0002000};
        uint8_t s = fin_u8(f);
        v->regs.gpr[GPR_RCX] = (s & 0x80) ? fin_u32(f) : msrs[s % 18];
        env_l2_exit((s & 1) ? EXIT_WRMSR : EXIT_RDMSR, 0, 0, 0, 0);
        break;
    }
    case 4: { /* L2 ran: its state in vmcs02 changed */
        uint8_t s = fin_u8(f);
        fake_vmcs_set(v->nested.vmcs02, vmcs12_guest_fields[s % vmcs12_guest_field_count], fin_u64(f));
        break;
    }
    case 5: {
        gpa_t at = ((uint64_t)fin_u16(f) << 3) % (L1_RAM_SIZE - 8);
        uint64_t val = fin_u64(f);
        memcpy(env_l1_ptr(at), &val, 8);
        break;
    }
    case 6: { /* exception or NMI in L2 */
        uint8_t vec = fin_u8(f), t = fin_u8(f);
        uint32_t info = (vec & 31) | ((uint32_t)(t & 7) << 8) | ((t & 8) ? INTR_INFO_ERROR_CODE_VALID : 0) |
                        INTR_INFO_VALID;
        env_l2_exit(EXIT_EXCEPTION_NMI, fin_u32(f), info, (t & 0x10) ? fin_u32(f) : 0, 0);
        break;
    }
    case 7: /* the CPU's own VM-entry failure on vmcs02 (a check Nestor lacks) */
        env_l2_exit(EXIT_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE, fin_u8(f) & 3, 0, 0, 0);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin f = {data, size};
    env_reset(fin_u8(&f));
    force_fail_next = false;
    for (unsigned step = 0; step < 512 && !fin_empty(&f) && !E.v->stopped; step++) {
        uint8_t op = fin_u8(&f);
        if (E.v->nested.in_l2)
            l2_op(op, &f);
        else
            l1_op(op, &f);
        env_check_l1_state();
    }
    nested_stats_print(E.v); /* what Nestor prints at the end of a run, over whatever happened */
    return 0;
}
