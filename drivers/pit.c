/*
 * Short waits for CPU bring-up (INIT-SIPI-SIPI needs 10 ms and 200 us pauses,
 * SDM vol. 3A 8.4.4.1), timed by PIT channel 2 in mode 0 with its gate on
 * port 0x61 (8254 data sheet). Only used before L1 runs: the PIT is L1's.
 */
#include "nestor/arch.h"
#include "nestor/lapic.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

static void wait_ticks(uint16_t ticks)
{
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2));
    outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count), binary */
    outb(PIT_CH2, ticks & 0xff);
    outb(PIT_CH2, ticks >> 8);
    outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
    /* OUT2 goes high at terminal count; bound the loop in case there is no PIT at all. */
    for (unsigned long i = 0; i < 100000000ul && !(inb(PORT_B) & PORT_B_OUT2); i++)
        cpu_relax();
    outb(PORT_B, b);
}

void pit_delay_us(uint32_t us)
{
    while (us) {
        uint32_t chunk = us > 50000 ? 50000 : us;
        uint32_t ticks = (uint32_t)((uint64_t)chunk * PIT_HZ / 1000000u);
        wait_ticks((uint16_t)(ticks ? ticks : 1));
        us -= chunk;
    }
}
