/* Register access, instruction skipping, event injection and stopping L1. */
#include <stdarg.h>
#include "nestor/fmt.h"
#include "nestor/log.h"
#include "nestor/vcpu.h"
#include "nestor/vmx_ops.h"

uint64_t vcpu_gpr_read(struct vcpu *v, unsigned n)
{
    return n == GPR_RSP ? vmread(VMCS_GUEST_RSP) : v->regs.gpr[n & 15];
}

void vcpu_gpr_write(struct vcpu *v, unsigned n, uint64_t value)
{
    if (n == GPR_RSP)
        vmwrite(VMCS_GUEST_RSP, value);
    else
        v->regs.gpr[n & 15] = value;
}

/* Emulating an instruction retires it: RIP moves on and STI/MOV-SS blocking ends (SDM 24.4.2). */
void vcpu_skip_instruction(struct vcpu *v)
{
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
    /* No error code may be delivered to a guest in real mode (SDM 26.2.1.3). */
    if (!(vmread(VMCS_GUEST_CR0) & 1))
        has_error = false;
    uint32_t info = vector | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID | (has_error ? INTR_INFO_ERROR_CODE_VALID : 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
    if (has_error)
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
    v->injected = true;
    log_debug("injecting vector %u%s into L1 at rip 0x%lx", vector, has_error ? " with error code" : "",
              vmread(VMCS_GUEST_RIP));
}

enum exit_action vcpu_stop(struct vcpu *v, uint32_t status, bool dump, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    vcpu_com1_flush();
    log_always("L1 stopped: %s", why);
    if (dump)
        vcpu_dump_guest_state(v);
    v->stopped = true;
    v->status = status;
    return EXIT_STOP;
}

static void dump_segment(const char *name, uint32_t sel_field)
{
    unsigned i = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    log_error("  %-4s sel=%04lx base=%016lx limit=%08lx ar=%05lx", name, vmread(sel_field),
              vmread(VMCS_GUEST_ES_BASE + 2 * i), vmread(VMCS_GUEST_ES_LIMIT + 2 * i), vmread(VMCS_GUEST_ES_AR + 2 * i));
}

/* A stop's dump is an error line; the console's Ctrl-A r prints whatever the log level (log_always). */
#define SAY(always, ...) ((always) ? log_always(__VA_ARGS__) : log_msg(LOG_ERROR, __VA_ARGS__))

void vcpu_log_gprs(const struct vcpu *v, bool always, const char *prefix)
{
    const uint64_t *g = v->regs.gpr;
    SAY(always, "%s  rip=%016lx rsp=%016lx rflags=%016lx", prefix, vmread(VMCS_GUEST_RIP), vmread(VMCS_GUEST_RSP),
        vmread(VMCS_GUEST_RFLAGS));
    SAY(always, "%s  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx", prefix, g[GPR_RAX], g[GPR_RBX], g[GPR_RCX],
        g[GPR_RDX]);
    SAY(always, "%s  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx", prefix, g[GPR_RSI], g[GPR_RDI], g[GPR_RBP],
        g[GPR_R8]);
    SAY(always, "%s  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx", prefix, g[GPR_R9], g[GPR_R10], g[GPR_R11],
        g[GPR_R12]);
    SAY(always, "%s  r13=%016lx r14=%016lx r15=%016lx cr2=%016lx", prefix, g[GPR_R13], g[GPR_R14], g[GPR_R15],
        v->regs.cr2);
}

void vcpu_dump_guest_state(struct vcpu *v)
{
    log_error("L1 state at exit %u (%s), qualification 0x%lx:", EXIT_REASON_BASIC(v->exit_reason),
              exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)), v->exit_qual);
    vcpu_log_gprs(v, false, "");
    log_error("  cr0=%016lx (L1 sees %016lx) cr3=%016lx cr4=%016lx (L1 sees %016lx)", vmread(VMCS_GUEST_CR0),
              vmread(VMCS_CR0_READ_SHADOW), vmread(VMCS_GUEST_CR3), vmread(VMCS_GUEST_CR4),
              vmread(VMCS_CR4_READ_SHADOW));
    log_error("  efer=%016lx pat=%016lx dr7=%016lx", vmread(VMCS_GUEST_EFER), vmread(VMCS_GUEST_PAT),
              vmread(VMCS_GUEST_DR7));
    dump_segment("cs", VMCS_GUEST_CS_SEL);
    dump_segment("ss", VMCS_GUEST_SS_SEL);
    dump_segment("ds", VMCS_GUEST_DS_SEL);
    dump_segment("es", VMCS_GUEST_ES_SEL);
    dump_segment("fs", VMCS_GUEST_FS_SEL);
    dump_segment("gs", VMCS_GUEST_GS_SEL);
    dump_segment("tr", VMCS_GUEST_TR_SEL);
    dump_segment("ldtr", VMCS_GUEST_LDTR_SEL);
    log_error("  gdtr=%016lx/%04lx idtr=%016lx/%04lx", vmread(VMCS_GUEST_GDTR_BASE), vmread(VMCS_GUEST_GDTR_LIMIT),
              vmread(VMCS_GUEST_IDTR_BASE), vmread(VMCS_GUEST_IDTR_LIMIT));
    log_error("  interruptibility=%lx activity=%lx entry-controls=%lx idt-vectoring=%08lx exit-intr-info=%08lx",
              vmread(VMCS_GUEST_INTERRUPTIBILITY), vmread(VMCS_GUEST_ACTIVITY_STATE), vmread(VMCS_ENTRY_CONTROLS),
              vmread(VMCS_IDT_VECTORING_INFO), vmread(VMCS_EXIT_INTR_INFO));
    log_error("  guest-physical=%016lx guest-linear=%016lx", vmread(VMCS_GUEST_PHYSICAL_ADDR),
              vmread(VMCS_GUEST_LINEAR_ADDR));
}
