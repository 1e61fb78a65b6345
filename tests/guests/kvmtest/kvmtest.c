/*
 * kvmtest: run three tiny guests (real mode, 32-bit protected mode, 64-bit
 * long mode) through /dev/kvm and report every exit they cause.
 *
 * Meant to run inside a minimal initramfs of a Linux that is itself an L1
 * guest of Nestor, so the tiny guests are L2. Every line goes to stdout and
 * to /dev/kmsg (so it reaches the serial console through the kernel log) and
 * starts with "kvmtest: ". See README.md in this directory.
 *
 * Usage: kvmtest [--smp] [--exit-port]
 *   --smp        one VM with two vCPUs, one thread each (smp.c) instead of
 *                the three one-vCPU guests
 *   --exit-port  after the summary, iopl(3) and a 32-bit OUT of the status
 *                (0 all ok, 1 otherwise) to port 0xf4 (isa-debug-exit).
 *
 *        kvmtest --mb2 FILE [--mem MiB] [--thp] [--exit-port] [--] [CMDLINE words...]
 *   runs a Multiboot2 ELF kernel as the guest instead (mb2.c); the guest's
 *   own serial lines are printed without the "kvmtest: " prefix.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "kvmtest.h"

/* Guest payloads, guests.S. */
extern const uint8_t kvmtest_real_start[], kvmtest_real_end[];
extern const uint8_t kvmtest_prot32_start[], kvmtest_prot32_end[];
extern const uint8_t kvmtest_long64_start[], kvmtest_long64_end[];

#define GUEST_MEM_SIZE   0x200000ull     /* one 2 MiB slot at GPA 0 */
#define GUEST_CODE       0x1000ull       /* payload load address */
#define GUEST_STACK      0x8000ull
#define GUEST_PDPT       0x11000ull
#define GUEST_PD         0x12000ull
#define GUEST_TSS_ADDR   0xfffbd000ul    /* outside the slot, as QEMU does */
#define GUEST_TIMEOUT_S  60
#define CPUID_PORT       0x13

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* ------------------------------------------------------------------ output */

/*
 * /dev/kmsg rate-limits writers to 10 records per 5 s per open file (unless
 * the kernel runs with printk.devkmsg=on), so every line gets its own
 * open/write/close: the limit never triggers and no line is dropped.
 */
static int use_kmsg = 1;

/* line[0..n) is one whole line, '\n' included: to stdout and /dev/kmsg. */
static void emit(const char *line, size_t n)
{
	int saved_errno = errno;

	if (write(STDOUT_FILENO, line, n) < 0) {
		/* nothing useful to do */
	}
	if (use_kmsg) {
		int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

		if (fd < 0) {
			use_kmsg = 0;           /* stdout only from now on */
		} else {
			/* One write per line: each write is one kernel log record. */
			if (write(fd, line, n) < 0) {
				/* stdout has it */
			}
			close(fd);
		}
	}
	errno = saved_errno;
}

void say(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "kvmtest: ");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	emit(line, (size_t)n);
}

void say_raw(const char *text, size_t len)
{
	char line[SAY_RAW_MAX + 1];

	if (len > SAY_RAW_MAX)
		len = SAY_RAW_MAX;
	memcpy(line, text, len);
	line[len++] = '\n';
	emit(line, len);
}

/* ----------------------------------------------------------------- timeout */

static volatile sig_atomic_t timed_out;
static struct kvm_run *volatile cur_run;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	/* Makes a KVM_RUN that is about to start return EINTR at once; one that
	 * is already running is kicked out by the signal itself. */
	if (cur_run)
		cur_run->immediate_exit = 1;
}

/* --------------------------------------------------------- expected exits */

enum exp_kind { EXP_IO, EXP_MMIO, EXP_HLT, EXP_OTHER };

struct exit_desc {
	enum exp_kind kind;
	uint16_t port;     /* EXP_IO */
	uint8_t  size;     /* EXP_IO: access size; EXP_MMIO: len */
	uint8_t  out;      /* EXP_IO: 1 = out; EXP_MMIO: 1 = write */
	uint64_t addr;     /* EXP_MMIO */
	uint64_t value;
	int      any_value; /* don't compare value */
};


#define MAX_EXP 8

