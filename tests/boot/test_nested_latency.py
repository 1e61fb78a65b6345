"""ghv test=latency (tests/guests/ghv/latency.c): the exit latency an L1 hypervisor sees, the figure
`make bench` reports. Here only that the measurement works, bare and under Nestor: 100 tries, every
stored TSC at or after L2's RDTSC and at or before L1's host RIP (ghv checks each try and says FAIL
otherwise), and sane statistics. How fast is for the benchmark, never for a test."""
import re

import pytest
from conftest import GHV, boot, boot_bare

FIGURE = r"ghv: latency (host-rip )?n=(\d+) min=(\d+) median=(\d+) max=(\d+)$"


def figures(b, prefix):
    got = {}
    for line in b.lines:
        m = re.match("^" + re.escape(prefix) + FIGURE, line)
        if m:
            got["host-rip" if m.group(1) else "store"] = [int(x) for x in m.groups()[1:]]
    return got


@pytest.mark.parametrize("nested", [False, True], ids=["bare", "nested"])
def test_latency_measures_every_try(nested):
    if nested:
        b, prefix = boot("ghv-nested-latency", l1=GHV, l1_args="test=latency"), "L1> "
    else:
        b, prefix = boot_bare("ghv-bare-latency", GHV, "test=latency"), ""
    b.expect(r"^%sghv: latency ok$" % re.escape(prefix))
    b.expect(r"^%sghv: latency exits=101$" % re.escape(prefix))
    b.expect(r"^%sghv: done status=0x0$" % re.escape(prefix))
    got = figures(b, prefix)
    assert set(got) == {"store", "host-rip"}, "latency lines missing\n%s" % b
    for key, (n, lo, mid, hi) in got.items():
        assert n == 100, (key, b)
        assert 0 < lo <= mid <= hi, (key, b)
    # The exit's TSC comes before L1 runs again, in every statistic.
    assert all(s <= h for s, h in zip(got["store"][1:], got["host-rip"][1:])), b
    if nested:
        # Every try was an L2 CPUID that Nestor reflected to L1 (plus the closing VMCALL).
        b.expect(r"^nestor:   L2->L1 CPUID\s+100$")
        assert b.status() == 0
