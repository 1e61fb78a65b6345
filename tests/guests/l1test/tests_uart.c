/*
 * l1test: "echo" test. Console input through Nestor's emulated COM1 (issue 10).
 *
 * l1test's serial set-up opened the receiver (RTS on), so what was typed
 * before L1 started may already fill the FIFO: the test closes the receiver
 * (RTS off), keeps those bytes (at most a FIFO's 16), then polls LSR for a
 * while: the rest must wait on the line, neither dropped nor seen. Then RTS
 * on, the receive interrupt (IER.ERBFI) routed through I/O APIC pin 4, and
 * every line received is echoed as "l1test: echo: LINE" (bytes outside
 * printable ASCII as \xNN). The line "quit" ends the test with counts of
 * bytes and interrupts.
 *
 * With vmx=1 it first turns paging on (4 MiB identity pages), enters VMX
 * operation and makes a VMCS current with two fields written, so Nestor's
 * Ctrl-A v has a vmcs12 to show: GUEST_RIP = 0x12345678, GUEST_RSP =
 * 0xcafe000.
 */
#include "l1test.h"
#include "idt.h"
#include "io.h"

#define COM1_RBR 0x3f8
#define COM1_IER 0x3f9
#define COM1_IIR 0x3fa
#define COM1_MCR 0x3fc
#define COM1_LSR 0x3fd
#define LSR_DR 0x01
#define IIR_NONE 0x01
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT2 0x08
#define UART_VECTOR (L1_IRQ_BASE + 4)
#define CLOSED_POLLS 20000u

#define IOAPIC_BASE 0xfec00000u
#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0

#define RING 1024u
static volatile uint8_t ring[RING];
static volatile uint32_t ring_in, ring_out, irqs;

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_region[4096] __attribute__((aligned(4096)));
static uint32_t page_dir[1024] __attribute__((aligned(4096)));

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_BASIC 0x480
#define CR0_PE 0x1u
#define CR0_NE 0x20u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_VMXE 0x2000u
#define VMCS_GUEST_RSP 0x681c
#define VMCS_GUEST_RIP 0x681e

/* 0 when the VMX instruction succeeded (CF = ZF = 0). */
#define VMX_OK(insn, operand)                                                                  \
    ({                                                                                         \
        uint8_t failed_;                                                                       \
        __asm__ volatile(insn " %1; setna %0" : "=q"(failed_) : "m"(operand) : "cc", "memory"); \
        failed_;                                                                               \
    })

static int enter_vmx(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        page_dir[i] = (i << 22) | 0x83; /* present, writable, 4 MiB */
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
    l1_write_cr4(l1_read_cr4() | CR4_PSE | CR4_VMXE);
    __asm__ volatile("mov %0, %%cr0" : : "r"(l1_read_cr0() | CR0_PE | CR0_NE | CR0_PG) : "memory");
    uint64_t v;
    if (l1_safe_rdmsr(MSR_FEATURE_CONTROL, &v) != 0)
        return 1;
    if (!(v & 1) && l1_safe_wrmsr(MSR_FEATURE_CONTROL, 5) != 0)
        return 2;
    if (l1_safe_rdmsr(MSR_VMX_BASIC, &v) != 0)
        return 3;
    *(uint32_t *)vmxon_region = (uint32_t)v & 0x7fffffffu;
    *(uint32_t *)vmcs_region = (uint32_t)v & 0x7fffffffu;
    uint64_t on = (uint32_t)(uintptr_t)vmxon_region, cur = (uint32_t)(uintptr_t)vmcs_region;
    if (VMX_OK("vmxon", on))
        return 4;
    if (VMX_OK("vmclear", cur) || VMX_OK("vmptrld", cur))
        return 5;
    uint32_t failed = 0;
    const uint32_t fields[2][2] = {{VMCS_GUEST_RIP, 0x12345678u}, {VMCS_GUEST_RSP, 0xcafe000u}};
    for (int i = 0; i < 2; i++) {
        uint8_t f;
        __asm__ volatile("vmwrite %1, %2; setna %0" : "=q"(f) : "r"(fields[i][1]), "r"(fields[i][0]) : "cc");
        failed |= f;
    }
    return failed ? 6 : 0;
}

