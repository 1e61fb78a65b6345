/*
 * Fuzz target: the EPT12 walker and the shadow EPT02 fill (nested/ept02.c,
 * ept/ept12_walk.c) with random EPT12 trees: loops, reserved bits, huge pages
 * over holes, tables outside L1's memory, a random EPTP. After every fill
 * l1env.c checks EPT02 ⊆ EPT12 ∩ EPT01 for the address filled and that every
 * EPT02 leaf maps L1's memory only, never with more rights than EPT01 gives.
 */
#include <string.h>

#include "../../nested/nested_internal.h"
#include "fakecpu.h"
#include "l1env.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_ops.h"

#define EPT12_PAGES 8

/* An EPT12 entry: its address mostly one of the table pages, RAM, the ROM page or the hole. */
static uint64_t pick_entry(struct fin *f)
{
    uint8_t s = fin_u8(f), a = fin_u8(f);
    uint64_t addr;
    switch (s >> 6) {
    case 0: addr = L1_EPT12_GPA + PAGE_SIZE * (a % EPT12_PAGES); break;
    case 1: addr = (uint64_t)a << 12; break;                      /* RAM (and the ROM page at 1 MiB) */
    case 2: addr = ((uint64_t)a << 21) | (((uint64_t)(a & 3)) << 30); break; /* large-page aligned */
    default: return fin_u64(f);
    }
    return addr | (s & 0x3f) | ((uint64_t)(fin_u8(f) & 0x1f) << 6); /* RWX, memory type, ignore-PAT, large, A/D */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin f = {data, size};
    uint8_t cfg = fin_u8(&f);
    env_reset(cfg & (CFG_SHADOWING | CFG_NO_VPID));
    if (!(cfg & 1))
        env_add_high_ram(); /* 2 MiB EPT01 pages: shadows of 2 MiB EPT12 pages can be large too */
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    env_l1_vmx_exit(EXIT_VMXON, env_mem_operand(L1_VMXON_GPA, 0, 0), 0);
    env_write_good_vmcs12(0, true, true, true, !(fin_u8(&f) & 1), true, false);
    if (!n->current)
        return 0;
    /* L1's EPT12: the identity map env_build_ept12() made, then entries from the input. */
    for (unsigned i = fin_u8(&f) % 32; i; i--) {
        uint16_t at = fin_u16(&f);
        uint64_t e = pick_entry(&f);
        memcpy(env_l1_ptr(L1_EPT12_GPA + PAGE_SIZE * ((at >> 9) % EPT12_PAGES) + 8 * (at & 511)), &e, 8);
    }
    uint8_t how = fin_u8(&f);
    if (how & 1) /* another EPTP: memory type, walk length, A/D, a different root */
        env_l1_vmwrite(VMCS_EPT_POINTER, (L1_EPT12_GPA + PAGE_SIZE * ((how >> 1) % EPT12_PAGES)) | fin_u8(&f));
    if (cfg & 2) /* Nestor's memory runs low: shadows are dropped and refilled (EPT02_MIN_FREE_PAGES) */
        env_squeeze_memory(EPT02_MIN_FREE_PAGES + fin_u8(&f) % 16);
    env_l1_vmx_exit(EXIT_VMLAUNCH, 0, 0);
    if (!n->in_l2)
        return 0;
    env_enter_l2(false);
    for (unsigned step = 0; step < 64 && !fin_empty(&f) && !v->stopped; step++) {
        if (!n->in_l2) {
            env_l1_vmx_exit(EXIT_VMRESUME, 0, 0);
            if (!n->in_l2 || v->stopped)
                return 0;
            env_enter_l2(false);
        }
        uint8_t op = fin_u8(&f);
        switch (op % 4) {
        case 0:
        case 1: { /* an EPT violation: read, write or fetch at an L2 address */
            uint8_t q = fin_u8(&f);
            uint64_t gpa2 = (op & 0x80) ? fin_u64(&f) & ((1ull << 40) - 1) : ((uint64_t)fin_u16(&f) << 8);
            env_l2_exit(EXIT_EPT_VIOLATION, (q & 0x87) | ((q & 0x40) ? BIT(12) : 0), 0,
                        (q & 0x20) ? (INTR_INFO_VALID | 0x30e) : 0, gpa2);
            break;
        }
        case 2: { /* L1 (another CPU) rewrites an EPT12 entry: no INVEPT */
            uint16_t at = fin_u16(&f);
            uint64_t e = pick_entry(&f);
            memcpy(env_l1_ptr(L1_EPT12_GPA + PAGE_SIZE * ((at >> 9) % EPT12_PAGES) + 8 * (at & 511)), &e, 8);
            break;
        }
        case 3: /* an exit L1 handles, then INVEPT from L1 */
            env_l2_exit(EXIT_CPUID, 0, 0, 0, 0);
            if (!n->in_l2 && !v->stopped) {
                v->regs.gpr[GPR_RDX] = (op & 4) ? INVEPT_ALL_CONTEXT : INVEPT_SINGLE_CONTEXT;
                env_l1_vmx_exit(EXIT_INVEPT,
                                env_mem_operand(V12(&n->current->v, VMCS_EPT_POINTER), 0, 0) | ((uint32_t)GPR_RDX << 28),
                                0);
            }
            break;
        }
    }
    return 0;
}
