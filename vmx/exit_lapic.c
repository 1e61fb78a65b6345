/*
 * L1's writes to its local APIC when L1 has more than one CPU. The APIC page
 * is mapped read-only in EPT01 (reads go to the real APIC), so each write
 * exits; Nestor decodes the store (vmx/lapic_decode.c) and
 *  - for an INIT or SIPI IPI (ICR, SDM vol. 3A 10.6.1), resolves the CPUs it
 *    reaches among L1's own (vmx/lapic_icr.c) and delivers it as a request to
 *    their vCPUs: an INIT or SIPI never reaches a physical CPU from L1, so a
 *    CPU L1 does not own cannot be started by it, and an L1 CPU is started by
 *    Nestor's own SIPI, taken as the SIPI VM exit (SDM 25.2);
 *  - does every other write to the real APIC, as L1 would have.
 * Why not let L1's INIT reach the CPU and take the INIT VM exit: Bochs 2.7
 * leaves that INIT pending after the exit, so the vCPU takes INIT exits
 * forever after; software delivery also keeps L1's IPIs away from the CPUs
 * it does not own. Each vCPU takes its requests after its next exit; the
 * VMX-preemption timer bounds how long a busy vCPU goes without one.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/guest_walk.h"
#include "nestor/lapic.h"
#include "nestor/lapic_emul.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define EFER_LMA BIT(10)

struct lapic_trap g_lapic_trap;

static volatile uint32_t *real_reg(unsigned off)
{
    return (volatile uint32_t *)((uint8_t *)phys_to_virt(g_lapic_trap.page) + off);
}

static bool l1_read(void *ctx, gpa_t gpa, void *buf, size_t n) { return gmem_read(ctx, gpa, buf, n); }
static bool l1_write(void *ctx, gpa_t gpa, const void *buf, size_t n) { return gmem_write(ctx, gpa, buf, n); }

/* Reads L1's instruction bytes at CS:RIP through its own page tables (at most two pages). */
static bool fetch(struct vcpu *v, uint8_t *buf, size_t *n)
{
    uint64_t lin = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
    struct paging_ctx pc;
    vcpu_paging_ctx(&pc);
    pc.cpl = 0; /* an instruction fetch the CPU just made: supervisor rights suffice to find it */
    if (!(pc.efer & EFER_LMA))
        lin &= 0xffffffffull;
    struct gpa_io io = {l1_read, l1_write, &v->vm->ept};
    size_t first = MIN((size_t)X86_MAX_INSN_LEN, (size_t)(PAGE_SIZE - (lin & (PAGE_SIZE - 1))));
    size_t got = 0;
    for (int page = 0; page < 2 && got < X86_MAX_INSN_LEN; page++) {
        size_t len = page ? X86_MAX_INSN_LEN - first : first;
        gpa_t gpa;
        uint32_t err;
        if (guest_walk(&pc, &io, lin + got, false, &gpa, &err) != WALK_OK ||
            !gmem_read(&v->vm->ept, gpa, buf + got, len))
            break;
        got += len;
    }
    *n = got;
    return got > 0;
}

static unsigned code_size(void)
{
    uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
    if ((vmread(VMCS_GUEST_EFER) & EFER_LMA) && (cs_ar & VMX_AR_L))
        return 64;
    if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
        return 16;
    return (cs_ar & VMX_AR_DB) ? 32 : 16;
}

/* Posts an INIT or SIPI for t; t takes it after its next exit (vcpu_take_ipis). */
static void post(struct vcpu *me, struct vcpu *t, unsigned mode, uint8_t vector, uint32_t apic_id)
{
    if (mode == ICR_DM_STARTUP) {
        t->sipi_vector = vector;
        __atomic_or_fetch(&t->ipi_pending, VCPU_IPI_SIPI, __ATOMIC_SEQ_CST);
        /* A CPU waiting for SIPI exits on a real one (SDM 25.2); one that runs ignores it and sees the request
         * at its next exit. */
        if (t != me)
            lapic_send_ipi(apic_id, ICR_STARTUP | vector);
    } else {
        __atomic_or_fetch(&t->ipi_pending, VCPU_IPI_INIT, __ATOMIC_SEQ_CST);
    }
}