static void mmio_write(uint32_t addr, uint32_t v) { *(volatile uint32_t *)(uintptr_t)addr = v; }
static uint32_t mmio_read(uint32_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write(IOAPIC_BASE, reg);
    mmio_write(IOAPIC_BASE + 0x10, v);
}

static void on_irq(uint32_t vector)
{
    if (vector != UART_VECTOR)
        return;
    irqs++;
    /* Service until the UART reports nothing pending (its line is edge-triggered here). */
    while (!(l1_inb(COM1_IIR) & IIR_NONE))
        while (l1_inb(COM1_LSR) & LSR_DR) {
            uint8_t c = l1_inb(COM1_RBR);
            if (ring_in - ring_out < RING)
                ring[ring_in++ % RING] = c;
        }
    mmio_write(LAPIC_BASE + LAPIC_EOI, 0);
}

static void echo_line(const char *line, uint32_t len)
{
    static const char hex[] = "0123456789abcdef";
    char out[3 * 4 * 64 + 1];
    uint32_t n = 0;
    for (uint32_t i = 0; i < len && n + 4 < sizeof out; i++) {
        uint8_t c = (uint8_t)line[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[n++] = (char)c;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = 0;
    l1_say("echo: %s", out);
}

static int is_quit(const char *line, uint32_t len)
{
    return len == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't';
}

uint32_t l1_test_echo(struct l1_ctx *ctx)
{
    l1_outb(COM1_IER, 0);
    l1_outb(COM1_MCR, MCR_DTR); /* receiver "closed": no RTS */
    uint32_t early = 0;
    while ((l1_inb(COM1_LSR) & LSR_DR) && early <= 16) {
        ring[ring_in++ % RING] = l1_inb(COM1_RBR);
        early++;
    }
    if (early > 16) {
        l1_say("echo: FAIL: more than a FIFO's worth arrived with RTS off");
        return 0xe1;
    }
    for (uint32_t i = 0; i < CLOSED_POLLS; i++)
        if (l1_inb(COM1_LSR) & LSR_DR) {
            l1_say("echo: FAIL: data arrived with RTS off (poll %u)", i);
            return 0xe1;
        }
    l1_say("echo: %u bytes were in the FIFO; nothing more arrived while RTS was off (%u polls)", early, CLOSED_POLLS);

    char value[8];
    if (l1_cmdline_get(ctx->cmdline, "vmx", value, sizeof value) == 0 && value[0] == '1') {
        int r = enter_vmx();
        if (r) {
            l1_say("echo: FAIL: entering VMX (step %u)", (uint32_t)r);
            return 0xe3;
        }
        l1_say("echo: in VMX operation, vmcs 0x%x current (GUEST_RIP 0x12345678)", (uint32_t)(uintptr_t)vmcs_region);
    }

    l1_outb(0x21, 0xff); /* the 8259s stay masked: the UART comes through the I/O APIC */
    l1_outb(0xa1, 0xff);
    uint32_t apic_id = mmio_read(LAPIC_BASE + LAPIC_ID) >> 24;
    ioapic_write(0x10 + 2 * 4 + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * 4, UART_VECTOR); /* fixed, physical, edge, active high, unmasked */
    l1_idt_set_irq_handler(on_irq);
    l1_outb(COM1_IER, 0x01); /* received data available */
    l1_outb(COM1_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    l1_say("echo: ready");

    static char line[256];
    uint32_t len = 0, bytes = 0, lines = 0;
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (ring_in == ring_out) {
            __asm__ volatile("sti; hlt" ::: "memory");
            continue;
        }
        __asm__ volatile("sti" ::: "memory");
        uint8_t c = ring[ring_out++ % RING];
        bytes++;
        if (c == '\r' || c == '\n') {
            if (len == 0 && c == '\n')
                continue; /* the LF of CR LF */
            lines++;
            if (is_quit(line, len))
                break;
            echo_line(line, len);
            len = 0;
            continue;
        }
        if (len < sizeof line)
            line[len++] = (char)c;
    }
    __asm__ volatile("cli" ::: "memory");
    l1_outb(COM1_IER, 0);
    l1_say("echo: %u bytes, %u lines, %u interrupts", bytes, lines, irqs);
    return irqs ? ctx->status : 0xe2;
}