struct guest {
	const char *name;
	enum guest_mode mode;
	const uint8_t *start, *end;
	int nexp;
	struct exit_desc exp[MAX_EXP];
};

static void describe(char *buf, size_t len, const char *name,
		     const struct exit_desc *d)
{
	switch (d->kind) {
	case EXP_IO:
		if (d->port == CPUID_PORT && d->out && d->size == 4)
			snprintf(buf, len, "%s cpuid ebx=0x%" PRIx64, name, d->value);
		else
			snprintf(buf, len, "%s io port=0x%x size=%u dir=%s value=0x%" PRIx64,
				 name, d->port, d->size, d->out ? "out" : "in", d->value);
		break;
	case EXP_MMIO:
		snprintf(buf, len, "%s mmio addr=0x%" PRIx64 " len=%u write=%u value=0x%" PRIx64,
			 name, d->addr, d->size, d->out, d->value);
		break;
	case EXP_HLT:
		snprintf(buf, len, "%s hlt", name);
		break;
	default:
		snprintf(buf, len, "%s other", name);
		break;
	}
}

static int exit_matches(const struct exit_desc *e, const struct exit_desc *g)
{
	if (e->kind != g->kind)
		return 0;
	switch (e->kind) {
	case EXP_IO:
		return e->port == g->port && e->size == g->size && e->out == g->out &&
		       (e->any_value || e->value == g->value);
	case EXP_MMIO:
		return e->addr == g->addr && e->size == g->size && e->out == g->out &&
		       (e->any_value || e->value == g->value);
	default:
		return 1;
	}
}

static uint64_t le_value(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	if (len > 8)
		len = 8;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN:         return "unknown";
	case KVM_EXIT_EXCEPTION:       return "exception";
	case KVM_EXIT_IO:              return "io";
	case KVM_EXIT_HYPERCALL:       return "hypercall";
	case KVM_EXIT_DEBUG:           return "debug";
	case KVM_EXIT_HLT:             return "hlt";
	case KVM_EXIT_MMIO:            return "mmio";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
	case KVM_EXIT_SHUTDOWN:        return "shutdown";
	case KVM_EXIT_FAIL_ENTRY:      return "fail_entry";
	case KVM_EXIT_INTR:            return "intr";
	case KVM_EXIT_INTERNAL_ERROR:  return "internal_error";
	default:                       return "?";
	}
}

/* ------------------------------------------------------------ guest setup */

static struct kvm_cpuid2 *supported_cpuid;   /* NULL if unavailable */

struct kvm_cpuid2 *get_supported_cpuid(int kvm)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
		    int code64, int db)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = (uint8_t)db;
	s->s = 1;
	s->l = (uint8_t)code64;
	s->g = 1;
}

void write_gdt(uint8_t *mem)
{
	static const uint64_t gdt[4] = {
		0,
		0x00cf9b000000ffffull,   /* 0x08: 32-bit code, flat */
		0x00cf93000000ffffull,   /* 0x10: data, flat */
		0x00af9b000000ffffull,   /* 0x18: 64-bit code */
	};
	memcpy(mem + GUEST_GDT, gdt, sizeof(gdt));
}

void write_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + GUEST_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + GUEST_PDPT);
	uint64_t *pd = (uint64_t *)(mem + GUEST_PD);

	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = GUEST_PDPT | 0x3;          /* P | RW */
	pdpt[0] = GUEST_PD | 0x3;
	/* Identity-map the first 1 GiB with 2 MiB pages: the first one covers
	 * the memory slot, the second one the MMIO addresses at 0x300000. */
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;    /* P | RW | PS */
}

