/*
 * L1 as the GDB stub shows it: registers from VMCS01 and the saved GPRs,
 * memory by guest-virtual address through L1's own page tables and EPT01,
 * software breakpoints as int3 bytes in L1's memory (#BP is intercepted while
 * the stub is on). While L2 runs, the stub shows L1 as it will resume at the
 * next exit from L2: vmcs12's host state, read-only.
 *
 * Every value here comes from the debugger (a person, or whoever is on COM2):
 * a register is written only when the next VM entry's guest-state checks
 * (SDM 26.3.1) would accept it, and memory is touched only where L1 has RAM.
 */
#include "nestor/arch.h"
#include "nestor/gdb_proto.h"
#include "nestor/gdb_stub.h"
#include "nestor/guest_walk.h"
#include "nestor/l1.h"
#include "nestor/log.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define MAX_BREAKPOINTS 64
#define INT3 0xcc

struct breakpoint {
    bool used;
    uint64_t addr; /* what the debugger named: L1's virtual address */
    gpa_t gpa;     /* where the int3 went, whatever L1's page tables say later */
    uint8_t orig;
};
static struct breakpoint bps[MAX_BREAKPOINTS];

static const enum gpr gpr_of[] = {
    [X86R_RAX] = GPR_RAX, [X86R_RBX] = GPR_RBX, [X86R_RCX] = GPR_RCX, [X86R_RDX] = GPR_RDX,
    [X86R_RSI] = GPR_RSI, [X86R_RDI] = GPR_RDI, [X86R_RBP] = GPR_RBP, [X86R_RSP] = GPR_RSP,
    [X86R_R8] = GPR_R8,   [X86R_R9] = GPR_R9,   [X86R_R10] = GPR_R10, [X86R_R11] = GPR_R11,
    [X86R_R12] = GPR_R12, [X86R_R13] = GPR_R13, [X86R_R14] = GPR_R14, [X86R_R15] = GPR_R15,
};

static const struct vmcs12 *l1_pending(struct vcpu *v) { return &v->nested.current->v; }

/* L1's view of a CR0/CR4 whose host-owned bits it reads from the read shadow (SDM 25.3). */
static uint64_t shadowed(uint32_t guest, uint32_t shadow, uint32_t mask)
{
    return (vmread(guest) & ~vmread(mask)) | (vmread(shadow) & vmread(mask));
}

