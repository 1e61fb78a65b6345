/*
 * ghv: its own GDT (with user segments and a TSS), IDT, and the exception
 * handler that makes negative tests possible.
 *
 * ghv_trap() handles three situations:
 *  - return from ring 3 (user.S armed ghv_user_active): any exception or the
 *    INT 0x80 gate ends the ring-3 excursion; the frame is rewritten to
 *    resume ghv_user_call() at CPL 0;
 *  - a ring-0 VMX instruction wrapped by vmx_try.S faulted: record the vector
 *    and error code, resume at the wrapper's continuation;
 *  - anything else is a ghv bug: report it and end the run with status 1.
 */
#include "ghv.h"

struct tss64 {
    u32 reserved0;
    u64 rsp0, rsp1, rsp2;
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));

struct idt_gate {
    u16 off_lo, sel;
    u8 ist, type_attr;
    u16 off_mid;
    u32 off_hi, reserved;
};

/* Slot 5-6 is the TSS (filled in at run time: its base is an address). The
 * user segments sit at 0x18/0x20 as selectors 0x1b/0x23 with RPL 3. */
u64 ghv_gdt[8] = {
    0,
    0x00af9a000000ffffull,          /* 0x08 ring-0 64-bit code */
    0x00cf92000000ffffull,          /* 0x10 ring-0 data */
    0x00cff2000000ffffull,          /* 0x18 ring-3 data */
    0x00affa000000ffffull,          /* 0x20 ring-3 64-bit code */
    0, 0,                           /* 0x28 TSS */
    0,
};

static struct tss64 ghv_tss __attribute__((aligned(16)));
static struct idt_gate ghv_idt[256] __attribute__((aligned(16)));
static u8 trap_stack[8192] __attribute__((aligned(16)));

volatile u64 ghv_fault_resume, ghv_fault_vec, ghv_fault_err;
volatile u64 ghv_user_active, ghv_user_resume_rip, ghv_user_resume_rsp;
volatile u64 ghv_user_vec, ghv_user_err, ghv_user_rax;

extern const u64 ghv_isr_table[32];
extern const char ghv_isr_128[];

static void set_gate(int vec, u64 handler, int dpl)
{
    struct idt_gate *g = &ghv_idt[vec];
    g->off_lo = (u16)handler;
    g->sel = GHV_KCS;
    g->ist = 0;
    g->type_attr = (u8)(0x8e | (dpl << 5));     /* present 64-bit interrupt gate */
    g->off_mid = (u16)(handler >> 16);
    g->off_hi = (u32)(handler >> 32);
    g->reserved = 0;
}

u64 ghv_tss_base(void) { return phys(&ghv_tss); }

void cpu_init(void)
{
    /* TSS: RSP0 is where ring-3 exceptions and INT 0x80 land. */
    ghv_tss.rsp0 = phys(trap_stack + sizeof trap_stack);
    ghv_tss.iomap_base = sizeof ghv_tss;        /* no I/O bitmap */
    u64 base = phys(&ghv_tss), limit = sizeof ghv_tss - 1;
    ghv_gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) /* P, 64-bit TSS */
                 | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    ghv_gdt[6] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(GHV_TSS));

    for (int v = 0; v < 32; v++)
        set_gate(v, ghv_isr_table[v], 0);
    set_gate(0x80, phys(ghv_isr_128), 3);       /* reachable from ring 3 */
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) idtr = {sizeof ghv_idt - 1, phys(ghv_idt)};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void ghv_trap(struct ghv_frame *f)
{
    if (ghv_user_active && (f->cs & 3) == 3) {
        ghv_user_vec = f->vector;
        ghv_user_err = f->err;
        ghv_user_rax = f->rax;
        ghv_user_active = 0;
        f->rip = ghv_user_resume_rip;
        f->cs = GHV_KCS;
        f->rflags = 0x2;
        f->rsp = ghv_user_resume_rsp;
        f->ss = GHV_KDS;
        return;
    }
    if (ghv_fault_resume && (f->cs & 3) == 0) {
        ghv_fault_vec = f->vector;
        ghv_fault_err = f->err;
        f->rip = ghv_fault_resume;
        ghv_fault_resume = 0;
        return;
    }
    gprintf("ghv: unexpected exception vector=0x%lx err=0x%lx rip=0x%lx cr2=0x%lx\n", f->vector, f->err,
            f->rip, read_cr2());
    ghv_finish(1);
}
