"""VMCS shadowing offered to L1 (docs/NESTED.md, "VMCS shadowing offered to L1").

ghv test=shadow (tests/guests/ghv/shadow.c): ghv makes a shadow VMCS (revision bit 31), finds that
VMPTRLD accepts it and VMLAUNCH refuses it, that an entry with "VMCS shadowing" and a link pointer to
an ordinary VMCS fails (exit 33, qualification 4), then runs an L2 that executes VMREAD/VMWRITE itself:
those whose bit is clear in ghv's VMREAD/VMWRITE bitmaps read and write the shadow VMCS without an
exit (an unsupported field gives VMfailValid(12) into ghv's VMCS), those whose bit is set or whose
operand has bits above 14 exit to ghv; with the link pointer ~0 L2's VMREAD gets VMfailInvalid.
Every ghv line must be the one bare Bochs prints, except that Bochs 2.7 misses the SDM's VMfailInvalid
for VMLAUNCH of a shadow VMCS (26.1); Nestor's statistics must show L2's VMREAD/VMWRITE handled by L0.
"""
from conftest import GHV, boot, boot_bare


def lines(b, prefix=""):
    keep = ("ghv: exit ", "ghv: shadow ")
    return [l[len(prefix):] for l in b.lines if l.startswith(tuple(prefix + k for k in keep))]


def test_l2_vmread_vmwrite_on_l1s_shadow_vmcs_match_the_hardware():
    bare = boot_bare("ghv-bare-shadow", GHV, "test=shadow")
    nested = boot("ghv-nested-shadow", l1=GHV, l1_args="test=shadow")
    if bare.find(r"^ghv: shadow skipped VMCS shadowing$"):
        # A CPU model without VMCS shadowing (sandy_bridge, NESTOR_CPU_MODEL): not offered to L1 either.
        nested.expect(r"^L1> ghv: shadow skipped VMCS shadowing$")
        nested.expect(r"^nestor: nested VMX: VMCS shadowing offered to L1 for its L2s: no \(the CPU lacks it\)$")
        assert nested.status() == 0
        return
    nested.expect(r"^L1> ghv: shadow ok$")
    # Bochs 2.7 lacks the check of SDM 26.1 item 4 (VMLAUNCH/VMRESUME with a shadow VMCS current:
    # VMfailInvalid); it goes on to the control checks and answers VMfailValid. That one line and the
    # verdict it causes are the only differences allowed.
    bare.expect(r"^ghv: shadow vmlaunch-shadow = VMfailValid$")
    bare.expect(r"^ghv: shadow FAIL vmlaunch-shadow$")
    nested.expect(r"^L1> ghv: shadow vmlaunch-shadow = VMfailInvalid$")
    ref, got = lines(bare), lines(nested, "L1> ")
    ref = [l for l in ref if l not in ("ghv: shadow vmlaunch-shadow = VMfailValid", "ghv: shadow FAIL vmlaunch-shadow")]
    got = [l for l in got if l not in ("ghv: shadow vmlaunch-shadow = VMfailInvalid", "ghv: shadow ok")]
    assert len(ref) >= 15
    assert got == ref, "\n".join("bare:   %s\nnested: %s" % (r, g) for r, g in zip(ref, got) if r != g) or \
        "%d vs %d lines" % (len(ref), len(got))
    nested.expect(r"^L1> ghv: shadow exits=4$")
    nested.expect(r"^nestor: nested VMX: VMCS shadowing offered to L1 for its L2s: yes$")
    # L2's 4 VMREADs and 1 VMWRITE that ghv's bitmaps let through (VMREAD of GUEST_RIP, GUEST_RSP,
    # the unsupported field, and the one with the link pointer ~0), done by L0 on ghv's shadow VMCS.
    nested.expect(r"^nestor:   L2->L0 VMREAD\s+4$")
    nested.expect(r"^nestor:   L2->L0 VMWRITE\s+1$")
    nested.expect(r"^nestor:   L2->L1 VMREAD\s+2$")
    nested.expect(r"^nestor: L1 VMLAUNCH of vmcs12 0x[0-9a-f]+: VMfailInvalid: 26\.1 the current VMCS must not be "
                  r"a shadow VMCS$")
    nested.expect(r"^nestor: L1 VMLAUNCH of vmcs12 0x[0-9a-f]+: VM-entry failure \(exit reason 33, qualification 4\): "
                  r"26\.3\.1\.5 with VMCS shadowing, the VMCS link pointer must reference a shadow VMCS")
    assert nested.status() == 0