static bool get_reg(void *ctx, enum gdb_x86_reg r, uint64_t *val)
{
    struct vcpu *v = ctx;
    if (r <= X86R_R15 && r != X86R_RSP) {
        *val = v->regs.gpr[gpr_of[r]]; /* L1's, or L2's which are L1's after the next exit (VMX saves no GPRs) */
        return true;
    }
    if (r == X86R_CR2) {
        *val = v->regs.cr2;
        return true;
    }
    if (v->nested.in_l2) {
        const struct vmcs12 *h = l1_pending(v);
        uint32_t exit12 = (uint32_t)V12(h, VMCS_EXIT_CONTROLS);
        switch (r) {
        case X86R_RSP: *val = V12(h, VMCS_HOST_RSP); return true;
        case X86R_RIP: *val = V12(h, VMCS_HOST_RIP); return true;
        case X86R_RFLAGS: *val = 0x2; return true; /* a VM exit clears RFLAGS (SDM 27.5.3) */
        case X86R_CS: *val = V12(h, VMCS_HOST_CS_SEL); return true;
        case X86R_SS: *val = V12(h, VMCS_HOST_SS_SEL); return true;
        case X86R_DS: *val = V12(h, VMCS_HOST_DS_SEL); return true;
        case X86R_ES: *val = V12(h, VMCS_HOST_ES_SEL); return true;
        case X86R_FS: *val = V12(h, VMCS_HOST_FS_SEL); return true;
        case X86R_GS: *val = V12(h, VMCS_HOST_GS_SEL); return true;
        case X86R_FS_BASE: *val = V12(h, VMCS_HOST_FS_BASE); return true;
        case X86R_GS_BASE: *val = V12(h, VMCS_HOST_GS_BASE); return true;
        case X86R_CR0: *val = V12(h, VMCS_HOST_CR0); return true;
        case X86R_CR3: *val = V12(h, VMCS_HOST_CR3); return true;
        case X86R_CR4: *val = V12(h, VMCS_HOST_CR4); return true;
        case X86R_EFER:
            *val = V12(h, VMCS_HOST_EFER);
            return exit12 & EXIT_LOAD_EFER; /* else L1's EFER is not at hand: unavailable */
        default: return false;
        }
    }
    switch (r) {
    case X86R_RSP: *val = vmread(VMCS_GUEST_RSP); return true;
    case X86R_RIP: *val = vmread(VMCS_GUEST_RIP); return true;
    case X86R_RFLAGS: *val = vmread(VMCS_GUEST_RFLAGS); return true;
    case X86R_CS: *val = vmread(VMCS_GUEST_CS_SEL); return true;
    case X86R_SS: *val = vmread(VMCS_GUEST_SS_SEL); return true;
    case X86R_DS: *val = vmread(VMCS_GUEST_DS_SEL); return true;
    case X86R_ES: *val = vmread(VMCS_GUEST_ES_SEL); return true;
    case X86R_FS: *val = vmread(VMCS_GUEST_FS_SEL); return true;
    case X86R_GS: *val = vmread(VMCS_GUEST_GS_SEL); return true;
    case X86R_FS_BASE: *val = vmread(VMCS_GUEST_FS_BASE); return true;
    case X86R_GS_BASE: *val = vmread(VMCS_GUEST_GS_BASE); return true;
    case X86R_CR0: *val = shadowed(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, VMCS_CR0_GUEST_HOST_MASK); return true;
    case X86R_CR3: *val = vmread(VMCS_GUEST_CR3); return true;
    case X86R_CR4: *val = shadowed(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, VMCS_CR4_GUEST_HOST_MASK); return true;
    case X86R_EFER: *val = vmread(VMCS_GUEST_EFER); return true;
    default: return false;
    }
}

static bool code64(void)
{
    return (vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) && (vmread(VMCS_GUEST_CS_AR) & VMX_AR_L);
}


/*
 * 26.3.1.5: in the HLT activity state or under blocking by STI or MOV SS, the pending
 * BS debug exception must equal RFLAGS.TF (with DEBUGCTL.BTF clear), or the next VM entry
 * fails. The stub sets TF to single-step; keep BS in step with it.
 */
