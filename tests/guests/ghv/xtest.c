/*
 * ghv: shared machinery of the extended tests (see xtest.h).
 */
#include "xtest.h"

void xt_begin(struct xt *t, const char *name)
{
    memset(t, 0, sizeof *t);
    t->name = name;
}

bool xt_vmx(struct xt *t)
{
    if (!vmcs_compute_controls()) {
        fail_add(&t->f, "controls");
        return false;
    }
    if (ghv_vmx_on)
        return true;
    vmx_prepare_cr();
    int r = vmxon(vmx_region_init(ghv_vmxon_region, vmx_revision()));
    if (r != VMX_OK) {
        gprintf("ghv: vmxon failed (%s)\n", vmx_result_name(r));
        fail_add(&t->f, "vmxon");
        return false;
    }
    ghv_vmx_on = true;
    gprintf("ghv: vmxon ok\n");
    return true;
}

bool xt_vmcs(struct xt *t, void *vmcs, u64 rip)
{
    memset(t->regs, 0, sizeof t->regs);
    t->launched = false;
    if (vmcs_setup(vmcs, rip))
        return true;
    fail_add(&t->f, "vmcs-setup");
    return false;
}

bool xt_offered(struct xt *t, const char *what, u64 cap, u32 want)
{
    if ((want & (u32)(cap >> 32)) == want)
        return true;
    gprintf("ghv: %s skipped %s\n", t->name, what);
    return false;
}

/* VMLAUNCH/VMRESUME; returns the ghv_vmrun result and fills *e on VMX_OK. */
static int enter(struct xt *t, struct exit_info *e)
{
    int r = ghv_vmrun(t->regs, t->launched);
    if (r == VMX_OK) {
        exit_read(e);
        if (!(e->reason >> 31))
            t->launched = true;     /* a VM-entry failure leaves the launch state alone */
    }
    return r;
}

bool xt_step(struct xt *t, const char *tag, const struct xexp *want, struct exit_info *e)
{
    bool resume = t->launched;
    int r = enter(t, e);
    if (r != VMX_OK) {
        u64 err = r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0;
        gprintf("ghv: %s %s entry failed: %s %s error=%lu\n", t->name, tag, resume ? "vmresume" : "vmlaunch",
                vmx_result_name(r), err);
        fail_add(&t->f, tag);
        return false;
    }
    if (e->reason >> 31) {
        gprintf("ghv: %s %s entry failed: entryfail reason=0x%x qual=0x%lx\n", t->name, tag, e->reason, e->qual);
        fail_add(&t->f, tag);
        return false;
    }
    t->n++;
    exit_print(t->n, e);
    if (e->reason != want->reason || e->qual != want->qual || e->rip != want->rip || e->len != want->len ||
        e->intr != want->intr || e->err != want->err || e->info != 0 || e->idtv != 0)
        fail_add(&t->f, tag);
    return true;
}

void xt_expect_entryfail(struct xt *t, const char *tag, u32 reason, u64 qual)
{
    struct exit_info e;
    int r = enter(t, &e);
    gprintf("ghv: %s %s = ", t->name, tag);
    bool ok = false;
    if (r == VMX_FAIL_VALID)
        gprintf("VMfailValid(%lu)\n", vmread(VM_INSN_ERROR));
    else if (r != VMX_OK)
        gprintf("%s\n", vmx_result_name(r));
    else if (e.reason >> 31) {
        gprintf("entryfail reason=0x%x qual=0x%lx\n", e.reason, e.qual);
        ok = e.reason == reason && e.qual == qual;
    } else {
        gprintf("exit reason=%u\n", e.basic);
        t->n++;
        exit_print(t->n, &e);
    }
    if (!ok)
        fail_add(&t->f, tag);
}

void xt_show(struct xt *t, const char *key, u64 got, u64 want)
{
    gprintf("ghv: %s %s=0x%lx\n", t->name, key, got);
    check_u64(&t->f, key, got, want);
}

bool xt_end(struct xt *t, u32 want_exits)
{
    gprintf("ghv: %s exits=%u\n", t->name, t->n);
    check_u64(&t->f, "exits", t->n, want_exits);
    return fail_report(&t->f, t->name);
}

/* ---- 8259A pair and 8254 channel 0 ---- */

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0 0x40
#define PIT_MODE 0x43

void pic_remap_masked(void)
{
    /* ICW1: edge triggered, cascade, ICW4 follows. Initialization also
     * resets the edge sense: only a new rising edge raises a request. */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20);          /* ICW2: vectors 0x20-0x27 */
    outb(PIC2_DATA, 0x28);          /* vectors 0x28-0x2f */
    outb(PIC1_DATA, 0x04);          /* ICW3: slave on IR2 */
    outb(PIC2_DATA, 0x02);          /* slave identity 2 */
    outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_set_mask(u8 master) { outb(PIC1_DATA, master); }

void pic_eoi(void) { outb(PIC1_CMD, 0x20); }

void pit_oneshot(u16 count)
{
    /* Mode 0 (interrupt on terminal count): OUT goes low when the control
     * word is written and high once when the count expires, then stays high. */
    outb(PIT_MODE, 0x30);           /* channel 0, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH0, (u8)count);
    outb(PIT_CH0, (u8)(count >> 8));
}

static u64 *idt_slot(u8 vec)
{
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    return (u64 *)(uintptr_t)(idtr.base + 16ull * vec);
}

void ghv_idt_set(u8 vec, u64 h)
{
    u64 *g = idt_slot(vec);
    g[0] = (h & 0xffff) | ((u64)GHV_KCS << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
    g[1] = h >> 32;
}

void ghv_idt_clear(u8 vec)
{
    u64 *g = idt_slot(vec);
    g[0] = g[1] = 0;
}
