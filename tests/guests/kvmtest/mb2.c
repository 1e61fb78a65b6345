/*
 * kvmtest --mb2: a minimal Multiboot2 loader plus a minimal machine, so that a
 * Multiboot2 ELF kernel (l1test-mb2.elf, pfbench.elf, ...) can run as a KVM
 * guest.
 *
 *   loader   ELF32/ELF64 PT_LOAD segments copied to p_paddr (bss zeroed),
 *            Multiboot2 header found and checked (entry-address tag
 *            honoured), MBI2 with tags 1 (command line), 4 (basic meminfo),
 *            6 (memory map), vCPU in flat 32-bit protected mode with
 *            EAX = 0x36d76289 and EBX = the MBI2's address.
 *   machine  one RAM slot of --mem MiB at guest-physical 0; a 16550 at
 *            0x3f8 good enough for polled output (each line printed as is);
 *            port 0xf4 = exit status; port 0x8900 ignored; any other port
 *            reads all ones. No interrupt controller, no timer: HLT ends the
 *            run, and so does any MMIO access (there is no MMIO device).
 *
 * Status: what the guest wrote to 0xf4, or 0xfe (HLT), 0xfd (shutdown,
 * failed entry, KVM internal error, MMIO, any other exit KVM hands to user
 * space, or KVM_RUN failing), 0xfc (the file could not be loaded or the VM
 * not set up). See README.md.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmtest.h"

#define MB2_HEADER_MAGIC   0xe85250d6u
#define MB2_BOOT_MAGIC     0x36d76289u
#define MB2_SEARCH_BYTES   32768u       /* the header lies within this much of the file */
#define MB2_ARCH_I386      0u

/* Header tags (Multiboot2 spec 3.1.x). */
#define MB2_HTAG_END       0
#define MB2_HTAG_ADDRESS   2
#define MB2_HTAG_ENTRY     3
#define MB2_HTAG_OPTIONAL  1u           /* flags bit 0 */
#define MB2_HTAG_MAX_KNOWN 10           /* up to "relocatable" */

/* MBI2 tags. */
#define MB2_TAG_END        0
#define MB2_TAG_CMDLINE    1
#define MB2_TAG_MEMINFO    4
#define MB2_TAG_MMAP       6
#define MB2_MMAP_ENTRY     24
#define MB2_MEM_AVAILABLE  1

#define LOW_MEM_END        0x9fc00ull   /* 639 KiB of conventional memory */
#define HIGH_MEM_START     0x100000ull

#define MB2_TSS_ADDR       0xfffbd000ul /* as the default mode, above the RAM */

#define COM1               0x3f8
#define COM1_LCR           (COM1 + 3)
#define COM1_LSR           (COM1 + 5)
#define LCR_DLAB           0x80
#define LSR_IDLE           0x60         /* THRE | TEMT: always ready */
#define EXIT_PORT          0xf4
#define BOCHS_PORT         0x8900

#define ST_HLT             0xfe
#define ST_CRASH           0xfd
#define ST_SETUP           0xfc

#define CR0_PE             (1ull << 0)
#define CR0_ET             (1ull << 4)

#define THP_SIZE           (2ull << 20)

int mb2_thp;

/*
 * Linux turns THP off at boot on machines with less than 512 MiB (hugepage_init), as an L1
 * in a small Bochs machine is: a host that runs QEMU has it on, so --thp turns it on for
 * madvise()d memory (THP "madvise" mode) when it is off.
 */
static void thp_enable(void)
{
	const char *path = "/sys/kernel/mm/transparent_hugepage/enabled";
	char cur[128] = "";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(cur, sizeof(cur), f))
			cur[0] = 0;
		fclose(f);
	}
	if (!strstr(cur, "[never]"))
		return;
	f = fopen(path, "w");
	if (!f || fputs("madvise", f) < 0 || fclose(f) != 0)
		say("mb2 cannot turn on transparent huge pages: %s", strerror(errno));
	else
		say("mb2 transparent huge pages were off: now madvise");
}

/* How much of the guest's RAM ended up on huge pages (0 kB: KVM mapped it in 4 KiB pages). */
static void say_thp_usage(void)
{
	char l[256];
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	while (f && fgets(l, sizeof(l), f))
		if (strncmp(l, "AnonHugePages:", 14) == 0) {
			l[strcspn(l, "\n")] = 0;
			say("mb2 thp %s", l);
		}
	if (f)
		fclose(f);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ----------------------------------------------------------------- errors */

static char err_buf[256];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	return -1;
}

