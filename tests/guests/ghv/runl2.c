/*
 * ghv: test=runl2 — run the first Multiboot2 module as L2, the way a
 * Multiboot2 loader would start it, under EPT12 + unrestricted guest.
 *
 * L2's RAM: l2mem MiB (option l2mem=, default 32) at GPA 0, backed by a
 * contiguous block of ghv's RAM at L1-physical RL_BASE (2 MiB-aligned, not
 * identity), mapped by EPT12 with 2 MiB leaves (4 KiB ones with ept12_4k=1,
 * or for a tail that is not a whole 2 MiB), RWX, WB.
 *
 * The module is an ELF32 or ELF64 container with PT_LOAD segments, loaded at
 * their p_paddr in L2's RAM, and a Multiboot2 header in its first 32 KiB
 * (an entry-address tag overrides e_entry; an address tag is not supported).
 * The module's string is L2's command line. After the highest segment ghv
 * builds L2's MBI2: command line, basic meminfo (mem_lower 639, mem_upper
 * (l2mem - 1) * 1024), memory map (0 - 0x9ffff and 1 MiB - l2mem usable),
 * end tag. L2 starts in 32-bit protected mode with paging off, flat 4 GiB
 * segments, EAX = 0x36d76289, EBX = the MBI2's address.
 *
 * L2 keeps the machine: I/O bitmaps with only port 0xf4, an empty MSR
 * bitmap, exception bitmap 0, no HLT exiting. Exits ghv expects:
 *  - CPUID (unconditional): ghv executes CPUID with L2's EAX/ECX and
 *    returns the values unchanged;
 *  - MOV to CR0/CR4 that would change a bit ghv keeps for VMX operation
 *    (the FIXED0 bits other than PE/PG, i.e. CR0.NE and CR4.VMXE; L2 sees
 *    its own values in the read shadows), and CR3 accesses if the CPU
 *    forces CR3-load/store exiting: emulated, including IA-32e mode
 *    activation when L2 sets CR0.PG with EFER.LME;
 *  - OUT to port 0xf4 (32-bit): L2's exit status. ghv prints it and the
 *    exit counts, and ends the run with that status (ghv_finish).
 * Any other exit is printed and ends the run with status 1.
 */
#include "ept.h"

#define RL_BASE 0x4000000ull            /* L1-physical base of L2's RAM */
#define MB2_HDR_MAGIC 0xe85250d6u
#define MB2_BOOT_MAGIC 0x36d76289u

enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4 };

static struct {
    u64 mem;                            /* bytes */
    bool ept4k;
} opt;

static struct {
    u32 total, cpuid, io, cr, ept, other;
} cnt;

static u64 parse_dec(const char *s, size_t n)
{
    u64 v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (u64)(s[i] - '0');
    }
    return v;
}

static void parse_options(void)
{
    opt.mem = 32ull << 20;
    opt.ept4k = false;
    const char *s = e_boot.cmdline;
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        size_t n = (size_t)(s - w);
        if (n > 6 && !ghv_strncmp(w, "l2mem=", 6))
            opt.mem = parse_dec(w + 6, n - 6) << 20;
        else if (n == 10 && !ghv_strncmp(w, "ept12_4k=1", 10))
            opt.ept4k = true;
    }
}

static void zero(u64 pa, u64 len)
{
    volatile u64 *p = (volatile u64 *)e_ptr(pa);
    for (u64 i = 0; i < len / 8; i++)
        p[i] = 0;
}

static u64 rd(const u8 *p, int n)
{
    u64 v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Loads the ELF segments into L2's RAM; *entry, *hi (end of the highest
 * segment). Prints the reason and returns false if the module is unusable. */
