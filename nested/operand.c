/*
 * Operands of L1's VMX instructions. Registers and memory operands are
 * decoded from the VM-exit instruction information (SDM 27.2.5) and the
 * exit qualification (the displacement, 27.2.1); the linear address gets the
 * segmentation checks of SDM vol. 3A 5.3 and 3.4 (canonical in 64-bit mode,
 * limits otherwise) and is translated through L1's own page tables
 * (nested/guest_walk.c), so faults reach L1 as the CPU would raise them.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/entry_checks.h"
#include "nestor/guest_walk.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/operand_addr.h"
#include "nestor/physmem.h"
#include "nestor/vmx_ops.h"


void l1_phys_read(struct vcpu *v, gpa_t gpa, void *buf, size_t n)
{
    if (!gmem_read(&v->vm->ept, gpa, buf, n))
        memset(buf, 0xff, n);
}

uint64_t l1_phys_read_u64(struct vcpu *v, gpa_t gpa)
{
    struct nested_vmx *n = &v->nested;
    uint64_t page = gpa >> PAGE_SHIFT;
    unsigned i = (unsigned)page % ARRAY_SIZE(n->l1_tlb.page);
    if (!(gpa & 7) && n->l1_tlb.page[i] == page + 1)
        return *(const uint64_t *)phys_to_virt(n->l1_tlb.hpa[i] | (gpa & (PAGE_SIZE - 1)));
    struct ept_walk w;
    if ((gpa & 7) || !ept_walk(&v->vm->ept, gpa, &w) || !(w.perms & EPT_R)) {
        uint64_t e;
        l1_phys_read(v, gpa, &e, sizeof e); /* unaligned, or not L1's: the general path decides */
        return e;
    }
    n->l1_tlb.page[i] = page + 1;
    n->l1_tlb.hpa[i] = w.hpa & ~(paddr_t)(PAGE_SIZE - 1);
    return *(const uint64_t *)phys_to_virt(w.hpa);
}

void l1_phys_write(struct vcpu *v, gpa_t gpa, const void *buf, size_t n)
{
    (void)gmem_write(&v->vm->ept, gpa, buf, n);
}

static bool io_read(void *ctx, gpa_t gpa, void *buf, size_t n)
{
    l1_phys_read(ctx, gpa, buf, n);
    return true;
}

static bool io_write(void *ctx, gpa_t gpa, const void *buf, size_t n)
{
    l1_phys_write(ctx, gpa, buf, n);
    return true;
}

uint64_t vmx_operand_reg_read(struct vcpu *v, unsigned reg)
{
    uint64_t value = vcpu_gpr_read(v, reg);
    return l1_long_mode_code() ? value : value & 0xffffffffull;
}

void vmx_operand_reg_write(struct vcpu *v, unsigned reg, uint64_t value)
{
    vcpu_gpr_write(v, reg, l1_long_mode_code() ? value : value & 0xffffffffull);
}

/* Effective address -> linear address (nested/operand_addr.c); false: a fault was injected. */
static bool linear_address(struct vcpu *v, uint32_t info, uint64_t disp, size_t n, bool write, uint64_t *out)
{
    struct operand_ctx c;
    for (unsigned i = 0; i < 16; i++)
        c.gpr[i] = vcpu_gpr_read(v, i);
    c.long_mode = l1_long_mode_code();
    c.la57 = vmread(VMCS_GUEST_CR4) & BIT(12); /* CR4.LA57 */
    for (unsigned s = 0; s < 6; s++) {
        c.seg[s].base = vmread(VMCS_GUEST_ES_BASE + 2 * s);
        c.seg[s].limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * s);
        c.seg[s].ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * s);
    }
    switch (operand_linear(&c, info, disp, n, write, out)) {
    case OPERAND_OK:
        return true;
    case OPERAND_SS:
        vcpu_inject_exception(v, VEC_SS, true, 0);
        return false;
    default:
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return false;
    }
}

static bool access(struct vcpu *v, uint32_t info, uint64_t qual, void *buf, size_t n, bool write)
{
    uint64_t lin;
    if (!linear_address(v, info, qual, n, write, &lin))
        return false;
    struct paging_ctx pc;
    vcpu_paging_ctx(&pc);
    struct gpa_io io = {io_read, io_write, v};
    /* Translate every page the operand touches before touching any (no partial writes). */
    gpa_t gpa[2];
    size_t first = MIN(n, (size_t)(PAGE_SIZE - (lin & (PAGE_SIZE - 1))));
    for (int i = 0; i < (first < n ? 2 : 1); i++) {
        uint64_t at = i ? lin + first : lin;
        uint32_t err;
        if (guest_walk(&pc, &io, at, write, &gpa[i], &err) != WALK_OK) {
            v->regs.cr2 = at;
            vcpu_inject_exception(v, VEC_PF, true, err);
            return false;
        }
    }
    uint8_t *b = buf;
    if (write) {
        l1_phys_write(v, gpa[0], b, first);
        if (first < n)
            l1_phys_write(v, gpa[1], b + first, n - first);
    } else {
        l1_phys_read(v, gpa[0], b, first);
        if (first < n)
            l1_phys_read(v, gpa[1], b + first, n - first);
    }
    return true;
}

bool vmx_operand_mem_read(struct vcpu *v, uint32_t info, uint64_t qual, void *buf, size_t n)
{
    return access(v, info, qual, buf, n, false);
}

bool vmx_operand_mem_write(struct vcpu *v, uint32_t info, uint64_t qual, const void *buf, size_t n)
{
    return access(v, info, qual, (void *)(uintptr_t)buf, n, true);
}