int setup_sregs(int vcpu, enum guest_mode mode, const char **what)
{
	struct kvm_sregs sr;

	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0) {
		*what = "KVM_GET_SREGS";
		return -1;
	}

	switch (mode) {
	case MODE_REAL:
		/* Reset state is real mode with CS=f000/base ffff0000. Move CS to
		 * base 0; give DS a 4 GiB limit (big real mode) so the payload can
		 * reach 0x300000 with an address-size override. */
		sr.cs.selector = 0;
		sr.cs.base = 0;
		sr.ds.selector = 0;
		sr.ds.base = 0;
		sr.ds.limit = 0xffffffff;
		sr.ds.g = 1;
		sr.es.selector = sr.fs.selector = sr.gs.selector = sr.ss.selector = 0;
		sr.es.base = sr.fs.base = sr.gs.base = sr.ss.base = 0;
		break;
	case MODE_PROT32:
		set_seg(&sr.cs, 0x08, 0xb, 0, 1);
		set_seg(&sr.ds, 0x10, 0x3, 0, 1);
		sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
		sr.gdt.base = GUEST_GDT;
		sr.gdt.limit = 4 * 8 - 1;
		sr.cr0 = CR0_PE | CR0_ET;
		sr.cr4 = 0;
		sr.efer = 0;
		break;
	case MODE_LONG64:
		set_seg(&sr.cs, 0x18, 0xb, 1, 0);
		set_seg(&sr.ds, 0x10, 0x3, 0, 1);
		sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
		sr.gdt.base = GUEST_GDT;
		sr.gdt.limit = 4 * 8 - 1;
		sr.cr3 = GUEST_PML4;
		sr.cr4 = CR4_PAE;
		sr.efer = EFER_LME | EFER_LMA;
		sr.cr0 = CR0_PE | CR0_ET | CR0_PG;
		break;
	}

	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0) {
		*what = "KVM_SET_SREGS";
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- running */

/* Returns 1 if the guest passed. */
static int run_guest(int kvm, int run_size, const struct guest *g)
{
	int vm = -1, vcpu = -1, ok = 0, idx = 0, done = 0;
	uint8_t *mem = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	const char *what = NULL;
	char fail[256] = "";
	size_t code_len = (size_t)(g->end - g->start);
	uint64_t hlt_rip = GUEST_CODE + code_len;

	timed_out = 0;
	cur_run = NULL;
	alarm(GUEST_TIMEOUT_S);

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) { what = "KVM_CREATE_VM"; goto setup_failed; }

	if (ioctl(vm, KVM_SET_TSS_ADDR, GUEST_TSS_ADDR) < 0) {
		what = "KVM_SET_TSS_ADDR";
		goto setup_failed;
	}

	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) { what = "mmap guest memory"; goto setup_failed; }

	memcpy(mem + GUEST_CODE, g->start, code_len);
	write_gdt(mem);
	if (g->mode == MODE_LONG64)
		write_page_tables(mem);

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		what = "KVM_SET_USER_MEMORY_REGION";
		goto setup_failed;
	}

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) { what = "KVM_CREATE_VCPU"; goto setup_failed; }

	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) { what = "mmap kvm_run"; goto setup_failed; }

	if (supported_cpuid && ioctl(vcpu, KVM_SET_CPUID2, supported_cpuid) < 0) {
		what = "KVM_SET_CPUID2";
		goto setup_failed;
	}

	if (setup_sregs(vcpu, g->mode, &what) < 0)
		goto setup_failed;

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE;
	regs.rsp = GUEST_STACK;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) { what = "KVM_SET_REGS"; goto setup_failed; }

	cur_run = run;
	while (!done) {
		char line[256];
		struct exit_desc got;

		if (timed_out)
			break;
		run->immediate_exit = 0;
		if (timed_out)
			break;
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;       /* loop top checks timed_out */
			snprintf(fail, sizeof(fail), "KVM_RUN: %s", strerror(errno));
			break;
		}

		memset(&got, 0, sizeof(got));
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			got.kind = EXP_IO;
			got.port = run->io.port;
			got.size = run->io.size;
			got.out = run->io.direction == KVM_EXIT_IO_OUT;
			if (got.out)
				got.value = le_value(data, run->io.size);
			else
				memset(data, 0, (size_t)run->io.size * run->io.count);
			if (run->io.count != 1 && !fail[0])
				snprintf(fail, sizeof(fail), "io count=%u", run->io.count);
			break;
		}
		case KVM_EXIT_MMIO:
			got.kind = EXP_MMIO;
			got.addr = run->mmio.phys_addr;
			got.size = (uint8_t)run->mmio.len;
			got.out = run->mmio.is_write;
			if (got.out)
				got.value = le_value(run->mmio.data, run->mmio.len);
			else
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			got.kind = EXP_HLT;
			done = 1;
			break;
		default: {
			struct kvm_regs r;
			char extra[96] = "";
			unsigned long long rip = 0;

			if (ioctl(vcpu, KVM_GET_REGS, &r) == 0)
				rip = r.rip;
			if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
				snprintf(extra, sizeof(extra), " hardware_entry_failure_reason=0x%llx",
					 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
				snprintf(extra, sizeof(extra), " suberror=%u", run->internal.suberror);
			snprintf(fail, sizeof(fail), "exit_reason=%u (%s)%s rip=0x%llx after %d exits",
				 run->exit_reason, exit_name(run->exit_reason), extra, rip, idx);
			got.kind = EXP_OTHER;
			done = 1;
			break;
		}
		}
		if (got.kind == EXP_OTHER)
			break;

		describe(line, sizeof(line), g->name, &got);
		say("%s", line);

		if (idx >= g->nexp) {
			if (!fail[0])
				snprintf(fail, sizeof(fail), "unexpected extra exit #%d", idx + 1);
			done = 1;      /* don't let a runaway guest loop forever */
		} else if (!exit_matches(&g->exp[idx], &got) && !fail[0]) {
			char exp[160];

			describe(exp, sizeof(exp), g->name, &g->exp[idx]);
			/* drop the "<name> " prefix in the message */
			snprintf(fail, sizeof(fail), "exit #%d expected '%s'",
				 idx + 1, exp + strlen(g->name) + 1);
		}
		idx++;

		if (got.kind == EXP_HLT && !fail[0]) {
			struct kvm_regs r;

			if (ioctl(vcpu, KVM_GET_REGS, &r) < 0)
				snprintf(fail, sizeof(fail), "KVM_GET_REGS: %s", strerror(errno));
			else if (r.rip != hlt_rip)
				snprintf(fail, sizeof(fail), "hlt rip=0x%llx expected 0x%llx",
					 (unsigned long long)r.rip, (unsigned long long)hlt_rip);
		}
	}
	cur_run = NULL;
	alarm(0);

	if (timed_out) {
		say("%s TIMEOUT", g->name);
	} else {
		if (!fail[0] && idx != g->nexp)
			snprintf(fail, sizeof(fail), "got %d exits, expected %d", idx, g->nexp);
		if (fail[0])
			say("%s FAIL %s", g->name, fail);
		else {
			say("%s ok", g->name);
			ok = 1;
		}
	}
	goto out;

