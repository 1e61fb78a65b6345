/* Linux boot protocol: bzImage header and zero page (see include/nestor/bzimage.h). */
#include "nestor/bzimage.h"
#include "nestor/fmt.h"
#include "nestor/lib.h"

/* Setup-header offsets in the image and in struct boot_params (they coincide). */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_TYPE_OF_LOADER 0x210
#define OFF_LOADFLAGS 0x211
#define OFF_CODE32_START 0x214
#define OFF_RAMDISK_IMAGE 0x218
#define OFF_RAMDISK_SIZE 0x21c
#define OFF_CMD_LINE_PTR 0x228
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
/* struct boot_params fields outside the setup header (Documentation/arch/x86/zero-page.rst). */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0

#define LOADED_HIGH 0x01
#define TYPE_OF_LOADER_UNDEFINED 0xff

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

bool bzimage_detect(const uint8_t *img, size_t len)
{
    return len >= 0x270 && rd16(img + OFF_BOOT_FLAG) == 0xaa55 && memcmp(img + OFF_HEADER, "HdrS", 4) == 0;
}

#define FAIL(bz, ...) (fmt_snprintf((bz)->error, sizeof (bz)->error, __VA_ARGS__), false)

bool bzimage_parse(const uint8_t *img, size_t len, struct bzimage *bz)
{
    memset(bz, 0, sizeof *bz);
    if (!bzimage_detect(img, len))
        return FAIL(bz, "not a Linux bzImage (no HdrS signature and 0xAA55 boot flag)");
    bz->version = rd16(img + OFF_VERSION);
    if (bz->version < 0x20a)
        return FAIL(bz, "Linux boot protocol 2.%02x is too old: Nestor needs 2.10 or later", bz->version & 0xff);
    unsigned sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
    bz->setup_size = (sects + 1) * 512ull;
    bz->header_end = OFF_HEADER + img[OFF_JUMP + 1];
    bz->loadflags = img[OFF_LOADFLAGS];
    bz->xloadflags = rd16(img + OFF_XLOADFLAGS);
    bz->initrd_addr_max = rd32(img + OFF_INITRD_ADDR_MAX);
    bz->kernel_alignment = rd32(img + OFF_KERNEL_ALIGNMENT);
    bz->relocatable = img[OFF_RELOCATABLE];
    bz->cmdline_size = rd32(img + OFF_CMDLINE_SIZE);
    bz->pref_address = rd64(img + OFF_PREF_ADDRESS);
    bz->init_size = rd32(img + OFF_INIT_SIZE);
    if (!(bz->loadflags & LOADED_HIGH))
        return FAIL(bz, "zImage (loaded low) kernels are not supported: need a bzImage");
    if (bz->header_end > 0x280 || bz->header_end < OFF_INIT_SIZE + 4)
        return FAIL(bz, "setup header length 0x%zx is implausible", bz->header_end - OFF_HEADER);
    if (bz->setup_size >= len)
        return FAIL(bz, "bzImage truncated: %zu bytes, but the setup alone is %zu", len, bz->setup_size);
    bz->pm_offset = bz->setup_size;
    bz->pm_size = len - bz->setup_size;
    if (bz->kernel_alignment & (bz->kernel_alignment - 1))
        return FAIL(bz, "kernel_alignment 0x%x is not a power of two", bz->kernel_alignment);
    if (bz->init_size < bz->pm_size)
        bz->init_size = (uint32_t)bz->pm_size;
    return true;
}

bool bzimage_cmdline_fits(const struct bzimage *bz, size_t len) { return len <= bz->cmdline_size; }

bool bzimage_takes_acpi_rsdp_addr(const struct bzimage *bz) { return bz->version >= BZ_ACPI_RSDP_MIN_VERSION; }

unsigned bz_e820_reserve(struct mmap_entry *out, unsigned cap, const struct mmap_entry *in, unsigned n,
                         uint64_t base, uint64_t len)
{
    uint64_t end = base + len;
    unsigned k = 0;
    bool carved = false;
    for (unsigned i = 0; i < n; i++) {
        const struct mmap_entry *e = &in[i];
        bool holds = !carved && len && end > base && e->type == MMAP_USABLE && e->base <= base &&
                     end <= e->base + e->len;
        struct mmap_entry piece[3];
        unsigned np = 0;
        if (holds) {
            if (base > e->base)
                piece[np++] = (struct mmap_entry){e->base, base - e->base, MMAP_USABLE};
            piece[np++] = (struct mmap_entry){base, len, MMAP_RESERVED};
            if (e->base + e->len > end)
                piece[np++] = (struct mmap_entry){end, e->base + e->len - end, MMAP_USABLE};
            carved = true;
        } else {
            piece[np++] = *e;
        }
        if (k + np > cap)
            return 0;
        for (unsigned j = 0; j < np; j++)
            out[k++] = piece[j];
    }
    return carved ? k : 0;
}

void bzimage_zero_page(uint8_t zp[BZ_ZERO_PAGE_SIZE], const uint8_t *img, const struct bzimage *bz,
                       const struct bz_boot *b)
{
    memset(zp, 0, BZ_ZERO_PAGE_SIZE);
    memcpy(zp + OFF_SETUP_SECTS, img + OFF_SETUP_SECTS, bz->header_end - OFF_SETUP_SECTS);
    zp[OFF_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
    zp[OFF_LOADFLAGS] = (uint8_t)(bz->loadflags & LOADED_HIGH); /* no heap, no quiet, keep segments as given */
    wr32(zp + OFF_CODE32_START, b->load_address);
    wr32(zp + OFF_CMD_LINE_PTR, b->cmdline_gpa);
    wr32(zp + ZP_EXT_CMD_LINE_PTR, 0);
    wr32(zp + OFF_RAMDISK_IMAGE, b->initrd_gpa);
    wr32(zp + OFF_RAMDISK_SIZE, b->initrd_size);
    wr32(zp + ZP_EXT_RAMDISK_IMAGE, 0);
    wr32(zp + ZP_EXT_RAMDISK_SIZE, 0);
    if (b->acpi_rsdp_gpa && bzimage_takes_acpi_rsdp_addr(bz))
        wr64(zp + ZP_ACPI_RSDP_ADDR, b->acpi_rsdp_gpa);
    unsigned n = MIN(b->e820_count, (unsigned)BZ_E820_MAX);
    zp[ZP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = zp + ZP_E820_TABLE + 20 * i;
        wr64(e, b->e820[i].base);
        wr64(e + 8, b->e820[i].len);
        wr32(e + 16, b->e820[i].type);
    }
}
