/* vmx/pci_filter.c: which host bridge config bytes L1 may not write (issue 9 item 3). */
#include "harness.h"
#include "../../vmx/pci_filter.h"

#define BRIDGE(reg) (PCI_CF8_ENABLE | ((reg) & 0xfc))

TEST(pci_chipset_ids)
{
    assert_int_equal(pci_chipset_from_id(0x12378086), PCI_CHIPSET_I440FX);
    assert_int_equal(pci_chipset_from_id(0x29c08086), PCI_CHIPSET_Q35);
    assert_int_equal(pci_chipset_from_id(0x01008086), PCI_CHIPSET_OTHER);
}

TEST(pci_i440fx_smram_and_pam_protected)
{
    for (unsigned reg = 0x59; reg <= 0x5f; reg++)
        assert_true(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(reg), reg & 3));
    assert_true(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x70), 2)); /* 0x72 */
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x70), 1));
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x58), 0));
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x9c), 1)); /* Q35's SMRAM offset */
}

TEST(pci_q35_smram_esmramc_and_pam_protected)
{
    for (unsigned reg = 0x90; reg <= 0x96; reg++)
        assert_true(pci_config_byte_protected(PCI_CHIPSET_Q35, BRIDGE(reg), reg & 3));
    assert_true(pci_config_byte_protected(PCI_CHIPSET_Q35, BRIDGE(0x9c), 1));
    assert_true(pci_config_byte_protected(PCI_CHIPSET_Q35, BRIDGE(0x9c), 2));
    assert_false(pci_config_byte_protected(PCI_CHIPSET_Q35, BRIDGE(0x9c), 3));
    assert_false(pci_config_byte_protected(PCI_CHIPSET_Q35, BRIDGE(0x70), 2));
}

TEST(pci_only_the_host_bridge_is_filtered)
{
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, 0x72, 2));                        /* enable clear */
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x70) | (1u << 11), 2));   /* device 1 */
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x70) | (1u << 8), 2));    /* function 1 */
    assert_false(pci_config_byte_protected(PCI_CHIPSET_I440FX, BRIDGE(0x70) | (1u << 16), 2));   /* bus 1 */
    assert_false(pci_config_byte_protected(PCI_CHIPSET_OTHER, BRIDGE(0x70), 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pci_chipset_ids),
        cmocka_unit_test(pci_i440fx_smram_and_pam_protected),
        cmocka_unit_test(pci_q35_smram_esmramc_and_pam_protected),
        cmocka_unit_test(pci_only_the_host_bridge_is_filtered),
    };
    return RUN_GROUP("pci_filter", tests, NULL, NULL);
}