static bool load_elf(const u8 *m, u64 size, u64 *entry, u64 *hi)
{
    if (size < 52 || m[0] != 0x7f || m[1] != 'E' || m[2] != 'L' || m[3] != 'F') {
        gprintf("ghv: runl2 module is not an ELF file\n");
        return false;
    }
    bool is64 = m[4] == 2;
    u64 mach = rd(m + 18, 2);
    if ((m[4] != 1 && m[4] != 2) || (mach != 3 && mach != 62) || (is64 && size < 64)) {
        gprintf("ghv: runl2 module: unsupported ELF class %u machine %lu\n", m[4], mach);
        return false;
    }
    *entry = is64 ? rd(m + 24, 8) : rd(m + 24, 4);
    u64 phoff = is64 ? rd(m + 32, 8) : rd(m + 28, 4);
    u64 phentsize = rd(m + (is64 ? 54 : 42), 2), phnum = rd(m + (is64 ? 56 : 44), 2);
    *hi = 0;
    for (u64 i = 0; i < phnum; i++) {
        u64 at = phoff + i * phentsize;
        if (at + (is64 ? 56 : 32) > size) {
            gprintf("ghv: runl2 module: program header %lu outside the file\n", i);
            return false;
        }
        const u8 *ph = m + at;
        if (rd(ph, 4) != 1)             /* PT_LOAD */
            continue;
        u64 off = is64 ? rd(ph + 8, 8) : rd(ph + 4, 4);
        u64 paddr = is64 ? rd(ph + 24, 8) : rd(ph + 12, 4);
        u64 filesz = is64 ? rd(ph + 32, 8) : rd(ph + 16, 4);
        u64 memsz = is64 ? rd(ph + 40, 8) : rd(ph + 20, 4);
        if (filesz > memsz || off > size || filesz > size - off || paddr > opt.mem || memsz > opt.mem - paddr) {
            gprintf("ghv: runl2 module: segment %lu (paddr 0x%lx memsz 0x%lx) does not fit\n", i, paddr, memsz);
            return false;
        }
        memcpy(e_ptr(RL_BASE + paddr), m + off, filesz);
        if (paddr + memsz > *hi)
            *hi = paddr + memsz;
    }
    if (!*hi) {
        gprintf("ghv: runl2 module has no loadable segment\n");
        return false;
    }
    /* Multiboot2 header: 8-aligned in the first 32 KiB, checksum over
     * magic, architecture and length. Tag 3 = entry address, 2 = address. */
    for (u64 o = 0; o + 16 <= size && o < 32768; o += 8) {
        if (rd(m + o, 4) != MB2_HDR_MAGIC)
            continue;
        u32 len = (u32)rd(m + o + 8, 4);
        if ((u32)(MB2_HDR_MAGIC + (u32)rd(m + o + 4, 4) + len + (u32)rd(m + o + 12, 4)) != 0 || o + len > size)
            continue;
        for (u64 tg = o + 16; tg + 8 <= o + len;) {
            u32 type = (u32)rd(m + tg, 2), tsize = (u32)rd(m + tg + 4, 4);
            if (type == 0 || tsize < 8)
                break;
            if (type == 2) {
                gprintf("ghv: runl2 module: multiboot2 address tag not supported\n");
                return false;
            }
            if (type == 3)
                *entry = rd(m + tg + 8, 4);
            tg += (tsize + 7) & ~7u;
        }
        return true;
    }
    gprintf("ghv: runl2 module has no multiboot2 header\n");
    return false;
}

/* L2's MBI2 at GPA at; returns its size, 0 if it does not fit. */
static u64 build_mbi(u64 at)
{
    u8 *b = e_ptr(RL_BASE + at);
    u64 n = 8;
    const char *cl = e_boot.mod_cmdline;
    u32 cl_len = 0;
    while (cl[cl_len])
        cl_len++;
    if (at + 8 + 8 + cl_len + 1 + 8 + 16 + 16 + 48 + 8 + 8 > opt.mem)
        return 0;
    *(u32 *)(b + n) = 1;
    *(u32 *)(b + n + 4) = 8 + cl_len + 1;
    memcpy(b + n + 8, cl, cl_len + 1);
    n += (8 + cl_len + 1 + 7) & ~7ull;
    *(u32 *)(b + n) = 4;
    *(u32 *)(b + n + 4) = 16;
    *(u32 *)(b + n + 8) = 639;
    *(u32 *)(b + n + 12) = (u32)((opt.mem >> 20) - 1) * 1024;
    n += 16;
    *(u32 *)(b + n) = 6;
    *(u32 *)(b + n + 4) = 16 + 2 * 24;
    *(u32 *)(b + n + 8) = 24;
    *(u32 *)(b + n + 12) = 0;
    u64 *ent = (u64 *)(b + n + 16);
    ent[0] = 0;
    ent[1] = 0xa0000;
    ent[2] = 1;                         /* u32 type 1 + u32 reserved 0 */
    ent[3] = 0x100000;
    ent[4] = opt.mem - 0x100000;
    ent[5] = 1;
    n += 16 + 2 * 24;
    *(u32 *)(b + n) = 0;
    *(u32 *)(b + n + 4) = 8;
    n += 8;
    *(u32 *)b = (u32)n;
    *(u32 *)(b + 4) = 0;
    return n;
}

