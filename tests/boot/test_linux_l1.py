"""Linux with KVM as L1: Debian's cloud kernel boots under Nestor, loads kvm_intel against
Nestor's VMX capability MSRs, and runs L2 guests (real mode, 32-bit protected mode, 64-bit
long mode with paging) through /dev/kvm with tests/guests/kvmtest, with nested EPT (ept=1)
and with KVM's shadow paging over Nestor's EPT (ept=0).

The kernel and busybox come from the Debian archive (tools/linux_kit.py, cached).
"""
import os
import sys

import pytest
from conftest import BUILD, ROOT, boot

sys.path.insert(0, os.path.join(ROOT, "tools"))
import linux_kit  # noqa: E402

CMDLINE = "console=ttyS0,115200 panic=-1 quiet mitigations=off nokaslr cryptomgr.notests=1 idle=halt"


@pytest.fixture(scope="module")
def kit():
    return linux_kit.build(os.path.join(BUILD, "linux"))


def boot_linux(name, kit, extra="", quiet=True):
    vmlinuz, initrd = kit
    args = CMDLINE if quiet else CMDLINE.replace(" quiet", "")
    return boot(name, l1=vmlinuz, l1_args=(args + " " + extra).strip(), modules=[initrd + ":initrd"],
                nestor_args="loglevel=info", timeout=600, megs=512)


@pytest.mark.parametrize("ept", [1, 0])
def test_kvm_in_l1_runs_l2_guests(kit, ept):
    # ept=1 boots without "quiet", so every kernel warning reaches the transcript.
    b = boot_linux("linux-kvm-ept%d" % ept, kit, "kvm_intel.ept=%d" % ept, quiet=not ept)
    if ept:
        b.expect(r"Hardware name: .*Bochs")
        # Linux touches MSRs Bochs lacks (0x8b, 0x1a0, MPERF/APERF): Nestor must answer them, no #GP.
        b.expect_not(r"unchecked MSR access error")
    b.expect(r"^nestor: L1 kernel: Linux bzImage, boot protocol 2\.[0-9a-f]{2}, ")
    b.expect(r"init: loaded kvm-intel$")
    b.expect(r"init: kvm_intel ept=%s nested=Y$" % ("Y" if ept else "N"))
    b.expect(r"kvmtest: ept=%s$" % ("Y" if ept else "N"))
    for guest, port, value in (("real", 0x10, 0x52), ("prot32", 0x11, 0x32), ("long64", 0x12, 0x64)):
        b.expect(r"kvmtest: %s io port=0x%x size=1 dir=out value=0x%x$" % (guest, port, value))
        b.expect(r"kvmtest: %s mmio addr=0x3000[0-9a-f]{2} len=\d write=1 value=0x[0-9a-f]+$" % guest)
        b.expect(r"kvmtest: %s hlt$" % guest)
        b.expect(r"kvmtest: %s ok$" % guest)
    b.expect(r"kvmtest: all ok$")
    # Also through the tty (stdout, no kernel timestamp): the emulated COM1's THRE interrupt reaches Linux.
    b.expect(r"^L1> kvmtest: all ok$")
    b.expect(r"^nestor:   L1->L0 interrupt window\s+[1-9]")
    b.expect(r"^nestor: nested: \d+ entries to L2, \d+ L2 exits handled by L0, \d+ reflected to L1, \d+ events re-injected into L2$")
    if ept:
        b.expect(r"^nestor: nested: EPT02: \d+ shadow entries filled")
    assert b.status() == 0