static void send_init_sipi(struct vcpu *v, uint32_t lo)
{
    if (apic_icr_is_init_deassert(lo))
        return; /* does nothing on a CPU with an integrated APIC (SDM 10.6.1) */
    uint32_t hi = *real_reg(APIC_REG_ICR_HI);
    struct apic_view views[MAX_CPUS];
    struct vcpu *vcpus[MAX_CPUS];
    uint32_t ids[MAX_CPUS];
    unsigned n = 0, self = MAX_CPUS;
    for (unsigned i = 0; i < g_cpu_count && n < MAX_CPUS; i++) {
        struct vcpu *c = g_cpus[i]->vcpu;
        if (!c)
            continue;
        if (c == v)
            self = n;
        views[n] = (struct apic_view){g_cpus[i]->apic_id, c->lapic_ldr, c->lapic_dfr};
        ids[n] = g_cpus[i]->apic_id;
        vcpus[n++] = c;
    }
    uint64_t targets = apic_ipi_targets(lo, hi, views, n, self);
    unsigned mode = ICR_DELIVERY_MODE(lo);
    log_debug("L1 CPU %u sends %s (ICR 0x%x:%08x) to L1 CPUs 0x%lx", v->l1_index, mode == ICR_DM_INIT ? "INIT" : "SIPI",
              hi, lo, targets);
    for (unsigned i = 0; i < n; i++)
        if (targets & BIT(i))
            post(v, vcpus[i], mode, (uint8_t)ICR_VECTOR(lo), ids[i]);
}

enum exit_action lapic_write_exit(struct vcpu *v, gpa_t gpa)
{
    uint8_t bytes[X86_MAX_INSN_LEN];
    size_t n;
    struct apic_store st;
    const char *why = "its bytes could not be read";
    if (!fetch(v, bytes, &n) || !apic_store_decode(bytes, n, code_size(), &st, &why))
        return vcpu_stop(v, STATUS_L1_FAILED, true,
                         "L1 wrote its local APIC (register 0x%lx) with an instruction Nestor does not emulate: %s",
                         gpa & 0xfff, why);
    unsigned off = (unsigned)(gpa & 0xfff);
    uint32_t value = st.from_reg ? (uint32_t)vcpu_gpr_read(v, st.reg) : st.imm;
    uint32_t old = st.xchg ? *real_reg(off & ~3u) : 0;
    unsigned mode = ICR_DELIVERY_MODE(value);
    if (off == APIC_REG_ICR_LO && (mode == ICR_DM_INIT || mode == ICR_DM_STARTUP)) {
        send_init_sipi(v, value);
    } else {
        *real_reg(off & ~3u) = value;
        if (off == APIC_REG_LDR)
            v->lapic_ldr = value;
        else if (off == APIC_REG_DFR)
            v->lapic_dfr = value;
    }
    if (st.xchg)
        vcpu_gpr_write(v, st.reg, old);
    /* Retired: RIP moves on, STI/MOV-SS blocking ends (EPT violations report no instruction length). */
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + st.len);
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    return EXIT_RESUME;
}

/* The requests other CPUs posted, in the order the hardware takes them: INIT, then SIPI. */
void vcpu_take_ipis(struct vcpu *v)
{
    uint32_t req = __atomic_exchange_n(&v->ipi_pending, 0, __ATOMIC_SEQ_CST);
    struct ipi_decision d = ipi_decide(req, v->nested.vmxon, v->waiting_for_sipi);
    if (d.hold_init)
        v->init_pending = true; /* taken at VMXOFF (vcpu_take_pending_init) */
    if (d.reset) {
        log_debug("INIT: L1 CPU %u reset, waiting for SIPI", v->l1_index);
        vcpu_enter_init_state(v);
    }
    if (d.start)
        vcpu_start_at_sipi(v, v->sipi_vector);
}

enum exit_action handle_preemption_timer(struct vcpu *v)
{
    (void)v;
    return EXIT_RESUME; /* only a chance to take posted requests and console input (vcpu_run) */
}
