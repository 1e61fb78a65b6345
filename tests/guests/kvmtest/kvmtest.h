/*
 * kvmtest: what kvmtest.c (the three tiny guests, output, main) and mb2.c
 * (the Multiboot2 kernel mode) share.
 */
#ifndef KVMTEST_H
#define KVMTEST_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

/* Longest line say_raw() passes on; /dev/kmsg refuses records near 1 KiB. */
#define SAY_RAW_MAX 480

/* One line "kvmtest: <fmt...>\n" to stdout and /dev/kmsg. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line "<text>\n" (no prefix; cut to SAY_RAW_MAX) to stdout and /dev/kmsg. */
void say_raw(const char *text, size_t len);

/* KVM_GET_SUPPORTED_CPUID, growing the buffer as needed; NULL on failure. */
struct kvm_cpuid2 *get_supported_cpuid(int kvm);
/* Short name of a KVM_EXIT_* reason ("?" if unknown). */
const char *exit_name(uint32_t reason);

/* Guest memory layout of the tiny guests (kvmtest.c, smp.c). */
#define GUEST_GDT        0x500ull
#define GUEST_PML4       0x10000ull

enum guest_mode { MODE_REAL, MODE_PROT32, MODE_LONG64 };
/* A flat GDT at GUEST_GDT (0x08 code32, 0x10 data, 0x18 code64). */
void write_gdt(uint8_t *mem);
/* Identity map of the first 1 GiB (2 MiB pages) at GUEST_PML4.. +0x2fff. */
void write_page_tables(uint8_t *mem);
/* KVM_SET_SREGS for the mode; on failure *what names the ioctl. */
int setup_sregs(int vcpu, enum guest_mode mode, const char **what);

/*
 * --smp: one VM, two vCPUs, one thread each (smp.c). Returns 0 if both
 * vCPUs did their work, 1 otherwise.
 */
int smp_main(int kvm, int run_size, const struct kvm_cpuid2 *cpuid);

#define MB2_DEFAULT_MEM_MIB 64
#define MB2_MIN_MEM_MIB     2       /* [0x100000, mem) must not be empty */
#define MB2_MAX_MEM_MIB     3072    /* stay below KVM's TSS pages at 0xfffbd000 */

/*
 * Run the Multiboot2 ELF kernel in `file` with mem_mib MiB of RAM and the
 * command line words[0..nwords) joined by spaces. Returns the process exit
 * status (the guest's status, low 8 bits); with exit_port it first writes
 * the status to port 0xf4.
 */
int mb2_main(const char *file, unsigned mem_mib, int exit_port,
	     int nwords, char **words);

/* --thp: back the guest's RAM as QEMU does, 2 MiB aligned with madvise(MADV_HUGEPAGE). */
extern int mb2_thp;

#endif