void gdb_target_sync_pending_bs(void)
{
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (vmread(VMCS_GUEST_ACTIVITY_STATE) != ACTIVITY_HLT && !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
        return;
    bool bs = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF) && !(vmread(VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF);
    uint64_t pending = vmread(VMCS_GUEST_PENDING_DBG);
    vmwrite(VMCS_GUEST_PENDING_DBG, bs ? pending | DR6_BS : pending & ~(uint64_t)DR6_BS);
}

/* RFLAGS bits that must be 0 at VM entry: 63:22, 15, 5, 3 (SDM 26.3.1.4); bit 1 must be 1. */
#define RFLAGS_RESERVED (~0x3fffffull | BIT(15) | BIT(5) | BIT(3))

static bool set_reg(void *ctx, enum gdb_x86_reg r, uint64_t val)
{
    struct vcpu *v = ctx;
    if (v->nested.in_l2) {
        log_warn("gdb: register write refused: L2 is running, L1's registers are read-only until it exits");
        return false;
    }
    if (r <= X86R_R15 && r != X86R_RSP) {
        v->regs.gpr[gpr_of[r]] = val;
        return true;
    }
    switch (r) {
    case X86R_RSP:
        vmwrite(VMCS_GUEST_RSP, val);
        return true;
    case X86R_RIP:
        if (code64() ? !is_canonical_for(val, vmread(VMCS_GUEST_CR4) & CR4_LA57) : (val >> 32) != 0) {
            log_warn("gdb: RIP 0x%lx refused: 26.3.1.4 RIP bits beyond the linear-address width must be 0 or "
                     "canonical", val);
            return false;
        }
        vmwrite(VMCS_GUEST_RIP, val);
        /* A CPU the debugger moves is no longer halted where it was: it runs from the new RIP. */
        if (vmread(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
            vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
        return true;
    case X86R_RFLAGS:
        if (val & RFLAGS_RESERVED) {
            log_warn("gdb: RFLAGS 0x%lx refused: 26.3.1.4 RFLAGS reserved bits must be 0", val);
            return false;
        }
        if ((val & RFLAGS_VM) && ((vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) ||
                                  !(vmread(VMCS_GUEST_CR0) & CR0_PE))) {
            log_warn("gdb: RFLAGS 0x%lx refused: 26.3.1.4 RFLAGS.VM must be 0 in IA-32e mode or with CR0.PE = 0",
                     val);
            return false;
        }
        vmwrite(VMCS_GUEST_RFLAGS, val | BIT(1));
        gdb_target_sync_pending_bs();
        return true;
    default:
        /* Selectors, bases, control registers: their hidden state would have to change too. */
        log_warn("gdb: register write refused: only general-purpose registers, RIP and RFLAGS are writable");
        return false;
    }
}

/* ---- memory ---- */

/* Where the debugger may look: L1's RAM and its low megabyte, never device space (a read could have effects). */
static bool gpa_is_ram(struct vcpu *v, gpa_t gpa, size_t n)
{
    if (gpa + n < gpa)
        return false;
    if (gpa + n <= 0x100000)
        return true;
    const struct l1_memplan *m = &v->vm->mem;
    for (unsigned i = 0; i < m->ram_count; i++)
        if (gpa >= m->ram[i].gpa && gpa + n <= m->ram[i].gpa + m->ram[i].size)
            return true;
    return false;
}

static bool walk_read(void *ctx, gpa_t gpa, void *buf, size_t n)
{
    struct vcpu *v = ctx;
    return gpa_is_ram(v, gpa, n) && gmem_read(&v->vm->ept, gpa, buf, n);
}

/* The debugger's walks leave L1's accessed and dirty bits as they were. */
static bool walk_no_write(void *ctx, gpa_t gpa, const void *buf, size_t n)
{
    (void)ctx, (void)gpa, (void)buf, (void)n;
    return true;
}

/* The paging state L1 runs with now, or resumes with after L2's next exit (vmcs12's host state). */
static void l1_paging(struct vcpu *v, struct paging_ctx *pc)
{
    if (!v->nested.in_l2) {
        vcpu_paging_ctx(pc);
    } else {
        const struct vmcs12 *h = l1_pending(v);
        uint32_t exit12 = (uint32_t)V12(h, VMCS_EXIT_CONTROLS);
        bool lm = exit12 & EXIT_HOST_ADDR_SPACE_SIZE;
        *pc = (struct paging_ctx){
            .cr0 = V12(h, VMCS_HOST_CR0),
            .cr3 = V12(h, VMCS_HOST_CR3),
            .cr4 = V12(h, VMCS_HOST_CR4),
            .efer = (exit12 & EXIT_LOAD_EFER) ? V12(h, VMCS_HOST_EFER) : lm ? EFER_LME | EFER_LMA | EFER_NXE : 0,
            .maxphyaddr_mask = g_vmx_caps.phys_addr_mask,
        };
        if ((pc->cr4 & CR4_PAE) && !lm) /* PAE: the PDPTEs the exit would load from CR3 (SDM 27.5.4) */
            walk_read(v, pc->cr3 & ~0x1full, pc->pdpte, sizeof pc->pdpte);
    }
    pc->cpl = 0;           /* the debugger reads what the kernel could */
    pc->rflags_ac = true;  /* ... user pages included (no SMAP check) */
}

/* A linear address of L1's to its guest-physical address (and the bytes left on that page). */
static bool translate(struct vcpu *v, const struct paging_ctx *pc, uint64_t lin, gpa_t *gpa)
{
    struct gpa_io io = {walk_read, walk_no_write, v};
    uint32_t err;
    if (!(pc->efer & EFER_LMA))
        lin &= 0xffffffffull;
    return guest_walk(pc, &io, lin, false, gpa, &err) == WALK_OK;
}

typedef bool (*chunk_fn)(struct vcpu *v, gpa_t gpa, uint8_t *buf, size_t n);

static size_t for_each_page(struct vcpu *v, uint64_t addr, uint8_t *buf, size_t n, chunk_fn fn)
{
    struct paging_ctx pc;
    l1_paging(v, &pc);
    size_t done = 0;
    while (done < n) {
        uint64_t lin = addr + done;
        size_t chunk = MIN(n - done, (size_t)(PAGE_SIZE - (lin & (PAGE_SIZE - 1))));
        gpa_t gpa;
        if (!translate(v, &pc, lin, &gpa) || !gpa_is_ram(v, gpa, chunk) || !fn(v, gpa, buf + done, chunk))
            break;
        done += chunk;
    }
    return done;
}

/* Reads show L1's own bytes where a breakpoint's int3 sits (as gdbserver does). */
static bool read_chunk(struct vcpu *v, gpa_t gpa, uint8_t *buf, size_t n)
{
    if (!gmem_read(&v->vm->ept, gpa, buf, n))
        return false;
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used && bps[i].gpa >= gpa && bps[i].gpa < gpa + n)
            buf[bps[i].gpa - gpa] = bps[i].orig;
    return true;
}

/* A write over a breakpoint changes the byte it restores; the int3 stays. */
static bool write_chunk(struct vcpu *v, gpa_t gpa, uint8_t *buf, size_t n)
{
    if (!gmem_write(&v->vm->ept, gpa, buf, n))
        return false;
    static const uint8_t int3 = INT3;
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used && bps[i].gpa >= gpa && bps[i].gpa < gpa + n) {
            bps[i].orig = buf[bps[i].gpa - gpa];
            gmem_write(&v->vm->ept, bps[i].gpa, &int3, 1);
        }
    return true;
}

static size_t read_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t n)
{
    return for_each_page(ctx, addr, buf, n, read_chunk);
}

