/*
 * l1test: shared declarations for the freestanding L1 test kernel.
 *
 * Everything here runs in 32-bit protected mode with paging off (except the
 * tail end of the "cr" test), so physical addresses are plain pointers.
 */
#ifndef L1TEST_H
#define L1TEST_H

#include <stdint.h>
#include <stddef.h>

/* Final status codes for outcomes that are not the test's own verdict. */
#define L1_ST_UNKNOWN_TEST   0xe0u
#define L1_ST_BAD_MAGIC      0xe1u
#define L1_ST_NOT_TRAPPED    0xe2u
#define L1_ST_SCRIBBLE_BAD   0xe3u
#define L1_ST_SURVIVED       0xe4u
#define L1_ST_NO_MEMINFO     0xe5u
#define L1_ST_UNEXPECTED_EXC 0xe6u
#define L1_ST_APIC_MSR_GP    0xe7u

#define L1_DEFAULT_STATUS    0x2au
#define L1_CMDLINE_MAX       1024

/* Selectors of the GDT built in entry.S; idt.c and longmode.S depend on them. */
#define L1_SEL_CODE32 0x08
#define L1_SEL_DATA   0x10
#define L1_SEL_CODE64 0x18

/* What the loader told us, reduced to what the tests need. */
struct l1_boot {
    const char *proto;    /* "mb1" or "mb2" */
    const char *cmdline;  /* loader-owned string, NULL if none */
    int have_mem;         /* mem_lower/mem_upper valid */
    uint32_t mem_lower;   /* KiB */
    uint32_t mem_upper;   /* KiB, contiguous RAM starting at 1 MiB */
};

/* Per-run state handed to every test. */
struct l1_ctx {
    struct l1_boot boot;
    /* Private copy: the loader's string may sit in RAM that "scribble" overwrites. */
    char cmdline[L1_CMDLINE_MAX];
    uint32_t status;      /* status to report when a test ends normally */
};

/* serial.c */
void l1_serial_init(void);
void l1_serial_putc(char c);

/* print.c: every call emits one whole line "l1test: <fmt>\n". */
void l1_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void l1_done(uint32_t status) __attribute__((noreturn));

/* mbinfo.c: returns 0 on success, -1 if the magic is unknown. */
int l1_mb_report(uint32_t magic, uint32_t info, struct l1_boot *boot);

/* cmdline.c */
int l1_cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen);
int l1_parse_hex(const char *s, uint64_t *out);

/* Linker-script symbols delimiting the loaded image (including .bss). */
extern char l1_image_start[];
extern char l1_image_end[];

/* Tests. Each returns the final status, or never returns. */
uint32_t l1_test_hello(struct l1_ctx *ctx);
uint32_t l1_test_cpuid(struct l1_ctx *ctx);
uint32_t l1_test_msr(struct l1_ctx *ctx);
uint32_t l1_test_apic(struct l1_ctx *ctx);
uint32_t l1_test_xsetbv(struct l1_ctx *ctx);
uint32_t l1_test_vmx(struct l1_ctx *ctx);
uint32_t l1_test_timer(struct l1_ctx *ctx);
uint32_t l1_test_cr(struct l1_ctx *ctx);
uint32_t l1_test_halt(struct l1_ctx *ctx);
uint32_t l1_test_triple(struct l1_ctx *ctx);
uint32_t l1_test_unmapped(struct l1_ctx *ctx);
uint32_t l1_test_scribble(struct l1_ctx *ctx);
uint32_t l1_test_smp_hostile(struct l1_ctx *ctx);   /* tests_smp.c */
/* tests_hostile.c: an L1 trying to escape or crash Nestor (issue 9). */
uint32_t l1_test_tracemsr(struct l1_ctx *ctx);
uint32_t l1_test_xcr0bad(struct l1_ctx *ctx);
uint32_t l1_test_dr7(struct l1_ctx *ctx);
uint32_t l1_test_dbtrap(struct l1_ctx *ctx);
uint32_t l1_test_smram(struct l1_ctx *ctx);
uint32_t l1_test_reset_cf9(struct l1_ctx *ctx);
uint32_t l1_test_reset_92(struct l1_ctx *ctx);
uint32_t l1_test_reset_kbc(struct l1_ctx *ctx);
uint32_t l1_test_poweroff(struct l1_ctx *ctx);
uint32_t l1_test_iosplit(struct l1_ctx *ctx);
uint32_t l1_test_actrap(struct l1_ctx *ctx);
uint32_t l1_test_gdb(struct l1_ctx *ctx);       /* tests_gdb.c */
uint32_t l1_test_echo(struct l1_ctx *ctx);   /* tests_uart.c: console input (issue 10) */

#endif
