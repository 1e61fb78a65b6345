"""Device space belongs to L1 (issue 13 item 4): every physical address that is not
host RAM is identity-mapped for L1 (uncached), so L1 reaches firmware flash, the
framebuffer and PCI BARs wherever they are; host RAM Nestor keeps stays unreachable.

l1test's `test=unmapped addr=X` writes 0x5a5a5a5a at X with paging off; with X in
device space the write must not stop L1 (it reports "did not trap", status 0xe2)."""
import pytest
from conftest import L1_MB2, boot

L1_ST_NOT_TRAPPED = 0xE2
STATUS_L1_FAILED = 0xFE


@pytest.mark.parametrize("addr,what", [
    (0xFF000000, "flash"),        # the firmware flash window a test kernel was stopped at before
    (0xE0000000, "lfb"),          # Bochs' VBE linear framebuffer, in the PCI hole
    (0xFEBFF000, "pcihole-top"),  # just below the I/O APIC, in the unlisted PCI hole
])
def test_l1_reaches_device_space(addr, what):
    b = boot("device-" + what, l1=L1_MB2, l1_args="test=unmapped addr=0x%x" % addr)
    b.expect(r"^nestor: L1 devices: everything that is not host RAM, identity and uncached, up to 0x[0-9a-f]+$")
    b.expect(r"^L1> l1test: writing 0x5a5a5a5a at 0x%x$" % addr)
    b.expect(r"^L1> l1test: write to unmapped memory did not trap$")
    b.expect_not(r"L1 stopped: EPT violation")
    assert b.status() == L1_ST_NOT_TRAPPED
    b.expect(r"^nestor: image checksum ok ")


def test_host_ram_nestor_keeps_stays_unmapped():
    # 0xf000000: host RAM near the top of Bochs' 256 MiB that Nestor keeps; not L1's RAM, not a device.
    b = boot("device-not-host-ram", l1=L1_MB2, l1_args="test=unmapped addr=0xf000000")
    b.expect(r"^nestor: L1 stopped: EPT violation: L1 accessed guest-physical 0xf000000 ")
    assert b.status() == STATUS_L1_FAILED

