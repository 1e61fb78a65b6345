/*
 * Fuzz target: the Linux boot protocol (core/bzimage.c): header parsing, the zero page
 * built from the header, and the e820 carve-out, on arbitrary bytes.
 */
#include "loader_check.h"
#include "nestor/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = exact_copy(data, size);
    static struct bzimage bz;
    memset(&bz, 0xa5, sizeof bz);
    (void)bzimage_detect(img, size);
    bool ok = bzimage_parse(img, size, &bz);
    CHECK_TERMINATED(bz.error);
    if (ok) {
        CHECK(bz.setup_size <= size, "setup_size %zu > %zu", bz.setup_size, size);
        CHECK(bz.header_end <= size && bz.header_end <= BZ_ZERO_PAGE_SIZE, "header_end %zu", bz.header_end);
        CHECK(bz.pm_offset <= size && bz.pm_size <= size - bz.pm_offset, "kernel [%zu+%zu) beyond %zu", bz.pm_offset,
              bz.pm_size, size);
        (void)bzimage_cmdline_fits(&bz, 100);
        (void)bzimage_takes_acpi_rsdp_addr(&bz);
        /* An e820 map from the input's last bytes, then the zero page. */
        struct mmap_entry in[8], out[BZ_E820_MAX];
        unsigned n = 0;
        for (size_t at = size; at >= 17 && n < 8; at -= 17, n++) {
            memcpy(&in[n].base, img + at - 17, 8);
            memcpy(&in[n].len, img + at - 9, 8);
            in[n].type = img[at - 1] % 8;
        }
        unsigned m = bz_e820_reserve(out, BZ_E820_MAX, in, n, 0x9f000, 0x1000);
        CHECK(m <= BZ_E820_MAX, "e820 count %u", m);
        struct bz_boot b = {.load_address = 0x100000, .cmdline_gpa = 0x20000, .initrd_gpa = 0x800000,
                            .initrd_size = 0x1000, .acpi_rsdp_gpa = 0xf0000, .e820 = m ? out : in,
                            .e820_count = m ? m : n};
        static uint8_t zp[BZ_ZERO_PAGE_SIZE];
        bzimage_zero_page(zp, img, &bz, &b);
    }
    free(img);
    return 0;
}
