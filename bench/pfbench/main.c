/*
 * pfbench: setup and the workload.
 *
 * For each round, for each space s: switch CR3 to s, write one word into
 * each of its P private pages (each first write faults in a zeroed page),
 * then (copy=1) copy every private page into the space's copy region (each
 * destination page faults in the same way) while checksumming the copied
 * data. At the end of a round every space's region is freed, page tables
 * included, so the next round faults everything in again. RDTSC brackets
 * the rounds; setup (parsing, allocator, PML4s) is outside the measurement.
 */
#include "pfbench.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define PF_MAX_SPACES 4096

extern u8 pf_image_end[];
extern u64 pf_kernel_pml4[512];

static struct pf_boot boot;
static u64 *spaces[PF_MAX_SPACES];

struct pf_result {
    u64 cycles, faults, cr3_switches, touches, checksum;
    u64 first_round_cycles;
};

/* The word written into page p of space s in round r: a 64-bit mix of the triple. */
static u64 word_value(u64 r, u64 s, u64 p)
{
    u64 x = (r << 40) ^ (s << 20) ^ p ^ 0x5046424e43480000ull;  /* "PFBNCH" */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* ... and where in the page it goes (8-byte aligned, varies with all three). */
static u64 word_offset(u64 r, u64 s, u64 p)
{
    return ((p * 67 + s * 13 + r * 7) & 511) * 8;
}

/* FNV-1a over 64-bit words. */
#define CHECKSUM_INIT 0xcbf29ce484222325ull
static inline u64 mix(u64 cs, u64 w)
{
    return (cs ^ w) * 0x100000001b3ull;
}

static __attribute__((noreturn)) void bad_data(u64 r, u64 s, u64 p, u64 va, u64 got, u64 want)
{
    pf_printf("pfbench: data mismatch round=%lu space=%lu page=%lu va=0x%lx: read 0x%lx, wrote 0x%lx\n",
              r, s, p, va, got, want);
    pf_exit(STATUS_BAD_DATA);
}

static inline void copy_page(void *dst, const void *src)
{
    u64 n = PAGE_SIZE / 8;
    __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void switch_space(u64 *pml4)
{
    pf_current_pml4 = pml4;
    write_cr3((u64)(uintptr_t)pml4);
}

static void run(const struct pf_config *cfg, struct pf_result *res)
{
    u64 cs = CHECKSUM_INIT, switches = 0, touches = 0;
    u64 faults0 = pf_mm_stats.faults;
    u32 mark[4];
    /* Tell a hypervisor below where the measured part starts and ends (Nestor: include/nestor/level_stats.h). */
    cpuid(PF_MARK_START, 0, mark);
    u64 t0 = rdtsc();

    for (u64 r = 0; r < cfg->rounds; r++) {
        for (u64 s = 0; s < cfg->spaces; s++) {
            switch_space(spaces[s]);
            switches++;

            /* Touch: the first write to each page faults. */
            for (u64 p = 0; p < cfg->pages; p++) {
                volatile u64 *w = (volatile u64 *)(uintptr_t)(PF_PRIV_BASE + p * PAGE_SIZE + word_offset(r, s, p));
                u64 v = word_value(r, s, p);
                *w = v;
                cs = mix(cs, *w);
                touches++;
            }
            __asm__ volatile("" ::: "memory");

            /*
             * Copy: page by page into the copy region with REP MOVSQ (as a
             * kernel's copy_page would); the first store to each destination
             * page faults, the handler maps it and the copy resumes. The
             * checksum then reads one quadword per 64-byte line of the copy,
             * in the lane that holds the written word.
             */
            if (cfg->copy) {
                for (u64 p = 0; p < cfg->pages; p++) {
                    const u64 *src = (const u64 *)(uintptr_t)(PF_PRIV_BASE + p * PAGE_SIZE);
                    u64 *dst = (u64 *)(uintptr_t)(PF_COPY_BASE + p * PAGE_SIZE);
                    copy_page(dst, src);
                    u64 off = word_offset(r, s, p), want = word_value(r, s, p);
                    for (u64 i = (off / 8) & 7; i < PAGE_SIZE / 8; i += 8)
                        cs = mix(cs, dst[i]);
                    u64 got = dst[off / 8];
                    if (got != want)
                        bad_data(r, s, p, (u64)(uintptr_t)dst + off, got, want);
                    touches++;
                }
            }
        }

        /* Round over: back to the kernel's tables (flushes the spaces' TLB entries), free everything. */
        pf_current_pml4 = NULL;
        write_cr3((u64)(uintptr_t)pf_kernel_pml4);
        for (u64 s = 0; s < cfg->spaces; s++)
            pf_space_release(spaces[s]);
        /* The first round also warms whatever sits below (a hypervisor's EPTs): report the rest apart. */
        if (r == 0)
            res->first_round_cycles = rdtsc() - t0;
    }

    u64 t1 = rdtsc();
    cpuid(PF_MARK_STOP, 0, mark);
    res->cycles = t1 - t0;
    res->faults = pf_mm_stats.faults - faults0;
    res->cr3_switches = switches;
    res->touches = touches;
    res->checksum = cs;
}

/* How many aligned blocks of size unit the pages from base cover. */
static u64 blocks(u64 base, u64 pages, u64 unit)
{
    return (base + pages * PAGE_SIZE - 1) / unit - base / unit + 1;
}

/* Pages the run holds at its peak (all spaces' regions, just before a round's release). */
static u64 pages_needed(const struct pf_config *cfg)
{
    u64 per_space = 1 /* PML4 */ + 1 /* region PDPT under PML4[1] */
                    + blocks(PF_PRIV_BASE, cfg->pages, GiB) /* PDs */
                    + blocks(PF_PRIV_BASE, cfg->pages, LARGE_PAGE_SIZE) /* PTs */ + cfg->pages;
    if (cfg->copy)
        per_space += blocks(PF_COPY_BASE, cfg->pages, GiB) + blocks(PF_COPY_BASE, cfg->pages, LARGE_PAGE_SIZE) +
                     cfg->pages;
    return cfg->spaces * per_space;
}

void pf_main(u32 magic, u32 mbi)
{
    pf_serial_init();
    if (magic != MB2_BOOTLOADER_MAGIC) {
        pf_printf("pfbench: not started by a Multiboot2 loader (EAX=0x%x, want 0x%x)\n", magic,
                  MB2_BOOTLOADER_MAGIC);
        pf_exit(STATUS_BAD_BOOT);
    }
    pf_trap_init();
    if (!pf_parse_mbi(mbi, &boot))
        pf_exit(STATUS_BAD_BOOT);

    struct pf_config cfg;
    bool args_ok = pf_parse_config(boot.cmdline, &cfg);
    pf_printf("pfbench: config spaces=%lu pages=%lu rounds=%lu copy=%lu\n", cfg.spaces, cfg.pages, cfg.rounds,
              cfg.copy);
    if (!args_ok)
        pf_exit(STATUS_BAD_ARGS);

    u64 image_end = ALIGN_UP((u64)(uintptr_t)pf_image_end, PAGE_SIZE);
    u64 ident_top = pf_identity_init(&boot, image_end);
    pf_alloc_init(&boot, image_end, ident_top);
    u64 have = pf_alloc_free_pages(), need = pages_needed(&cfg);
    pf_printf("pfbench: memory %s free=%lu KiB need=%lu KiB identity=%lu MiB\n",
              boot.have_mmap ? "map" : "meminfo", have * 4, need * 4, ident_top / MiB);
    if (need > have) {
        pf_printf("pfbench: not enough RAM: spaces=%lu pages=%lu copy=%lu needs %lu pages (%lu KiB), "
                  "only %lu pages (%lu KiB) are free above the image\n",
                  cfg.spaces, cfg.pages, cfg.copy, need, need * 4, have, have * 4);
        pf_exit(STATUS_NO_MEMORY);
    }

    for (u64 s = 0; s < cfg.spaces; s++)
        spaces[s] = pf_space_create();
    pf_space_set_limits(cfg.pages, cfg.copy != 0);

    struct pf_result res = {0};
    run(&cfg, &res);

    if (cfg.rounds > 1)
        pf_printf("pfbench: steady cycles=%lu rounds=%lu (all rounds after the first)\n",
                  res.cycles - res.first_round_cycles, cfg.rounds - 1);
    pf_printf("pfbench: result cycles=%lu faults=%lu cr3_switches=%lu touches=%lu checksum=0x%lx\n", res.cycles,
              res.faults, res.cr3_switches, res.touches, res.checksum);
    if (pf_mm_stats.spurious)
        pf_printf("pfbench: warning: %lu spurious page faults (present PTE) were not counted\n",
                  pf_mm_stats.spurious);
    pf_exit(STATUS_OK);
}
