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


def test_apic_virtualization_entry_checks_are_named_and_l2_apic_work_costs_no_l0_exit():
    b = boot("ghv-nested-apicv", l1=GHV, l1_args="test=apicv")
    b.expect(r"^L1> ghv: apicv ok$")
    # ghv's three refused entries: each is Nestor's check (26.2.1.1), logged by its rule.
    b.expect(r"VMfailValid\(7\): 26\.2\.1\.1 TPR threshold bits 31:4 must be 0 without virtual-interrupt delivery$")
    b.expect(r"VMfailValid\(7\): 26\.2\.1\.1 TPR threshold bits 3:0 must not exceed VTPR bits 7:4")
    b.expect(r"VMfailValid\(7\): 26\.2\.1\.1 virtual-interrupt delivery requires external-interrupt exiting$")
    # L2's CR8, APIC-page and EOI accesses are the CPU's work against L1's virtual-APIC page:
    # the only L2 exits are the ones L1 gets (no EPT violation or APIC exit handled by L0).
    assert not b.find(r"^nestor:   L2->L0 "), "an L2 exit went to L0:\n%s" % b
    b.expect(r"^nestor:   L2->L1 TPR below threshold\s+3$")
    b.expect(r"^nestor:   L2->L1 APIC access\s+4$")
    b.expect(r"^nestor:   L2->L1 virtualized EOI\s+1$")
    b.expect(r"^nestor:   L2->L1 APIC write\s+2$")
