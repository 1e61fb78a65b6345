/*
 * The VMX instructions as C functions (SDM vol. 3C chapter 31). Each returns
 * its VMfail outcome: 0 success, 1 VMfailInvalid (CF), 2 VMfailValid (ZF).
 */
#ifndef NESTOR_VMX_OPS_H
#define NESTOR_VMX_OPS_H

#include "types.h"

#define VMX_OK 0
#define VMX_FAIL_INVALID 1
#define VMX_FAIL_VALID 2

#ifdef NESTOR_FAKE_CPU
/*
 * Host builds of the nested layer (tests/fuzz): the same instructions, executed by the
 * fake CPU in tests/fuzz/fakecpu.c, which keeps VMCS contents per address and records
 * what was done. The hypervisor never defines NESTOR_FAKE_CPU.
 */
int vmxon(paddr_t region);
int vmclear(paddr_t vmcs);
int vmptrld(paddr_t vmcs);
int vmwrite(uint64_t field, uint64_t value);
uint64_t vmread(uint64_t field);
int vmread_checked(uint64_t field, uint64_t *out);
#else
#define VMX_OUTCOME(insn, ...)                                                                        \
    ({                                                                                                \
        uint8_t cf_, zf_;                                                                             \
        __asm__ volatile(insn "; setc %0; setz %1" : "=qm"(cf_), "=qm"(zf_) : __VA_ARGS__ : "cc", "memory"); \
        cf_ ? VMX_FAIL_INVALID : zf_ ? VMX_FAIL_VALID : VMX_OK;                                       \
    })

static inline int vmxon(paddr_t region) { return VMX_OUTCOME("vmxon %2", "m"(region)); }
static inline int vmclear(paddr_t vmcs) { return VMX_OUTCOME("vmclear %2", "m"(vmcs)); }
static inline int vmptrld(paddr_t vmcs) { return VMX_OUTCOME("vmptrld %2", "m"(vmcs)); }
static inline int vmwrite(uint64_t field, uint64_t value)
{
    return VMX_OUTCOME("vmwrite %3, %2", "r"(field), "rm"(value));
}
static inline uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
    return v;
}
static inline int vmread_checked(uint64_t field, uint64_t *out)
{
    uint64_t v = 0;
    uint8_t cf, zf;
    __asm__ volatile("vmread %3, %0; setc %1; setz %2" : "=rm"(v), "=qm"(cf), "=qm"(zf) : "r"(field) : "cc");
    *out = v;
    return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

#endif

struct invept_desc {
    uint64_t eptp, reserved;
};
struct invvpid_desc {
    uint64_t vpid, linear;
};
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

#ifdef NESTOR_FAKE_CPU
int invept(uint64_t type, uint64_t eptp);
int invvpid(uint64_t type, uint16_t vpid, uint64_t linear);
#else
static inline int invept(uint64_t type, uint64_t eptp)
{
    struct invept_desc d = {eptp, 0};
    return VMX_OUTCOME("invept %2, %3", "m"(d), "r"(type));
}
static inline int invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
    struct invvpid_desc d = {vpid, linear};
    return VMX_OUTCOME("invvpid %2, %3", "m"(d), "r"(type));
}
#endif

#endif
