/*
 * One L1 vCPU on the fake CPU, for the fuzz targets: L0's vmcs01 with L1 in a
 * chosen mode, L1's memory reached only through EPT01, nested VMX set up by
 * nested_init(), and the invariants checked after each step (abort = finding).
 *
 * L1-physical layout:
 *   [0, 1 MiB)             RAM, read/write/execute
 *   [1 MiB, 1 MiB + 4 KiB) a read-only page (ROM-like)
 *   [4 MiB, 8 MiB)         RAM too, only after env_add_high_ram()
 *   everything else        not L1's memory (EPT01 maps nothing)
 * Fixed places in RAM: L1's page tables at 0x1000-0x3fff (64-bit mode), the
 * operand scratch at 0x5000, the VMXON region at 0x8000, vmcs12 candidates at
 * 0x10000 + 4 KiB * k (k < 16, revision preset), EPT12 tables from 0x40000.
 */
#ifndef NESTOR_FUZZ_L1ENV_H
#define NESTOR_FUZZ_L1ENV_H

#include "nestor/nested.h"
#include "nestor/vcpu.h"

#define L1_RAM_SIZE ((uint64_t)1 << 20)
#define L1_ROM_GPA L1_RAM_SIZE
#define L1_PT_GPA 0x1000ull
#define L1_SCRATCH_GPA 0x5000ull
#define L1_VMXON_GPA 0x8000ull
#define L1_VMCS_GPA(k) (0x10000ull + 0x1000ull * (k))
#define L1_VMCS_COUNT 16
#define L1_EPT12_GPA 0x40000ull
#define L1_MSR_AREA_GPA 0x30000ull
#define L1_BITMAP_GPA 0x34000ull /* I/O A, I/O B, MSR bitmap pages */
#define L1_VAPIC_GPA 0x38000ull  /* virtual-APIC page; the APIC-access page follows it */
#define L1_VMRW_BITMAP_GPA 0x3a000ull /* L1's VMREAD and VMWRITE bitmaps for its L2 (fuzz_l2_exit) */
#define L1_HIGH_GPA ((uint64_t)4 << 20) /* optional (env_add_high_ram): 4 MiB in 2 MiB EPT01 pages */
#define L1_HIGH_SIZE ((uint64_t)4 << 20)

/* Fuzz input as a byte stream; reads past the end give zeros. */
struct fin {
    const uint8_t *p;
    size_t n;
};
uint8_t fin_u8(struct fin *f);
uint16_t fin_u16(struct fin *f);
uint32_t fin_u32(struct fin *f);
uint64_t fin_u64(struct fin *f);
static inline bool fin_empty(const struct fin *f) { return f->n == 0; }

/* Configuration byte (0 = the ordinary case): how L0 offers VMX and what mode L1 is in. */
#define CFG_MODE_MASK 3u   /* 0: 64-bit paging, 1: 32-bit protected without paging, 2: compatibility, 3: real mode */
#define CFG_CPL3 BIT(2)
#define CFG_NO_VMXE BIT(3)
#define CFG_VM86 BIT(4)
#define CFG_SHADOWING BIT(5)
#define CFG_NO_EPT BIT(6)
#define CFG_NO_VPID BIT(7)

struct l1env {
    struct vcpu *v;
    struct l1_vm *vm;
    paddr_t ram_hpa, rom_hpa, high_hpa;
    uint8_t cfg;
};
extern struct l1env E;

/* Rebuilds everything from scratch (memory, fake CPU, vmcs01, nested state). */
void env_reset(uint8_t cfg);
void env_add_high_ram(void);
void env_squeeze_memory(uint64_t keep_pages);
void *env_l1_ptr(gpa_t gpa); /* host pointer of L1 RAM (gpa must be in RAM) */
bool env_long_mode(void);
/* L1 changes paging mode: 0 none, 1 32-bit, 2 32-bit with PSE, 3 PAE, 4 4-level (64-bit code). */
void env_set_paging(unsigned mode);

/*
 * L1 executes a VMX instruction: vmcs01 gets the exit information (reason, instruction
 * length 3, instruction information, qualification) and the handler runs; afterwards the
 * outcome is checked (exception, VMsucceed/VMfail, entry to L2, entry failure).
 */
enum exit_action env_l1_vmx_exit(uint32_t reason, uint32_t info, uint64_t qual);
/* A memory operand at linear = L1-physical L1_SCRATCH_GPA + off (identity paging), via RBX. */
uint32_t env_mem_operand(uint64_t value_lo, uint64_t value_hi, unsigned off);
/* Register operands: reg1 (bits 6:3) and reg2 (31:28). */
uint32_t env_reg_info(unsigned reg1, unsigned reg2, bool reg_operand);

/* vmcs02 is current after an emulated entry: L0's CPU enters it (and may refuse). */
void env_enter_l2(bool force_fail);
/* L2 exits with this information; nested_l2_exit() handles it; the outcome is checked. */
enum exit_action env_l2_exit(uint32_t reason, uint64_t qual, uint32_t intr_info, uint32_t idt_info, uint64_t gpa2);

/* L1's VMWRITE with register operands (RCX = value, RDX = field). */
void env_l1_vmwrite(uint64_t field, uint64_t value);
/* A valid vmcs12 at L1_VMCS_GPA(k) via L1's own VMWRITEs (so the fuzzer reaches L2 quickly);
 * apicv: with TPR shadow and the APIC-virtualization controls offered. */
void env_write_good_vmcs12(unsigned k, bool ept12, bool io_bitmaps, bool msr_bitmaps, bool long_mode_l2, bool pae_l2,
                           bool apicv);
/* Identity EPT12 of the first 1 MiB at L1_EPT12_GPA (PML4, PDPT, PD, PT); returns the EPTP. */
uint64_t env_build_ept12(void);

/* Invariants (abort with a message on violation). */
void env_check_l1_state(void);
void env_check_vmcs02(void);
void env_check_ept02(void);

void env_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
