/*
 * Emulating L1's writes to its xAPIC page (SDM vol. 3A 10.4.1, 10.6). When L1
 * has 2+ CPUs Nestor maps that page read-only in EPT01, so each write exits as
 * an EPT violation: the exit gives the register (the offset in the page) but
 * not the value, so the store instruction is decoded (apic_store_decode), and
 * an ICR write is resolved to the CPUs it reaches (apic_ipi_targets). Both
 * are pure and host-tested (tests/unit/test_lapic_emul.c).
 */
#ifndef NESTOR_LAPIC_EMUL_H
#define NESTOR_LAPIC_EMUL_H

#include "types.h"

/* ---- the store instruction (SDM vol. 2 2.1-2.2) ---- */

#define X86_MAX_INSN_LEN 15 /* SDM vol. 2 2.3.11: longer raises #GP */

struct apic_store {
    unsigned len;  /* instruction length in bytes */
    bool from_reg; /* value is a GPR (index in reg, SDM numbering RAX=0..R15=15) */
    unsigned reg;
    uint32_t imm;  /* value when !from_reg */
    bool xchg;     /* XCHG: the GPR also receives the register's old value (zero-extended) */
};

/*
 * bytes: up to 15 fetched bytes (n of them); mode: 16, 32 or 64, the code
 * segment's size (64 in 64-bit mode, else CS.D ? 32 : 16). Accepts only a
 * 32-bit store to memory: MOV r/m32,r32 (89 /r), MOV r/m32,imm32 (C7 /0),
 * XCHG r/m32,r32 (87 /r), MOV moffs32,EAX (A3: what gas emits for
 * `mov %eax, abs`); with segment overrides, 0x67, 0x66 where it makes the
 * operand 32-bit (mode 16) and REX in 64-bit mode (W refused, R extends reg).
 * Anything else returns false with the reason in *why. Never reads past n.
 */
bool apic_store_decode(const uint8_t *bytes, size_t n, unsigned mode, struct apic_store *out, const char **why);

/* ---- the interrupt command register (SDM vol. 3A 10.6.1, Figure 10-12) ---- */

#define APIC_REG_ICR_LO 0x300
#define APIC_REG_ICR_HI 0x310
#define APIC_REG_LDR 0x0d0 /* SDM 10.6.2.2, Figure 10-13 */
#define APIC_REG_DFR 0x0e0 /* SDM 10.6.2.2, Figure 10-14 */
#define APIC_REG_ID 0x020  /* SDM 10.4.6, Figure 10-6: ID in bits 31:24 */

#define ICR_VECTOR(lo) ((lo) & 0xffu)
#define ICR_DELIVERY_MODE(lo) (((lo) >> 8) & 7u)
#define ICR_DM_FIXED 0u
#define ICR_DM_LOWEST 1u
#define ICR_DM_SMI 2u
#define ICR_DM_NMI 4u
#define ICR_DM_INIT 5u
#define ICR_DM_STARTUP 6u
#define ICR_DEST_LOGICAL(lo) (((lo) >> 11) & 1u) /* destination mode: 0 physical, 1 logical */
#define ICR_LEVEL(lo) (((lo) >> 14) & 1u)        /* 0 de-assert, 1 assert */
#define ICR_TRIGGER(lo) (((lo) >> 15) & 1u)      /* 0 edge, 1 level */
#define ICR_SHORTHAND(lo) (((lo) >> 18) & 3u)
#define ICR_SH_NONE 0u
#define ICR_SH_SELF 1u
#define ICR_SH_ALL 2u
#define ICR_SH_OTHERS 3u
#define ICR_DEST(hi) (((hi) >> 24) & 0xffu)
#define APIC_DEST_BROADCAST 0xffu

#define APIC_LDR_ID(ldr) (((ldr) >> 24) & 0xffu)  /* logical APIC ID, SDM 10.6.2.2 */
#define APIC_DFR_MODEL(dfr) (((dfr) >> 28) & 0xfu) /* 0xF flat, 0x0 cluster */
#define APIC_DFR_FLAT 0xfu
#define APIC_DFR_CLUSTER 0x0u

/* What L1 programmed in one of its CPUs' xAPIC. apic_id is the ID itself
 * (the ID register's bits 31:24, shifted down); ldr and dfr are the raw registers. */
struct apic_view {
    uint32_t apic_id;
    uint32_t ldr;
    uint32_t dfr;
};

/*
 * Which of n (<= 64) CPUs an IPI with this ICR (lo, hi) sent by CPU self
 * reaches: bit i set for cpus[i] (SDM 10.6.2). For lowest-priority delivery
 * this is the set the processor chooses one CPU from.
 */
uint64_t apic_ipi_targets(uint32_t lo, uint32_t hi, const struct apic_view *cpus, unsigned n, unsigned self);

/* An INIT level de-assert (delivery mode INIT, level 0, trigger level) does
 * nothing on Pentium 4 and later (SDM 10.6.1). */
bool apic_icr_is_init_deassert(uint32_t lo);

/* ---- taking INIT and SIPI (SDM vol. 3A 8.4.1, 10.6.1; vol. 3C 23.8, 25.2) ---- */

#define VCPU_IPI_INIT 1u
#define VCPU_IPI_SIPI 2u

/* What a vCPU does with the requests posted for it, INIT before SIPI as a CPU takes them. */
struct ipi_decision {
    bool reset;     /* INIT: to the INIT state, waiting for SIPI */
    bool hold_init; /* INIT blocked: the vCPU is in VMX operation (its L1 did VMXON) */
    bool start;     /* SIPI: start at the vector (only a CPU waiting for SIPI takes one) */
};
struct ipi_decision ipi_decide(uint32_t requests, bool in_vmx_operation, bool waiting_for_sipi);

#endif
