/*
 * l1test: C entry point. Prints the boot information every run shares, then
 * runs the single test selected with test=NAME on the command line.
 */
#include "l1test.h"
#include "idt.h"

struct l1_test_entry {
    const char *name;
    uint32_t (*run)(struct l1_ctx *ctx);
};

static const struct l1_test_entry tests[] = {
    { "hello",    l1_test_hello },
    { "cpuid",    l1_test_cpuid },
    { "msr",      l1_test_msr },
    { "apic",     l1_test_apic },
    { "cr",       l1_test_cr },
    { "xsetbv",   l1_test_xsetbv },
    { "timer",    l1_test_timer },
    { "halt",     l1_test_halt },
    { "unmapped", l1_test_unmapped },
    { "scribble", l1_test_scribble },
    { "triple",   l1_test_triple },
    { "vmx",      l1_test_vmx },
    { "smp_hostile", l1_test_smp_hostile },
    { "tracemsr", l1_test_tracemsr },
    { "xcr0bad",  l1_test_xcr0bad },
    { "dr7",      l1_test_dr7 },
    { "dbtrap",   l1_test_dbtrap },
    { "smram",    l1_test_smram },
    { "reset_cf9", l1_test_reset_cf9 },
    { "reset_92", l1_test_reset_92 },
    { "reset_kbc", l1_test_reset_kbc },
    { "poweroff", l1_test_poweroff },
    { "iosplit",  l1_test_iosplit },
    { "actrap",   l1_test_actrap },
    { "gdb",      l1_test_gdb },
    { "echo",     l1_test_echo },
};

/* In .bss: nothing on the stack should be big, the stack is only 16 KiB. */
static struct l1_ctx ctx;

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void copy_cmdline(char *dst, const char *src)
{
    size_t n = 0;
    while (src && src[n] && n + 1 < L1_CMDLINE_MAX) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
}

void l1_main(uint32_t magic, uint32_t info);
void l1_main(uint32_t magic, uint32_t info)
{
    char name[32];
    char value[32];
    const char *test = "hello";
    uint64_t v;

    l1_serial_init();
    if (l1_mb_report(magic, info, &ctx.boot) != 0)
        l1_done(L1_ST_BAD_MAGIC);
    copy_cmdline(ctx.cmdline, ctx.boot.cmdline);
    l1_idt_install();

    ctx.status = L1_DEFAULT_STATUS;
    if (l1_cmdline_get(ctx.cmdline, "status", value, sizeof(value)) == 0 &&
        l1_parse_hex(value, &v) == 0)
        ctx.status = (uint32_t)v;

    if (l1_cmdline_get(ctx.cmdline, "test", name, sizeof(name)) == 0)
        test = name;

    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (str_eq(test, tests[i].name))
            l1_done(tests[i].run(&ctx));
    }
    l1_say("unknown test %s", test);
    l1_done(L1_ST_UNKNOWN_TEST);
}