setup_failed: {
	int err = errno;

	alarm(0);
	cur_run = NULL;
	say("%s FAIL setup %s: %s", g->name, what, strerror(err));
}
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (mem != MAP_FAILED)
		munmap(mem, GUEST_MEM_SIZE);
	if (vm >= 0)
		close(vm);
	return ok;
}

/* ------------------------------------------------------------------- main */

static void print_ept(void)
{
	char buf[64] = "?";
	int fd = open("/sys/module/kvm_intel/parameters/ept", O_RDONLY);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\r\n")] = 0;
			if (!buf[0])
				strcpy(buf, "?");
		} else {
			strcpy(buf, "?");
		}
		close(fd);
	}
	say("ept=%s", buf);
}

static int finish(int status, int exit_port)
{
	say(status == 0 ? "all ok" : "FAIL");
	/* The tty sends on COM1's transmit interrupts: let it drain before the run ends. */
	tcdrain(STDOUT_FILENO);
	if (exit_port) {
		if (iopl(3) < 0) {
			say("iopl(3) failed: %s", strerror(errno));
		} else {
			outl((unsigned int)status, 0xf4);
			/* Still here: no isa-debug-exit device; fall back to exit. */
		}
	}
	return status;
}

static int usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--smp] [--exit-port]\n"
		"       %s --mb2 FILE [--mem MiB] [--thp] [--exit-port] [--] [CMDLINE words...]\n",
		prog, prog);
	return 2;
}