static size_t write_mem(void *ctx, uint64_t addr, const uint8_t *buf, size_t n)
{
    return for_each_page(ctx, addr, (uint8_t *)buf, n, write_chunk);
}

/* ---- breakpoints ---- */

static bool insert_bp(void *ctx, uint64_t addr)
{
    struct vcpu *v = ctx;
    struct breakpoint *free_slot = NULL;
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++) {
        if (bps[i].used && bps[i].addr == addr)
            return true;
        if (!bps[i].used && !free_slot)
            free_slot = &bps[i];
    }
    struct paging_ctx pc;
    l1_paging(v, &pc);
    gpa_t gpa;
    uint8_t orig;
    static const uint8_t int3 = INT3;
    if (!free_slot || !translate(v, &pc, addr, &gpa) || !gpa_is_ram(v, gpa, 1) ||
        !gmem_read(&v->vm->ept, gpa, &orig, 1) || !gmem_write(&v->vm->ept, gpa, &int3, 1))
        return false;
    *free_slot = (struct breakpoint){true, addr, gpa, orig};
    log_debug("gdb: breakpoint at 0x%lx (guest-physical 0x%lx)", addr, gpa);
    return true;
}

static void restore(struct vcpu *v, struct breakpoint *b)
{
    gmem_write(&v->vm->ept, b->gpa, &b->orig, 1);
    b->used = false;
}

static bool remove_bp(void *ctx, uint64_t addr)
{
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used && bps[i].addr == addr) {
            restore(ctx, &bps[i]);
            return true;
        }
    return false;
}

void gdb_target_remove_all(struct vcpu *v)
{
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used)
            restore(v, &bps[i]);
}

uint64_t gdb_target_pc_linear(void)
{
    uint64_t lin = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
    return code64() ? lin : lin & 0xffffffffull;
}

bool gdb_target_is_breakpoint(struct vcpu *v, uint64_t linear)
{
    struct paging_ctx pc;
    gpa_t gpa;
    l1_paging(v, &pc);
    if (!translate(v, &pc, linear, &gpa))
        return false;
    for (unsigned i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used && bps[i].gpa == gpa)
            return true;
    return false;
}

const struct gdb_target_ops gdb_l1_ops = {get_reg, set_reg, read_mem, write_mem, insert_bp, remove_bp};