/* -------------------------------------------------------------------- ELF */

struct segment {
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct image {
	uint8_t *data;          /* the whole file */
	size_t size;
	int elf64;
	uint64_t e_entry;
	int nseg;               /* PT_LOAD segments with memsz > 0 */
	struct segment *seg;
	uint64_t lo, hi;        /* guest-physical [lo, hi) spanned by them */
	uint64_t entry;         /* guest-physical entry point */
	int entry_from_tag;
};

static int read_file(const char *path, struct image *im)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return fail("open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return fail("%s: not a non-empty regular file", path);
	}
	im->size = (size_t)st.st_size;
	im->data = malloc(im->size);
	if (!im->data) {
		close(fd);
		return fail("%s: out of memory (%zu bytes)", path, im->size);
	}
	for (size_t got = 0; got < im->size; ) {
		ssize_t n = read(fd, im->data + got, im->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return fail("read %s: %s", path, n < 0 ? strerror(errno) : "short file");
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Does [off, off+len) lie inside the file? (overflow safe) */
static int in_file(const struct image *im, uint64_t off, uint64_t len)
{
	return off <= im->size && len <= im->size - off;
}

static int parse_elf(struct image *im)
{
	const uint8_t *id = im->data;
	uint64_t phoff;
	unsigned phentsize, phnum, machine;

	if (im->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return fail("not an ELF file");
	if (id[EI_DATA] != ELFDATA2LSB)
		return fail("not a little-endian ELF file");

	if (id[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		if (im->size < sizeof(eh))
			return fail("truncated ELF32 header");
		memcpy(&eh, im->data, sizeof(eh));
		im->elf64 = 0;
		im->e_entry = eh.e_entry;
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		machine = eh.e_machine;
		if (phentsize < sizeof(Elf32_Phdr))
			return fail("ELF32 e_phentsize=%u too small", phentsize);
	} else if (id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;

		if (im->size < sizeof(eh))
			return fail("truncated ELF64 header");
		memcpy(&eh, im->data, sizeof(eh));
		im->elf64 = 1;
		im->e_entry = eh.e_entry;
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		machine = eh.e_machine;
		if (phentsize < sizeof(Elf64_Phdr))
			return fail("ELF64 e_phentsize=%u too small", phentsize);
	} else {
		return fail("ELF class %u is neither ELF32 nor ELF64", id[EI_CLASS]);
	}
	if (machine != EM_386 && machine != EM_X86_64)
		return fail("ELF e_machine=%u is not x86", machine);
	if (phnum == 0 || !in_file(im, phoff, (uint64_t)phnum * phentsize))
		return fail("ELF program headers missing or outside the file");

	im->seg = calloc(phnum, sizeof(*im->seg));
	if (!im->seg)
		return fail("out of memory");
	im->lo = UINT64_MAX;
	im->hi = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = im->data + phoff + (uint64_t)i * phentsize;
		struct segment s;
		uint32_t type;

		if (im->elf64) {
			Elf64_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type;
			s = (struct segment){ p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz };
		} else {
			Elf32_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type;
			s = (struct segment){ p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz };
		}
		if (type != PT_LOAD || s.memsz == 0)
			continue;
		if (s.filesz > s.memsz)
			return fail("PT_LOAD #%u: filesz 0x%" PRIx64 " > memsz 0x%" PRIx64,
				    i, s.filesz, s.memsz);
		if (!in_file(im, s.offset, s.filesz))
			return fail("PT_LOAD #%u: file data outside the file", i);
		if (s.paddr + s.memsz < s.paddr)
			return fail("PT_LOAD #%u: paddr 0x%" PRIx64 " + memsz wraps", i, s.paddr);
		im->seg[im->nseg++] = s;
		if (s.paddr < im->lo)
			im->lo = s.paddr;
		if (s.paddr + s.memsz > im->hi)
			im->hi = s.paddr + s.memsz;
	}
	if (im->nseg == 0)
		return fail("no PT_LOAD segment");
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Find and check the Multiboot2 header; set im->entry from an entry-address
 * tag if there is one. Tags this loader does not implement are fine when
 * they are optional or harmless here (information request, console flags,
 * framebuffer, module alignment: there are no modules, EFI tags: this is a
 * BIOS-style boot, relocatable: the kernel goes to its own p_paddr); an
 * address tag that is not optional is refused (this loader places the
 * kernel by its ELF program headers only).
 */
static int find_mb2_header(struct image *im)
{
	size_t limit = im->size < MB2_SEARCH_BYTES ? im->size : MB2_SEARCH_BYTES;

	for (size_t off = 0; off + 16 <= limit; off += 8) {
		const uint8_t *h = im->data + off;
		uint32_t magic = rd32(h), arch = rd32(h + 4);
		uint32_t len = rd32(h + 8), sum = rd32(h + 12);

		if (magic != MB2_HEADER_MAGIC)
			continue;
		if ((uint32_t)(magic + arch + len + sum) != 0)
			continue;       /* not a header after all (or a broken one) */
		if (arch != MB2_ARCH_I386)
			return fail("Multiboot2 header at 0x%zx: architecture %u, not i386 (0)",
				    off, arch);
		if (len < 16 || !in_file(im, off, len))
			return fail("Multiboot2 header at 0x%zx: bad header_length %u", off, len);

		for (uint32_t t = 16; t + 8 <= len; ) {
			uint16_t type = rd16(h + t), flags = rd16(h + t + 2);
			uint32_t size = rd32(h + t + 4);

			if (size < 8 || size > len - t)
				return fail("Multiboot2 header tag at +%u: bad size %u", t, size);
			if (type == MB2_HTAG_END)
				break;
			if (type == MB2_HTAG_ENTRY) {
				if (size < 12)
					return fail("Multiboot2 entry address tag too short");
				im->entry = rd32(h + t + 8);
				im->entry_from_tag = 1;
			} else if (!(flags & MB2_HTAG_OPTIONAL) &&
				   (type == MB2_HTAG_ADDRESS || type > MB2_HTAG_MAX_KNOWN)) {
				return fail("Multiboot2 header tag type %u is not supported", type);
			}
			t += (uint32_t)align_up(size, 8);
		}
		return 0;
	}
	return fail("no Multiboot2 header in the first %u bytes", MB2_SEARCH_BYTES);
}

/* e_entry is a virtual address: move it to the segment's physical address. */
static int entry_from_elf(struct image *im)
{
	for (int i = 0; i < im->nseg; i++) {
		const struct segment *s = &im->seg[i];

		if (im->e_entry >= s->vaddr && im->e_entry - s->vaddr < s->memsz) {
			im->entry = s->paddr + (im->e_entry - s->vaddr);
			return 0;
		}
	}
	return fail("e_entry 0x%" PRIx64 " is in no PT_LOAD segment", im->e_entry);
}

/* ------------------------------------------------------------ guest memory */

static int load_segments(const struct image *im, uint8_t *mem, uint64_t mem_size)
{
	for (int i = 0; i < im->nseg; i++) {
		const struct segment *s = &im->seg[i];

		if (s->paddr >= mem_size || s->memsz > mem_size - s->paddr)
			return fail("segment [0x%" PRIx64 ", 0x%" PRIx64 ") is outside the RAM "
				    "[0, 0x%" PRIx64 ")", s->paddr, s->paddr + s->memsz, mem_size);
		memcpy(mem + s->paddr, im->data + s->offset, s->filesz);
		memset(mem + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

static void put_tag_header(uint8_t *p, uint32_t type, uint32_t size)
{
	memcpy(p, &type, 4);
	memcpy(p + 4, &size, 4);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/*
 * Build the MBI2 right after the kernel (page aligned) or, if it doesn't fit
 * there, just below the kernel (8 aligned, above the first page). Returns
 * its guest-physical address, 0 on failure.
 */
static uint64_t build_mbi(const struct image *im, uint8_t *mem, uint64_t mem_size,
			  const char *cmdline)
{
	size_t cmd_size = 8 + strlen(cmdline) + 1;
	size_t mmap_size = 16 + 2 * MB2_MMAP_ENTRY;
	size_t total = 8 + align_up(cmd_size, 8) + 16 + align_up(mmap_size, 8) + 8;
	uint64_t addr;

	if (total > UINT32_MAX) {
		fail("command line too long");
		return 0;
	}
	addr = align_up(im->hi, 4096);
	if (addr < im->hi || addr > mem_size || total > mem_size - addr) {
		if (im->lo < 0x1000 + total) {
			fail("no room for the %zu-byte MBI2 below or above the kernel", total);
			return 0;
		}
		addr = (im->lo - total) & ~7ull;
	}

	uint8_t *m = mem + addr, *p = m;

	memset(m, 0, total);
	put32(p, (uint32_t)total);              /* total_size */
	put32(p + 4, 0);                        /* reserved */
	p += 8;

	put_tag_header(p, MB2_TAG_CMDLINE, (uint32_t)cmd_size);
	memcpy(p + 8, cmdline, cmd_size - 8);   /* includes the NUL */
	p += align_up(cmd_size, 8);

	put_tag_header(p, MB2_TAG_MEMINFO, 16);
	put32(p + 8, (uint32_t)(LOW_MEM_END >> 10));                        /* 639 */
	put32(p + 12, (uint32_t)((mem_size - HIGH_MEM_START) >> 10));      /* (mem-1)*1024 */
	p += 16;

	put_tag_header(p, MB2_TAG_MMAP, (uint32_t)mmap_size);
	put32(p + 8, MB2_MMAP_ENTRY);           /* entry_size */
	put32(p + 12, 0);                       /* entry_version */
	put64(p + 16, 0);
	put64(p + 24, LOW_MEM_END);
	put32(p + 32, MB2_MEM_AVAILABLE);
	put64(p + 40, HIGH_MEM_START);
	put64(p + 48, mem_size - HIGH_MEM_START);
	put32(p + 56, MB2_MEM_AVAILABLE);
	p += align_up(mmap_size, 8);

	put_tag_header(p, MB2_TAG_END, 8);
	return addr;
}

/* ------------------------------------------------------------------ vCPU */

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;         /* 0xb: code, execute/read, accessed; 0x3: data, r/w, accessed */
	s->present = 1;
	s->dpl = 0;
	s->db = 1;              /* 32-bit */
	s->s = 1;
	s->l = 0;
	s->g = 1;
}

/* Machine state the Multiboot2 spec (3.3, I386 machine state) asks for. */
static int setup_vcpu(int vcpu, uint32_t entry, uint32_t mbi)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
		return fail("KVM_GET_SREGS: %s", strerror(errno));
	flat_seg(&sr.cs, 0x08, 0xb);
	flat_seg(&sr.ds, 0x10, 0x3);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	/* GDTR/IDTR keep their reset values: the spec lets them be invalid, and
	 * the kernel must load its own before touching a segment register. */
	sr.cr0 = CR0_PE | CR0_ET;   /* PE set, PG clear (and caches on) */
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0)
		return fail("KVM_SET_SREGS: %s", strerror(errno));

	memset(&regs, 0, sizeof(regs));
	regs.rax = MB2_BOOT_MAGIC;
	regs.rbx = mbi;
	regs.rip = entry;
	regs.rflags = 0x2;          /* IF = 0, VM = 0 */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

/* -------------------------------------------------------------- machine */

struct machine {
	uint8_t lcr;                    /* UART line control register */
	char line[SAY_RAW_MAX];         /* UART output not yet printed */
	size_t line_len;
	unsigned long n_io, n_mmio, n_hlt, n_other;
	int stopped;
	uint32_t status;
};

static void uart_flush(struct machine *m)
{
	if (m->line_len) {
		say_raw(m->line, m->line_len);
		m->line_len = 0;
	}
}

static void uart_putc(struct machine *m, char c)
{
	if (c == '\n') {
		/* Print even an empty line: the guest asked for one. */
		say_raw(m->line, m->line_len);
		m->line_len = 0;
		return;
	}
	if (c == '\r')
		return;
	if (m->line_len == sizeof(m->line))
		uart_flush(m);          /* overlong line: print it in pieces */
	m->line[m->line_len++] = c;
}

static void stop(struct machine *m, uint32_t status)
{
	m->stopped = 1;
	m->status = status;
}

/* One element of a KVM_EXIT_IO (count may be > 1 for INS/OUTS). */
static void do_io(struct machine *m, uint16_t port, int out, uint8_t *data, unsigned size)
{
	uint32_t value = 0;

	if (out)
		memcpy(&value, data, size < 4 ? size : 4);

	if (port >= COM1 && port <= COM1 + 7) {
		if (out) {
			if (port == COM1 && !(m->lcr & LCR_DLAB))
				uart_putc(m, (char)value);
			else if (port == COM1_LCR)
				m->lcr = (uint8_t)value;
		} else {
			memset(data, 0, size);
			if (port == COM1_LSR)
				data[0] = LSR_IDLE;
		}
		return;
	}
	if (port == EXIT_PORT && out) {
		if (!m->stopped) {
			uart_flush(m);
			say("mb2 exit status=0x%" PRIx32, value);
			stop(m, value);
		}
		return;
	}
	if (out)
		return;                 /* 0x8900 (Bochs) and everything else */
	memset(data, 0xff, size);       /* nothing there */
}

static void report_exit(struct machine *m, int vcpu, struct kvm_run *run)
{
	struct kvm_regs r;
	unsigned long long rip = 0;
	char extra[160] = "";

	if (ioctl(vcpu, KVM_GET_REGS, &r) == 0)
		rip = r.rip;
	uart_flush(m);
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO: {
		uint64_t value = 0;

		for (unsigned i = 0; run->mmio.is_write && i < run->mmio.len && i < 8; i++)
			value |= (uint64_t)run->mmio.data[i] << (8 * i);
		say("mb2 mmio addr=0x%llx len=%u write=%u value=0x%" PRIx64 " rip=0x%llx",
		    (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		    run->mmio.is_write, value, rip);
		return;
	}
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(extra, sizeof(extra), " hardware_entry_failure_reason=0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		int n = snprintf(extra, sizeof(extra), " suberror=%u", run->internal.suberror);

		for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n < (int)sizeof(extra); i++)
			n += snprintf(extra + n, sizeof(extra) - (size_t)n, " data%u=0x%llx", i,
				      (unsigned long long)run->internal.data[i]);
		break;
	}
	default:
		break;
	}
	say("mb2 exit_reason=%u (%s)%s rip=0x%llx", run->exit_reason,
	    exit_name(run->exit_reason), extra, rip);
}

static uint32_t run_vcpu(struct machine *m, int vcpu, struct kvm_run *run)
{
	while (!m->stopped) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				m->n_other++;   /* KVM_EXIT_INTR: a signal, go on */
				continue;
			}
			uart_flush(m);
			say("mb2 KVM_RUN: %s", strerror(errno));
			stop(m, ST_CRASH);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			m->n_io++;
			for (uint32_t i = 0; i < run->io.count; i++)
				do_io(m, run->io.port, run->io.direction == KVM_EXIT_IO_OUT,
				      data + (size_t)i * run->io.size, run->io.size);
			break;
		}
		case KVM_EXIT_HLT:
			m->n_hlt++;
			uart_flush(m);
			say("mb2 hlt");
			stop(m, ST_HLT);
			break;
		case KVM_EXIT_MMIO:
			m->n_mmio++;
			report_exit(m, vcpu, run);
			stop(m, ST_CRASH);
			break;
		default:
			/* shutdown (triple fault), fail_entry, internal_error, and
			 * anything else: there is nothing here to handle it with. */
			m->n_other++;
			report_exit(m, vcpu, run);
			stop(m, ST_CRASH);
			break;
		}
	}
	uart_flush(m);
	return m->status;
}

/* ------------------------------------------------------------ KVM's view */

/* The vCPU's own counters from KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+):
 * every exit KVM handled for this vCPU, including those of a guest the guest runs itself
 * (nested_run counts its emulated VM entries), which user space never sees. */
static void report_kvm_stats(int vcpu)
{
	static const char *const names[] = { "exits", "nested_run", "io_exits", "halt_exits", "pf_taken" };
	uint64_t val[sizeof(names) / sizeof(names[0])];
	int found[sizeof(names) / sizeof(names[0])] = { 0 };
	struct kvm_stats_header h;
	char line[256];
	int fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL), n = 0;

	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		say("mb2 kvm stats unavailable: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	struct kvm_stats_desc *d = malloc(dsz);

	for (uint32_t i = 0; d && i < h.num_desc; i++) {
		if (pread(fd, d, dsz, h.desc_offset + i * dsz) != (ssize_t)dsz)
			break;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (found[k] || strncmp(d->name, names[k], h.name_size) != 0)
				continue;
			found[k] = pread(fd, &val[k], sizeof(val[k]), h.data_offset + d->offset) ==
				   (ssize_t)sizeof(val[k]);
		}
	}
	free(d);
	close(fd);
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (found[k])
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%" PRIu64, names[k], val[k]);
	say("mb2 kvm%s", n ? line : " stats: none of the counters found");
}

/* ------------------------------------------------------------------- main */

static char *join_words(int n, char **w)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; i < n; i++)
		len += strlen(w[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = 0;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? " " : "", w[i]);
	return s;
}