int main(int argc, char **argv)
{
	int exit_port = 0, all_ok = 1, smp = 0, i;
	const char *mb2_file = NULL, *mem_arg = NULL;

	/* Options first; in --mb2 mode the first other word (or whatever
	 * follows "--") starts the guest's command line. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--exit-port") == 0) {
			exit_port = 1;
		} else if (strcmp(argv[i], "--smp") == 0 && !mb2_file) {
			smp = 1;
		} else if (strcmp(argv[i], "--mb2") == 0 && i + 1 < argc) {
			mb2_file = argv[++i];
		} else if (strcmp(argv[i], "--thp") == 0 && mb2_file) {
			mb2_thp = 1;
		} else if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc) {
			mem_arg = argv[++i];
		} else if (strcmp(argv[i], "--") == 0 && mb2_file) {
			i++;
			break;
		} else if (mb2_file && strncmp(argv[i], "--", 2) != 0) {
			break;
		} else {
			return usage(argv[0]);
		}
	}
	if (mb2_file) {
		unsigned long mem_mib = MB2_DEFAULT_MEM_MIB;

		if (mem_arg) {
			char *end;

			errno = 0;
			mem_mib = strtoul(mem_arg, &end, 0);
			if (errno || end == mem_arg || *end ||
			    mem_mib < MB2_MIN_MEM_MIB || mem_mib > MB2_MAX_MEM_MIB) {
				fprintf(stderr, "%s: --mem wants %u..%u (MiB)\n",
					argv[0], MB2_MIN_MEM_MIB, MB2_MAX_MEM_MIB);
				return 2;
			}
		}
		return mb2_main(mb2_file, (unsigned)mem_mib, exit_port,
				argc - i, argv + i);
	}
	if (mem_arg || i < argc)
		return usage(argv[0]);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;            /* no SA_RESTART: KVM_RUN must return EINTR */
	sigaction(SIGALRM, &sa, NULL);

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		say("open /dev/kvm: %s", strerror(errno));
		return finish(1, exit_port);
	}

	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	say("api version=%d", api);
	print_ept();
	if (api != KVM_API_VERSION) {
		say("unexpected api version (want %d)", KVM_API_VERSION);
		return finish(1, exit_port);
	}

	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		say("KVM_GET_VCPU_MMAP_SIZE: %d (%s)", run_size, strerror(errno));
		return finish(1, exit_port);
	}

	supported_cpuid = get_supported_cpuid(kvm);
	uint64_t cpuid0_ebx = 0;
	int cpuid0_known = 0;
	if (!supported_cpuid) {
		say("KVM_GET_SUPPORTED_CPUID failed (%s); guests get KVM's default CPUID",
		    strerror(errno));
	} else {
		for (uint32_t i = 0; i < supported_cpuid->nent; i++) {
			if (supported_cpuid->entries[i].function == 0) {
				cpuid0_ebx = supported_cpuid->entries[i].ebx;
				cpuid0_known = 1;
			}
		}
	}

	if (smp) {
		int st = smp_main(kvm, run_size, supported_cpuid);

		close(kvm);
		return finish(st, exit_port);
	}

	const struct guest guests[] = {
		{
			.name = "real", .mode = MODE_REAL,
			.start = kvmtest_real_start, .end = kvmtest_real_end,
			.nexp = 3,
			.exp = {
				{ .kind = EXP_IO, .port = 0x10, .size = 1, .out = 1, .value = 0x52 },
				{ .kind = EXP_MMIO, .addr = 0x300000, .size = 1, .out = 1, .value = 0xa5 },
				{ .kind = EXP_HLT },
			},
		},
		{
			.name = "prot32", .mode = MODE_PROT32,
			.start = kvmtest_prot32_start, .end = kvmtest_prot32_end,
			.nexp = 3,
			.exp = {
				{ .kind = EXP_IO, .port = 0x11, .size = 1, .out = 1, .value = 0x32 },
				{ .kind = EXP_MMIO, .addr = 0x300004, .size = 4, .out = 1,
				  .value = 0xdeadbeef },
				{ .kind = EXP_HLT },
			},
		},
		{
			.name = "long64", .mode = MODE_LONG64,
			.start = kvmtest_long64_start, .end = kvmtest_long64_end,
			.nexp = 4,
			.exp = {
				{ .kind = EXP_IO, .port = 0x12, .size = 1, .out = 1, .value = 0x64 },
				{ .kind = EXP_MMIO, .addr = 0x300008, .size = 8, .out = 1,
				  .value = 0x1122334455667788ull },
				{ .kind = EXP_IO, .port = CPUID_PORT, .size = 4, .out = 1,
				  .value = cpuid0_ebx, .any_value = !cpuid0_known },
				{ .kind = EXP_HLT },
			},
		},
	};

	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++)
		if (!run_guest(kvm, run_size, &guests[i]))
			all_ok = 0;

	close(kvm);
	return finish(all_ok ? 0 : 1, exit_port);
}