static bool wok;
static void w(u64 f, u64 v)
{
    if (vmwrite(f, v) != VMX_OK) {
        gprintf("ghv: vmwrite field=0x%lx failed error=%lu\n", f, vmread(VM_INSN_ERROR));
        wok = false;
    }
}

static void flat_seg(u64 sel_f, u64 base_f, u64 limit_f, u64 ar_f, u16 sel, u32 ar)
{
    w(sel_f, sel);
    w(base_f, 0);
    w(limit_f, 0xffffffff);
    w(ar_f, ar);
}

/* CR0/CR4 bits ghv keeps for VMX operation: FIXED0 except PE/PG
 * (unrestricted guest). */
static u64 cr0_keep(void) { return ghv_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG); }
static u64 cr4_keep(void) { return ghv_caps.cr4_fixed0; }

static bool vmcs_l2(struct xt *t, void *vmcs, const struct ept12 *e, u64 entry, u64 io_a, u64 io_b, u64 msr)
{
    if (!xt_vmcs(t, vmcs, entry))
        return false;
    u32 may = (u32)(ghv_caps.proc >> 32);
    u32 proc = (u32)ghv_caps.proc | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY;
    if (proc & ~may) {
        gprintf("ghv: runl2 proc controls 0x%x not allowed\n", proc & ~may);
        return false;
    }
    wok = true;
    w(PROC_CONTROLS, proc);
    w(SECONDARY_CONTROLS, PROC2_EPT | PROC2_UG | (u32)ghv_caps.proc2);
    w(EPT_POINTER, e->eptp);
    w(ENTRY_CONTROLS, ghv_ctls.entry & ~ENTRY_IA32E_GUEST);
    if (ghv_ctls.entry & ENTRY_LOAD_EFER)
        w(GUEST_EFER, 0);
    w(EXCEPTION_BITMAP, 0);
    w(PF_ERRCODE_MASK, 0);
    w(PF_ERRCODE_MATCH, 0);
    w(IO_BITMAP_A, io_a);
    w(IO_BITMAP_B, io_b);
    w(MSR_BITMAP, msr);
    u64 cr0 = ((CR0_PE | CR0_ET | CR0_NE) | cr0_keep()) & ghv_caps.cr0_fixed1;
    w(CR0_GUEST_HOST_MASK, cr0_keep());
    w(CR0_READ_SHADOW, cr0);
    w(GUEST_CR0, cr0);
    w(CR4_GUEST_HOST_MASK, cr4_keep());
    w(CR4_READ_SHADOW, 0);
    w(GUEST_CR4, ghv_caps.cr4_fixed0 & ghv_caps.cr4_fixed1);
    w(CR3_TARGET_COUNT, 0);
    w(GUEST_CR3, 0);
    flat_seg(GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, 0x08, 0xc09b);
    flat_seg(GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR, 0x10, 0xc093);
    flat_seg(GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR, 0x10, 0xc093);
    flat_seg(GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR, 0x10, 0xc093);
    flat_seg(GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR, 0x10, 0xc093);
    flat_seg(GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR, 0x10, 0xc093);
    w(GUEST_TR_SEL, 0);
    w(GUEST_TR_BASE, 0);
    w(GUEST_TR_LIMIT, 0x67);
    w(GUEST_TR_AR, 0x8b);
    w(GUEST_GDTR_BASE, 0);
    w(GUEST_GDTR_LIMIT, 0);
    w(GUEST_IDTR_BASE, 0);
    w(GUEST_IDTR_LIMIT, 0);
    w(GUEST_RSP, 0x80000);
    w(GUEST_RFLAGS, 0x2);
    return wok;
}

