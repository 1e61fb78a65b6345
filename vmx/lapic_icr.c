/*
 * Which of L1's CPUs an IPI reaches, from the ICR L1 wrote and what it
 * programmed in each CPU's APIC ID, LDR and DFR (SDM vol. 3A 10.6.2).
 */
#include "nestor/lapic_emul.h"

/* SDM 10.6.2.2: flat model matches on any common bit; cluster model on the
 * cluster (high nibble) and any common bit of the low nibble; 0xFF in the
 * cluster model broadcasts to every cluster. A DFR model that is neither
 * (reserved) matches nothing. */
static bool logical_match(uint32_t dest, const struct apic_view *v)
{
    uint32_t id = APIC_LDR_ID(v->ldr);

    switch (APIC_DFR_MODEL(v->dfr)) {
    case APIC_DFR_FLAT:
        return (dest & id) != 0;
    case APIC_DFR_CLUSTER:
        if (dest == APIC_DEST_BROADCAST)
            return true;
        return (dest >> 4) == (id >> 4) && (dest & id & 0xfu) != 0;
    default:
        return false;
    }
}

uint64_t apic_ipi_targets(uint32_t lo, uint32_t hi, const struct apic_view *cpus, unsigned n, unsigned self)
{
    if (n > 64)
        n = 64;
    uint64_t all = n == 64 ? ~(uint64_t)0 : (BIT(n) - 1);
    uint64_t me = self < n ? BIT(self) : 0;

    switch (ICR_SHORTHAND(lo)) {
    case ICR_SH_SELF:
        return me;
    case ICR_SH_ALL:
        return all;
    case ICR_SH_OTHERS:
        return all & ~me;
    default:
        break;
    }

    uint32_t dest = ICR_DEST(hi);
    uint64_t hit = 0;
    for (unsigned i = 0; i < n; i++) {
        bool match;
        if (!ICR_DEST_LOGICAL(lo)) /* SDM 10.6.2.1: 0xFF is the physical broadcast */
            match = dest == APIC_DEST_BROADCAST || (cpus[i].apic_id & 0xffu) == dest;
        else
            match = logical_match(dest, &cpus[i]);
        if (match)
            hit |= BIT(i);
    }
    return hit;
}

bool apic_icr_is_init_deassert(uint32_t lo)
{
    return ICR_DELIVERY_MODE(lo) == ICR_DM_INIT && ICR_LEVEL(lo) == 0 && ICR_TRIGGER(lo) == 1;
}

struct ipi_decision ipi_decide(uint32_t requests, bool in_vmx_operation, bool waiting_for_sipi)
{
    struct ipi_decision d = {false, false, false};
    if (requests & VCPU_IPI_INIT) {
        if (in_vmx_operation)
            d.hold_init = true; /* 23.8: INIT is blocked in VMX root operation */
        else
            d.reset = waiting_for_sipi = true;
    }
    /* 8.4.1: a SIPI reaches only a CPU in the wait-for-SIPI state; any other ignores it. */
    d.start = (requests & VCPU_IPI_SIPI) && waiting_for_sipi;
    return d;
}
