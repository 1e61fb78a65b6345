/* HLT, XSETBV, INVD/WBINVD, triple fault, entry failures and instructions L1 does not get. */
#include "exit_handlers.h"
#include "nestor/percpu.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"
#include "xcr0.h"

/*
 * HLT with interrupts enabled: retire it and enter L1 in the HLT activity
 * state (SDM 24.4.2), so the CPU sleeps in L1's context until the next
 * interrupt reaches L1's IDT directly. With interrupts disabled nothing but an
 * NMI could wake L1: that is how small kernels end a run, so say so and stop.
 */
/* Another of L1's CPUs still runs (neither halted with interrupts off nor waiting for SIPI): it can wake this one. */
static bool other_l1_cpu_runs(const struct vcpu *v)
{
    for (unsigned i = 0; i < g_cpu_count; i++) {
        const struct vcpu *o = g_cpus[i]->vcpu;
        if (o && o != v && !o->halted_irq_off && !o->waiting_for_sipi)
            return true;
    }
    return false;
}

/*
 * HLT with interrupts off ends L1 only when no CPU of L1 is left to wake this
 * one (with INIT or NMI): an AP parked that way (an OS stopping CPUs, a test's
 * finished AP) just sleeps, as on hardware.
 */
enum exit_action handle_hlt(struct vcpu *v)
{
    if (!(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
        v->halted_irq_off = true;
        if (!other_l1_cpu_runs(v))
            return vcpu_stop(v, STATUS_L1_FAILED, false,
                             "L1 halted with interrupts disabled (HLT with RFLAGS.IF=0 at rip 0x%lx)%s",
                             vmread(VMCS_GUEST_RIP), g_cpus_online > 1 ? ", and no other CPU of L1 runs" : "");
        log_debug("L1 CPU %u halted with interrupts disabled; other CPUs of L1 still run", v->l1_index);
    }
    vcpu_skip_instruction(v);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
    return EXIT_RESUME;
}

/*
 * XSETBV (SDM vol. 2C XSETBV, vol. 1 13.3): #UD and CPL checks happen before the exit;
 * the value rules are checked by name (vmx/xcr0.c), and the real XSETBV runs in its
 * fault-safe form, so a rule the list misses still ends as #GP for L1, never as a
 * fault in root.
 */
enum exit_action handle_xsetbv(struct vcpu *v)
{
    uint32_t index = (uint32_t)v->regs.gpr[GPR_RCX];
    uint64_t value = ((v->regs.gpr[GPR_RDX] & 0xffffffffull) << 32) | (v->regs.gpr[GPR_RAX] & 0xffffffffull);
    const char *rule = xcr0_rule_broken(index, value, v->xcr0_supported);
    if (!rule && xsetbv_safe(0, value) != 0)
        rule = "refused by the CPU";
    if (rule) {
        log_debug("L1 XSETBV %u = 0x%lx: #GP (%s)", index, value, rule);
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    log_debug("L1 XCR0 = 0x%lx", value);
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

/* INVD would drop Nestor's dirty cache lines too: write them back instead (what hypervisors do). */
enum exit_action handle_invd(struct vcpu *v)
{
    wbinvd();
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_wbinvd(struct vcpu *v)
{
    wbinvd();
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_triple_fault(struct vcpu *v)
{
    return vcpu_stop(v, STATUS_L1_FAILED, true, "L1 triple fault (shutdown) at rip 0x%lx", vmread(VMCS_GUEST_RIP));
}

/* VMX, SMX and VMCALL: not offered to L1, so these are undefined opcodes for it, as on a CPU without them. */
enum exit_action handle_undefined_opcode(struct vcpu *v)
{
    log_debug("L1 executed %s at rip 0x%lx: #UD", exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)),
              vmread(VMCS_GUEST_RIP));
    vcpu_inject_exception(v, VEC_UD, false, 0);
    return EXIT_RESUME;
}

/* VM-entry failures after the checks of SDM 26.3/26.4 (exit reason bit 31 set). */
enum exit_action handle_entry_failure(struct vcpu *v)
{
    return vcpu_stop(v, STATUS_L1_FAILED, true, "VM entry to L1 failed: %s (qualification 0x%lx)",
                     exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)), v->exit_qual);
}