/* MOV to/from CR (exit 28). False if it is not one ghv emulates. */
static bool handle_cr(struct xt *t, const struct exit_info *x)
{
    unsigned cr = x->qual & 0xf, type = (x->qual >> 4) & 3, reg = (x->qual >> 8) & 0xf;
    u64 *r = t->regs;
    if (type == 1 && cr == 3) {                     /* MOV from CR3 (CR3-store exiting forced) */
        if (reg == RSP)
            vmwrite(GUEST_RSP, vmread(GUEST_CR3));
        else
            r[reg] = vmread(GUEST_CR3);
        return true;
    }
    if (type != 0)
        return false;
    u64 v = reg == RSP ? vmread(GUEST_RSP) : r[reg];
    if (cr == 0) {
        u64 old = vmread(GUEST_CR0);
        u64 nv = (v | cr0_keep()) & ghv_caps.cr0_fixed1;
        vmwrite(CR0_READ_SHADOW, v);
        vmwrite(GUEST_CR0, nv);
        /* IA-32e mode activation/deactivation by CR0.PG with EFER.LME. */
        u64 efer = vmread(GUEST_EFER);
        u32 entry = (u32)vmread(ENTRY_CONTROLS);
        if ((nv & CR0_PG) && !(old & CR0_PG) && (efer & 0x100)) {
            vmwrite(GUEST_EFER, efer | 0x400);
            vmwrite(ENTRY_CONTROLS, entry | ENTRY_IA32E_GUEST);
        } else if (!(nv & CR0_PG) && (old & CR0_PG) && (efer & 0x400)) {
            vmwrite(GUEST_EFER, efer & ~0x400ull);
            vmwrite(ENTRY_CONTROLS, entry & ~ENTRY_IA32E_GUEST);
        }
        return true;
    }
    if (cr == 4) {
        vmwrite(CR4_READ_SHADOW, v);
        vmwrite(GUEST_CR4, (v | cr4_keep()) & ghv_caps.cr4_fixed1);
        return true;
    }
    if (cr == 3) {
        vmwrite(GUEST_CR3, v);
        return true;
    }
    return false;
}

static void print_counts(void)
{
    gprintf("ghv: runl2 exits=%u cpuid=%u io=%u cr=%u ept=%u other=%u\n", cnt.total, cnt.cpuid, cnt.io, cnt.cr,
            cnt.ept, cnt.other);
}

static bool setup_failed(struct xt *t, const char *what)
{
    fail_add(&t->f, what);
    return fail_report(&t->f, t->name);
}

