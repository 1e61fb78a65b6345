/*
 * pfbench: the IDT (vectors 0-31), a TSS for the critical vectors' IST
 * stack, and the exception dispatcher.
 *
 * Interrupts stay disabled for the whole run, so only exceptions arrive.
 * #PF in a space's region is the workload; any other exception (or a #PF
 * anywhere else) is reported with one line and ends the run with 0xe6.
 */
#include "pfbench.h"

extern const u64 pf_stub_table[32];
extern u64 pf_gdt[5];
extern u8 pf_ist_stack_top[];

#define KERNEL_CS 0x08
#define TSS_SEL 0x18

struct idt_gate {
    u16 offset_lo;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_hi;
    u32 reserved;
} __attribute__((packed));

struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9", "#TS", "#NP",
    "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vector 22",
    "vector 23", "vector 24", "vector 25", "vector 26", "vector 27", "#HV", "#VC", "#SX", "vector 31",
};

void pf_trap_init(void)
{
    /* TSS: IST1 gives NMI, #DF and #MC a known-good stack. */
    tss.ist[0] = (u64)(uintptr_t)pf_ist_stack_top;
    tss.iomap_base = sizeof tss;   /* no I/O bitmap */
    u64 base = (u64)(uintptr_t)&tss, limit = sizeof tss - 1;
    pf_gdt[3] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 /* present, 64-bit TSS */
                | ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    pf_gdt[4] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"((u16)TSS_SEL) : "memory");

    for (unsigned v = 0; v < 32; v++) {
        u64 a = pf_stub_table[v];
        idt[v] = (struct idt_gate){
            .offset_lo = (u16)a,
            .selector = KERNEL_CS,
            .ist = (v == 2 || v == 8 || v == 18) ? 1 : 0,
            .type_attr = 0x8e,  /* present, DPL 0, 64-bit interrupt gate (keeps IF = 0) */
            .offset_mid = (u16)(a >> 16),
            .offset_hi = (u32)(a >> 32),
        };
    }
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (u64)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void pf_trap(struct pf_frame *f)
{
    static bool reporting;

    if (f->vector == 14 && pf_handle_fault(read_cr2(), f->error))
        return;
    if (reporting) {    /* faulted while reporting: end the run without more output */
        outl(0xf4, STATUS_EXCEPTION);
        for (;;)
            __asm__ volatile("cli; hlt" ::: "memory");
    }
    reporting = true;
    pf_printf("pfbench: unexpected exception %s (vector %lu) error=0x%lx rip=0x%lx rsp=0x%lx cr2=0x%lx\n",
              names[f->vector & 31], f->vector, f->error, f->rip, f->rsp, read_cr2());
    pf_exit(STATUS_EXCEPTION);
}
