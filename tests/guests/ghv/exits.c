/*
 * ghv: reading and printing the VM-exit information fields.
 *
 * The exit line must compare equal between bare hardware (Bochs) and a
 * nested hypervisor, so fields the SDM leaves undefined for an exit are
 * printed as 0 instead of whatever the implementation left there:
 *  - len  (VM-exit instruction length): SDM 28.2.5 — instruction exits,
 *          software exceptions/interrupts (INT3, INTO, INT1, INT n), faults
 *          during their delivery, task switches by instruction;
 *  - info (VM-exit instruction information): only the instructions listed
 *          in the SDM's table of instruction-information formats (INS/OUTS
 *          only if IA32_VMX_BASIC[54]);
 *  - intr / idtv: only when their valid bit (31) is set;
 *  - err: only when the interruption information says an error code is valid.
 * The exit qualification is printed raw: the SDM says it is cleared for
 * exits that do not define it.
 */
#include "vmx.h"

enum {
    R_EXCEPTION = 0, R_TASK_SWITCH = 9, R_CPUID = 10, R_GETSEC, R_HLT, R_INVD, R_INVLPG, R_RDPMC, R_RDTSC,
    R_RSM, R_VMCALL, R_VMCLEAR, R_VMLAUNCH, R_VMPTRLD, R_VMPTRST, R_VMREAD, R_VMRESUME, R_VMWRITE, R_VMXOFF,
    R_VMXON, R_CR, R_DR, R_IO, R_RDMSR, R_WRMSR, R_MWAIT = 36, R_MONITOR = 39, R_PAUSE = 40,
    R_GDTR_IDTR = 46, R_LDTR_TR = 47, R_INVEPT = 50, R_RDTSCP = 51, R_INVVPID = 53, R_WBINVD = 54,
    R_XSETBV = 55, R_RDRAND = 57, R_INVPCID = 58, R_VMFUNC = 59, R_ENCLS = 60, R_RDSEED = 61,
    R_XSAVES = 63, R_XRSTORS = 64, R_PCONFIG = 65, R_UMWAIT = 67, R_TPAUSE = 68, R_LOADIWKEY = 69,
};

static bool bit(u64 set, unsigned n) { return n < 64 && ((set >> n) & 1); }

/* Exit reasons caused by executing an instruction (length is defined). */
static const u64 insn_reasons_lo =
    (1ull << R_CPUID) | (1ull << R_GETSEC) | (1ull << R_HLT) | (1ull << R_INVD) | (1ull << R_INVLPG) |
    (1ull << R_RDPMC) | (1ull << R_RDTSC) | (1ull << R_RSM) | (1ull << R_VMCALL) | (1ull << R_VMCLEAR) |
    (1ull << R_VMLAUNCH) | (1ull << R_VMPTRLD) | (1ull << R_VMPTRST) | (1ull << R_VMREAD) |
    (1ull << R_VMRESUME) | (1ull << R_VMWRITE) | (1ull << R_VMXOFF) | (1ull << R_VMXON) | (1ull << R_CR) |
    (1ull << R_DR) | (1ull << R_IO) | (1ull << R_RDMSR) | (1ull << R_WRMSR) | (1ull << R_MWAIT) |
    (1ull << R_MONITOR) | (1ull << R_PAUSE) | (1ull << R_GDTR_IDTR) | (1ull << R_LDTR_TR) |
    (1ull << R_INVEPT) | (1ull << R_RDTSCP) | (1ull << R_INVVPID) | (1ull << R_WBINVD) | (1ull << R_XSETBV) |
    (1ull << R_RDRAND) | (1ull << R_INVPCID) | (1ull << R_ENCLS) | (1ull << R_RDSEED) | (1ull << R_XSAVES);
static const u64 insn_reasons_hi = (1ull << (R_XRSTORS - 64)) | (1ull << (R_PCONFIG - 64)) |
                                   (1ull << (R_UMWAIT - 64)) | (1ull << (R_TPAUSE - 64)) |
                                   (1ull << (R_LOADIWKEY - 64));

/* Exit reasons with an instruction-information format in the SDM. */
static const u64 info_reasons_lo =
    (1ull << R_VMCLEAR) | (1ull << R_VMPTRLD) | (1ull << R_VMPTRST) | (1ull << R_VMREAD) | (1ull << R_VMWRITE) |
    (1ull << R_VMXON) | (1ull << R_GDTR_IDTR) | (1ull << R_LDTR_TR) | (1ull << R_INVEPT) | (1ull << R_INVVPID) |
    (1ull << R_RDRAND) | (1ull << R_INVPCID) | (1ull << R_RDSEED) | (1ull << R_XSAVES);
static const u64 info_reasons_hi = (1ull << (R_XRSTORS - 64)) | (1ull << (R_UMWAIT - 64)) |
                                   (1ull << (R_TPAUSE - 64)) | (1ull << (R_LOADIWKEY - 64));

static bool in_set(u64 lo, u64 hi, unsigned r) { return r < 64 ? bit(lo, r) : bit(hi, r - 64); }

/* Interruption types 4 (software interrupt), 5 (privileged software
 * exception) and 6 (software exception) come from instructions. */
static bool soft_event(u32 info) { return (info >> 31) && ((info >> 8) & 7) >= 4 && ((info >> 8) & 7) <= 6; }

static bool len_defined(const struct exit_info *e)
{
    if (e->reason >> 31)
        return false;               /* VM-entry failure: no exit information */
    if (in_set(insn_reasons_lo, insn_reasons_hi, e->basic))
        return true;
    if (e->basic == R_EXCEPTION && soft_event(e->intr))
        return true;
    if (soft_event(e->idtv))        /* fault while delivering a software event */
        return true;
    if (e->basic == R_TASK_SWITCH) {
        u32 source = (u32)(e->qual >> 30) & 3;      /* 0 CALL, 1 IRET, 2 JMP, 3 IDT task gate */
        return source != 3 || soft_event(e->idtv);
    }
    return false;
}

static bool info_defined(const struct exit_info *e)
{
    if (e->reason >> 31)
        return false;
    if (e->basic == R_IO)           /* INS/OUTS only: string bit 4 of the qualification */
        return (e->qual & 0x10) && (ghv_caps.basic & (1ull << 54));
    return in_set(info_reasons_lo, info_reasons_hi, e->basic);
}

void exit_read(struct exit_info *e)
{
    e->reason = (u32)vmread(EXIT_REASON);
    e->basic = e->reason & 0xffff;
    e->qual = vmread(EXIT_QUALIFICATION);
    e->rip = vmread(GUEST_RIP);
    u32 intr = (u32)vmread(EXIT_INTR_INFO);
    u32 idtv = (u32)vmread(IDT_VECTORING_INFO);
    e->intr = (intr >> 31) ? intr : 0;
    e->idtv = (idtv >> 31) ? idtv : 0;
    e->err = (e->intr & (1u << 11)) ? (u32)vmread(EXIT_INTR_ERRCODE) : 0;
    e->len = len_defined(e) ? (u32)vmread(EXIT_INSN_LEN) : 0;
    e->info = info_defined(e) ? (u32)vmread(EXIT_INSN_INFO) : 0;
}

void exit_print(u32 n, const struct exit_info *e)
{
    gprintf("ghv: exit n=%u reason=%u qual=0x%lx rip=0x%lx len=%u info=0x%x intr=0x%x err=0x%x idtv=0x%x\n", n,
            e->basic, e->qual, e->rip, e->len, e->info, e->intr, e->err, e->idtv);
}
