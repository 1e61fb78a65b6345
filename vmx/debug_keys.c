/*
 * What the console's debug keys do (Ctrl-A then a key; the bytes are sorted
 * by core/console_escape.c, read by vmx/console_input.c). They run on the
 * vCPU that owns the console, between an exit and the next entry, so the
 * current VMCS is that vCPU's: vmcs01, or vmcs02 while its L2 runs.
 */
#include "exit_handlers.h"
#include "nestor/console.h"
#include "nestor/ept.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/percpu.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

static const char *const help[] = {
    "console keys: Ctrl-A then",
    "  h  this help",
    "  s  exit statistics: per reason, per level (L1->L0, L2->L0, L2->L1), per CPU",
    "  r  registers of L1 (or of L2 while it runs) on L1 CPU 0",
    "  v  L1's current vmcs12 beside Nestor's vmcs02, field by field",
    "  e  EPT01 and EPT02 entries for a guest-physical address (typed in hex, then Enter)",
    "  l  next log level (error, warn, info, debug, trace)",
    "  q  end the run now, with the report",
    "  Ctrl-A  send one Ctrl-A to L1",
};

static void print_help(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(help); i++)
        log_always("%s", help[i]);
}

static void print_stats(void)
{
    unsigned cpus = 0;
    for (unsigned i = 0; i < g_cpu_count; i++)
        cpus += g_cpus[i]->vcpu != NULL;
    for (unsigned i = 0; i < g_cpu_count; i++) {
        const struct vcpu *v = g_cpus[i]->vcpu;
        if (!v)
            continue;
        if (cpus > 1)
            log_always("L1 CPU %u (physical CPU %u):", v->l1_index, i);
        exit_stats_print(v);
    }
    exit_stats_lines();
}

static void print_segment(const char *name, uint32_t sel_field)
{
    unsigned i = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    log_always("regs:   %-4s sel=%04lx base=%016lx limit=%08lx ar=%05lx", name, vmread(sel_field),
               vmread(VMCS_GUEST_ES_BASE + 2 * i), vmread(VMCS_GUEST_ES_LIMIT + 2 * i), vmread(VMCS_GUEST_ES_AR + 2 * i));
}

static void print_regs(struct vcpu *v)
{
    log_always("regs: %s on L1 CPU %u, after exit %u (%s)", v->nested.in_l2 ? "L2 (vmcs02)" : "L1 (vmcs01)",
               v->l1_index, EXIT_REASON_BASIC(v->exit_reason), exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)));
    vcpu_log_gprs(v, true, "regs: ");
    log_always("regs:   cr0=%016lx cr3=%016lx cr4=%016lx efer=%016lx", vmread(VMCS_CR0_READ_SHADOW),
               vmread(VMCS_GUEST_CR3), vmread(VMCS_CR4_READ_SHADOW), vmread(VMCS_GUEST_EFER));
    print_segment("cs", VMCS_GUEST_CS_SEL);
    print_segment("ss", VMCS_GUEST_SS_SEL);
    print_segment("ds", VMCS_GUEST_DS_SEL);
    print_segment("tr", VMCS_GUEST_TR_SEL);
    log_always("regs:   gdtr=%016lx/%04lx idtr=%016lx/%04lx activity=%lu interruptibility=%lx",
               vmread(VMCS_GUEST_GDTR_BASE), vmread(VMCS_GUEST_GDTR_LIMIT), vmread(VMCS_GUEST_IDTR_BASE),
               vmread(VMCS_GUEST_IDTR_LIMIT), vmread(VMCS_GUEST_ACTIVITY_STATE), vmread(VMCS_GUEST_INTERRUPTIBILITY));
}

static void cycle_log_level(void)
{
    static const char *const next[] = {"warn", "info", "debug", "trace", "error"};
    log_set_level(next[log_get_level()]);
    log_always("log level now %s", log_level_name(log_get_level()));
}

#define ADDR_PROMPT "nestor: ept: guest-physical address (hex, Enter): "

static void console_text(const char *s, size_t n)
{
    console_lock();
    console_write(s, n);
    console_unlock();
}

void debug_key_address_echo(uint8_t c)
{
    if (c == '\b')
        console_text("\b \b", 3);
    else
        console_text((const char *)&c, 1);
}

void debug_key_address(struct vcpu *v, bool done, gpa_t gpa)
{
    console_text("\n", 1);
    if (!done) {
        log_always("ept: cancelled");
        return;
    }
    struct ept_walk w;
    if (ept_walk(&v->vm->ept, gpa, &w))
        log_always("ept: EPT01: L1 0x%lx -> host 0x%lx, level %u entry 0x%016lx, %c%c%c", gpa, w.hpa, w.level, w.leaf,
                   (w.perms & EPT_R) ? 'r' : '-', (w.perms & EPT_W) ? 'w' : '-', (w.perms & EPT_X) ? 'x' : '-');
    else
        log_always("ept: EPT01: L1 0x%lx not mapped (an access is an EPT violation: not L1's memory)", gpa);
    nested_debug_ept02(v, gpa);
}

enum exit_action debug_key(struct vcpu *v, uint8_t key)
{
    switch (key) {
    case 'h':
        print_help();
        break;
    case 's':
        print_stats();
        break;
    case 'r':
        print_regs(v);
        break;
    case 'v':
        nested_debug_dump_vmcs(v);
        break;
    case 'e':
        console_lock();
        console_break_line();
        console_write(ADDR_PROMPT, sizeof ADDR_PROMPT - 1);
        console_unlock();
        break;
    case 'l':
        cycle_log_level();
        break;
    case 'q':
        return vcpu_stop(v, STATUS_CONSOLE_QUIT, false, "Ctrl-A q typed on the console");
    default:
        log_always("console: Ctrl-A %c is not a command (Ctrl-A h lists them)", key >= 0x20 && key < 0x7f ? key : '?');
        break;
    }
    return EXIT_RESUME;
}
