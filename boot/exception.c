/*
 * Exceptions in Nestor itself. Every one but NMI is fatal: print what is
 * needed to debug it from the serial log, then end the run.
 */
#include "nestor/arch.h"
#include "nestor/cpu.h"
#include "nestor/log.h"
#include "nestor/panic.h"
#include "nestor/percpu.h"
#include "nestor/platform.h"
#include "nestor/vmx_arch.h"

static const char *const vector_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization exception", "#CP control protection", "reserved 22",
    "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27", "reserved 28",
    "reserved 29", "reserved 30", "reserved 31",
};

void exception_dispatch(struct exception_frame *f);

extern const uint64_t msr_fixup_table[][2];
extern const uint64_t msr_fixup_count;

void exception_dispatch(struct exception_frame *f)
{
    if (f->vector == 2) {
        this_cpu()->nmi_count++;
        return;
    }
    /* rdmsr_safe/wrmsr_safe: a #GP there means "no such MSR", not a bug. */
    if (f->vector == VEC_GP)
        for (uint64_t i = 0; i < msr_fixup_count; i++)
            if (f->rip == msr_fixup_table[i][0]) {
                f->rip = msr_fixup_table[i][1];
                return;
            }
    log_error("CPU exception in Nestor: vector %lu (%s), error code 0x%lx", f->vector,
              f->vector < 32 ? vector_names[f->vector] : "?", f->error_code);
    log_error("  rip=%016lx cs=%04lx rflags=%016lx rsp=%016lx ss=%04lx", f->rip, f->cs, f->rflags, f->rsp, f->ss);
    log_error("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx", read_cr0(), read_cr2(), read_cr3(), read_cr4());
    log_error("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx", f->rax, f->rbx, f->rcx, f->rdx);
    log_error("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx", f->rsi, f->rdi, f->rbp, f->r8);
    log_error("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx", f->r9, f->r10, f->r11, f->r12);
    log_error("  r13=%016lx r14=%016lx r15=%016lx", f->r13, f->r14, f->r15);
    log_error("  stack trace (addr2line -e build/nestor ADDR):");
    log_error("    %016lx", f->rip);
    print_stack_trace(f->rbp);
    log_always("PANIC: unhandled CPU exception %lu in Nestor", f->vector);
    platform_exit(STATUS_NESTOR_PANIC);
}
