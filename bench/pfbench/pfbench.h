/*
 * pfbench: shared declarations.
 *
 * A freestanding x86-64 kernel that spends its time in page faults and
 * address-space switches (see README.md). Everything runs at CPL 0 with
 * IF = 0; the only "interrupts" are the exceptions the workload provokes.
 */
#ifndef PFBENCH_H
#define PFBENCH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* u64 (unsigned long) constants, so that %lu / %lx fit whatever they end up in. */
#define PAGE_SIZE ((u64)4096)
#define LARGE_PAGE_SIZE ((u64)0x200000)
#define KiB ((u64)1024)
#define MiB ((u64)1024 * 1024)
#define GiB ((u64)1024 * 1024 * 1024)

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))

/* Page-table entry bits. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_ADDR 0x000ffffffffff000ull

/* #PF error code bits. */
#define PF_ERR_P (1ull << 0)
#define PF_ERR_W (1ull << 1)

/* Exit statuses written to port 0xf4. */
#define STATUS_OK 0x0
#define STATUS_BAD_BOOT 0xe3     /* not entered by a Multiboot2 loader / no long mode */
#define STATUS_BAD_ARGS 0xe4     /* a command-line value out of range */
#define STATUS_NO_MEMORY 0xe5    /* RAM too small for the configuration */
#define STATUS_EXCEPTION 0xe6    /* an exception the benchmark did not provoke */
#define STATUS_BAD_DATA 0xe7     /* a page read back something it was not given */

/*
 * The per-space regions. Both sit under PML4 entry 1 (512 GiB .. 1 TiB),
 * well away from the identity map under PML4 entry 0, which every address
 * space shares with the kernel. The copy region is 1 GiB + 2 MiB above the
 * private one: page p of one and page p of the other then differ by 512 in
 * their page numbers, so a direct-mapped TLB (Bochs' has 1024 or more
 * entries, indexed by the low bits of the page number) does not evict one
 * with the other on every quadword of a page copy.
 */
#define PF_SPACE_PML4_INDEX 1
#define PF_PRIV_BASE 0x0000008000000000ull  /* PML4[1], PDPT[0], PD[0] */
#define PF_COPY_BASE 0x0000008040200000ull  /* PML4[1], PDPT[1], PD[1] */
#define PF_REGION_MAX_PAGES (GiB / PAGE_SIZE)

/* The frame isr.S builds: pushed registers, then vector and error code, then the CPU's frame. */
struct pf_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8;
    u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};

/* ---------------------------------------------------------- boot.c */
struct pf_mem_range {
    u64 base, end;   /* [base, end), page aligned */
};

#define PF_MAX_RANGES 32
#define PF_CMDLINE_MAX 256

struct pf_boot {
    char cmdline[PF_CMDLINE_MAX];
    bool have_mmap, have_meminfo;
    u32 mem_upper_kb;
    unsigned range_count;               /* usable RAM, as the loader described it */
    struct pf_mem_range ranges[PF_MAX_RANGES];
    u64 ram_top;                        /* end of the highest usable range */
};

struct pf_config {
    u64 spaces, pages, rounds, copy;
};

bool pf_parse_mbi(u64 mbi_phys, struct pf_boot *out);
bool pf_parse_config(const char *cmdline, struct pf_config *cfg);

/* ---------------------------------------------------------- console.c */
void pf_serial_init(void);
void pf_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void pf_exit(u32 status);

/* ---------------------------------------------------------- trap.c */
void pf_trap_init(void);
void pf_trap(struct pf_frame *f);

/* ---------------------------------------------------------- mm.c */
struct pf_mm_stats {
    u64 faults;        /* #PF exceptions that mapped a page */
    u64 spurious;      /* #PF on an already-present PTE (should stay 0) */
    u64 table_pages;   /* page-table pages allocated by the fault handler */
};

extern struct pf_mm_stats pf_mm_stats;
extern u64 *pf_current_pml4;    /* the space whose region the fault handler fills */

u64 pf_identity_init(const struct pf_boot *boot, u64 image_end);
void pf_alloc_init(const struct pf_boot *boot, u64 low, u64 high);
u64 pf_alloc_free_pages(void);
u64 pf_page_alloc(void);
void pf_page_free(u64 pa);
void pf_page_zero(u64 pa);
u64 *pf_space_create(void);
void pf_space_set_limits(u64 pages, bool copy);
bool pf_handle_fault(u64 va, u64 error);
void pf_space_release(u64 *pml4);

/* ---------------------------------------------------------- helpers */
static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline u64 read_cr2(void)
{
    u64 v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline u64 read_cr4(void)
{
    u64 v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void write_cr4(u64 v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void write_cr3(u64 v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void invlpg(u64 va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/*
 * CPUID leaves executed right before the first and after the last RDTSC of the run: a
 * hypervisor that watches CPUID exits (Nestor) can attribute the cycles in between to its
 * levels. Any CPU answers them like any leaf above its maximum; the results are ignored.
 */
#define PF_MARK_START 0x4e53b000u
#define PF_MARK_STOP 0x4e53b001u

static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline u64 rdtsc(void)
{
    u32 lo, hi;
    /* LFENCE keeps earlier work from drifting past the read (every x86-64 CPU has it). */
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((u64)hi << 32) | lo;
}

/* Physical memory is identity mapped: a physical address is its own pointer. */
static inline void *phys_ptr(u64 pa)
{
    return (void *)(uintptr_t)pa;
}

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
