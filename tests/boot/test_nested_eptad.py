"""Nested VMX: EPT accessed/dirty flags and page-modification logging for L1 (docs/NESTED.md,
"EPT A/D and PML").

ghv test=eptad (tests/guests/ghv/eptad.c): L1 enables A/D flags in its EPTP; its L2 reads some
pages and writes others; L1 then reads the A/D flags of every EPT12 entry involved (A in every
entry used, D only in the leaves of written pages and of the pages holding L2's own paging
structures, whose accesses by the CPU are writes under EPT A/D). Then L1 enables PML with two
free slots: two writes are logged, the third is a PML-full exit (62) before the write, with no
flag set; with the index reset the write goes through and is logged. Every line (exits, flags,
log contents, index) must be the one bare Bochs prints.
"""
from conftest import GHV, boot, boot_bare


def lines(b, prefix=""):
    keep = ("ghv: exit ", "ghv: eptad ")
    return [l[len(prefix):] for l in b.lines if l.startswith(tuple(prefix + k for k in keep))]


def test_ept_ad_flags_and_pml_match_the_hardware():
    bare = boot_bare("ghv-bare-eptad", GHV, "test=eptad")
    nested = boot("ghv-nested-eptad", l1=GHV, l1_args="test=eptad")
    bare.expect(r"^ghv: eptad ok$")
    nested.expect(r"^L1> ghv: eptad ok$")
    ref, got = lines(bare), lines(nested, "L1> ")
    no_ad, no_pml = "ghv: eptad skipped ept-ad" in ref, "ghv: eptad skipped pml" in ref
    assert len(ref) >= (2 if no_ad else 20 if no_pml else 30)
    assert got == ref, "\n".join("bare:   %s\nnested: %s" % (r, g) for r, g in zip(ref, got) if r != g) or \
        "%d vs %d lines" % (len(ref), len(got))
    # On CPUs without EPT A/D (sandy_bridge) or PML (haswell) ghv skips what is not offered, as
    # it does on bare Bochs of the same model (NESTOR_CPU_MODEL): fewer exits, same comparison.
    if no_ad:
        nested.expect(r"^L1> ghv: eptad exits=0$")
    elif no_pml:
        nested.expect(r"^L1> ghv: eptad exits=1$")
    else:
        nested.expect(r"^L1> ghv: eptad exits=3$")
        nested.expect(r"^nestor:   L2->L1 page-modification log full\s+1$")
        # D set on W1, W2, RW, P1-P4 and L2's PML4, PDPT and PD0 pages; P1-P4 logged.
        nested.expect(r"^nestor: nested: EPT A/D: flags written into EPT12 for [1-9]\d* L2 accesses, 10 D flags set, "
                      r"4 pages logged to PML$")
    assert nested.status() == 0