bool runl2_run(void)
{
    struct xt t;
    xt_begin(&t, "runl2");
    parse_options();
    if (!e_boot.has_module) {
        gprintf("ghv: runl2 no module to run\n");
        return setup_failed(&t, "module");
    }
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if (!e_secondary_offered(&t, PROC2_EPT | PROC2_UG) || ((u32)ghv_caps.entry & ENTRY_IA32E_GUEST))
        return setup_failed(&t, "controls");
    if (opt.mem < (2ull << 20) || opt.mem > (1ull << 32)) {
        gprintf("ghv: runl2 l2mem must be 2 - 4096 MiB\n");
        return setup_failed(&t, "l2mem");
    }
    if (!e_mem_check(&t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(&t, RL_BASE, RL_BASE + opt.mem, "l2 memory"))
        return fail_report(&t.f, t.name);

    /* EPT12: GPA 0 - l2mem -> RL_BASE. */
    struct ept12 e;
    if (!ept12_init(&e))
        return setup_failed(&t, "pool");
    bool big = !opt.ept4k && (ghv_caps.ept_vpid & CAP_2M);
    bool ok = true;
    u64 g = 0;
    if (big)
        for (; ok && g + 0x200000 <= opt.mem; g += 0x200000)
            ok = ept12_map(&e, g, RL_BASE + g, 2, EPT_RWX | EPT_WB);
    for (; ok && g < opt.mem; g += GHV_PAGE)
        ok = ept12_map(&e, g, RL_BASE + g, 1, EPT_RWX | EPT_WB);
    u64 vmcs = e_pool_page(), io_a = e_pool_page(), io_b = e_pool_page(), msr = e_pool_page();
    if (!ok || !msr)
        return setup_failed(&t, "pool");
    ((volatile u8 *)e_ptr(io_a))[0xf4 / 8] |= 1u << (0xf4 % 8);

    zero(RL_BASE, opt.mem);
    u64 entry, hi;
    if (!load_elf(e_ptr(e_boot.mod_start), e_boot.mod_end - e_boot.mod_start, &entry, &hi))
        return setup_failed(&t, "module");
    u64 mbi = (hi + 0xfff) & ~0xfffull;
    if (!build_mbi(mbi)) {
        gprintf("ghv: runl2 no room for the mbi2 at 0x%lx\n", mbi);
        return setup_failed(&t, "mbi");
    }
    gprintf("ghv: runl2 l2mem=0x%lx ept12=%s entry=0x%lx mbi=0x%lx\n", opt.mem, big ? "2m" : "4k", entry, mbi);
    if (!vmcs_l2(&t, e_ptr(vmcs), &e, entry, io_a, io_b, msr))
        return setup_failed(&t, "vmcs");
    t.regs[RAX] = MB2_BOOT_MAGIC;
    t.regs[RBX] = mbi;

    u32 status = 0;
    for (;;) {
        struct eexit x;
        bool resume = t.launched;
        int r = e_enter(&t, &x);
        if (r != VMX_OK) {
            gprintf("ghv: runl2 entry failed: %s %s error=%lu\n", resume ? "vmresume" : "vmlaunch",
                    vmx_result_name(r), r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0);
            print_counts();
            ghv_finish(1);
        }
        if (x.x.reason >> 31) {
            gprintf("ghv: runl2 entry failed: entryfail reason=0x%x qual=0x%lx\n", x.x.reason, x.x.qual);
            print_counts();
            ghv_finish(1);
        }
        cnt.total++;
        t.n++;
        const struct exit_info *xi = &x.x;
        bool handled = false, done = false;
        if (xi->basic == XR_CPUID) {
            u32 v[4];
            cpuid((u32)t.regs[RAX], (u32)t.regs[RCX], v);
            t.regs[RAX] = v[0];
            t.regs[RBX] = v[1];
            t.regs[RCX] = v[2];
            t.regs[RDX] = v[3];
            cnt.cpuid++;
            handled = true;
        } else if (xi->basic == XR_IO) {
            cnt.io++;
            u32 port = (u32)(xi->qual >> 16), size = (u32)(xi->qual & 7) + 1;
            if (port == 0xf4 && size == 4 && !(xi->qual & 0x18)) {      /* OUT, not string */
                status = (u32)t.regs[RAX];
                handled = done = true;
            }
        } else if (xi->basic == 28) {
            cnt.cr++;
            handled = handle_cr(&t, xi);
        } else if (xi->basic == XR_EPT_VIOLATION || xi->basic == XR_EPT_MISCONFIG) {
            cnt.ept++;
        } else {
            cnt.other++;
        }
        if (!handled) {
            gprintf("ghv: runl2 unexpected exit\n");
            exit_print(t.n, xi);
            if (xi->basic == XR_EPT_VIOLATION || xi->basic == XR_EPT_MISCONFIG)
                gprintf("ghv: runl2 gpa=0x%lx gla=0x%lx qual=0x%lx\n", x.gpa, x.gla, xi->qual);
            print_counts();
            ghv_finish(1);
        }
        if (done)
            break;
        vmwrite(GUEST_RIP, xi->rip + xi->len);
    }
    gprintf("ghv: runl2 l2 exit status=0x%x\n", status);
    print_counts();
    ghv_finish(status);
}