static int finish(uint32_t status, int exit_port)
{
	if (exit_port) {
		if (iopl(3) < 0)
			say("iopl(3) failed: %s", strerror(errno));
		else
			outl(status, EXIT_PORT);
		/* Still here: no isa-debug-exit device; fall back to exit. */
	}
	return (int)(status & 0xff);
}

int mb2_main(const char *file, unsigned mem_mib, int exit_port, int nwords, char **words)
{
	struct image im;
	struct machine mach;
	uint64_t mem_size = (uint64_t)mem_mib << 20, mbi;
	uint8_t *mem = MAP_FAILED, *map = MAP_FAILED;
	uint64_t map_size = 0;
	struct kvm_run *run = MAP_FAILED;
	int kvm = -1, vm = -1, vcpu = -1, run_size = 0;
	uint32_t status = ST_SETUP;
	char *cmdline = join_words(nwords, words);
	struct kvm_cpuid2 *cpuid;

	memset(&im, 0, sizeof(im));
	memset(&mach, 0, sizeof(mach));

	if (!cmdline) {
		fail("out of memory");
		goto setup_failed;
	}
	if (read_file(file, &im) < 0 || parse_elf(&im) < 0 || find_mb2_header(&im) < 0)
		goto setup_failed;
	if (!im.entry_from_tag && entry_from_elf(&im) < 0)
		goto setup_failed;
	if (im.entry >= mem_size) {
		fail("entry 0x%" PRIx64 " is outside the RAM [0, 0x%" PRIx64 ")", im.entry, mem_size);
		goto setup_failed;
	}

	if (mb2_thp)
		thp_enable();
	/* With --thp, THP_SIZE more so the RAM can start on a huge-page boundary. */
	map_size = mem_size + (mb2_thp ? THP_SIZE : 0);
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		fail("mmap %u MiB of guest memory: %s", mem_mib, strerror(errno));
		goto setup_failed;
	}
	mem = map;
	if (mb2_thp) {
		/* KVM maps 2 MiB in EPT only where guest-physical and host-virtual addresses agree modulo 2 MiB. */
		mem = (uint8_t *)(uintptr_t)align_up((uint64_t)(uintptr_t)map, THP_SIZE);
		if (madvise(mem, mem_size, MADV_HUGEPAGE) < 0)
			say("mb2 madvise(MADV_HUGEPAGE): %s (small pages then)", strerror(errno));
	}
	if (load_segments(&im, mem, mem_size) < 0)
		goto setup_failed;
	mbi = build_mbi(&im, mem, mem_size, cmdline);
	if (!mbi)
		goto setup_failed;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fail("open /dev/kvm: %s", strerror(errno));
		goto setup_failed;
	}
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fail("KVM_GET_API_VERSION is not %d", KVM_API_VERSION);
		goto setup_failed;
	}
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		fail("KVM_GET_VCPU_MMAP_SIZE: %d", run_size);
		goto setup_failed;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fail("KVM_CREATE_VM: %s", strerror(errno));
		goto setup_failed;
	}
	if (ioctl(vm, KVM_SET_TSS_ADDR, MB2_TSS_ADDR) < 0) {
		fail("KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto setup_failed;
	}
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		fail("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		goto setup_failed;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		fail("KVM_CREATE_VCPU: %s", strerror(errno));
		goto setup_failed;
	}
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		fail("mmap kvm_run: %s", strerror(errno));
		goto setup_failed;
	}
	cpuid = get_supported_cpuid(kvm);
	if (!cpuid) {
		fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto setup_failed;
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) {
		fail("KVM_SET_CPUID2: %s", strerror(errno));
		free(cpuid);
		goto setup_failed;
	}
	free(cpuid);
	if (setup_vcpu(vcpu, (uint32_t)im.entry, (uint32_t)mbi) < 0)
		goto setup_failed;

	say("mb2 file=%s mem=%u%s entry=0x%" PRIx64 " cmdline=%s", file, mem_mib, mb2_thp ? " thp" : "",
	    im.entry, cmdline);
	status = run_vcpu(&mach, vcpu, run);
	if (mb2_thp)
		say_thp_usage();
	say("mb2 exits io=%lu mmio=%lu hlt=%lu other=%lu",
	    mach.n_io, mach.n_mmio, mach.n_hlt, mach.n_other);
	report_kvm_stats(vcpu);
	goto out;

setup_failed:
	say("mb2 FAIL %s", err_buf);
	status = ST_SETUP;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
	if (map != MAP_FAILED)
		munmap(map, map_size);
	free(im.seg);
	free(im.data);
	free(cmdline);
	return finish(status, exit_port);
}
