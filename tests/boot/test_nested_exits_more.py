"""Nested VMX: L1's bitmaps read live, and the instruction exits of the remaining offered controls.

ghv test=livebitmap (tests/guests/ghv/livebitmap.c): L2 sets and clears bits in L1's I/O bitmap A
and MSR bitmap while it runs (the pages are shared) and accesses the port / MSR right after; the
CPU reads the bitmaps at every access, so each set bit must bring the next access to L1 and each
cleared one must let it through (L0 then does what the CPU would have: the port, the MSR, #GP).
ghv test=xexits (xexits.c): RDTSCP, RDRAND, RDSEED, INVPCID, SGDT/LIDT/SLDT/STR, PAUSE, MONITOR,
MWAIT, RDPMC and WBINVD exiting. ghv test=apicv (apicv.c): TPR shadow, virtualized APIC accesses,
APIC-register virtualization and virtual-interrupt delivery for L2 (exits 43, 44, 45, 56, and
the virtual-APIC page and guest interrupt status after each exit). Every exit line (reason,
qualification, RIP, length, instruction information, interruption information) and every value
line must be the one bare Bochs prints.
"""
import pytest
from conftest import GHV, boot, boot_bare


def lines(b, test, prefix=""):
    keep = ("ghv: exit ", "ghv: %s " % test)
    return [l[len(prefix):] for l in b.lines if l.startswith(tuple(prefix + k for k in keep))]


@pytest.mark.parametrize("test,exits", [("livebitmap", 6), ("xexits", None), ("apicv", None)])
def test_exits_match_the_hardware(test, exits):
    bare = boot_bare("ghv-bare-" + test, GHV, "test=" + test)
    nested = boot("ghv-nested-" + test, l1=GHV, l1_args="test=" + test)
    bare.expect(r"^ghv: %s ok$" % test)
    nested.expect(r"^L1> ghv: %s ok$" % test)
    ref, got = lines(bare, test), lines(nested, test, "L1> ")
    assert len(ref) >= 4
    assert got == ref, "\n".join("bare:   %s\nnested: %s" % (r, g) for r, g in zip(ref, got) if r != g) or \
        "%d vs %d lines" % (len(ref), len(got))
    if exits is not None:
        nested.expect(r"^L1> ghv: %s exits=%d$" % (test, exits))
    assert nested.status() == 0


def test_live_bitmaps_cost_l0_exits_only_for_accesses_l1_lets_through():
    b = boot("ghv-nested-livebitmap", l1=GHV, l1_args="test=livebitmap")
    # The accesses after each cleared bit (OUT, RDMSR, WRMSR + RDMSR of FS_BASE) and the OUTSB that
    # L0 lets run natively (string I/O is not emulated) exit to L0, not to L1.
    b.expect(r"^nestor:   L2->L0 I/O instruction\s+2$")
    b.expect(r"^nestor:   L2->L0 RDMSR\s+2$")
    b.expect(r"^nestor:   L2->L0 WRMSR\s+2$")
    b.expect(r"^nestor:   L2->L1 I/O instruction\s+2$")
    b.expect(r"^nestor:   L2->L1 exception or NMI\s+1$")
