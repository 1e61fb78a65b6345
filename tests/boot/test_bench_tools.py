"""The benchmark drivers work end to end on a tiny workload (their figures are not asserted:
speed is measured by `make bench` / `make bench-kvm`, never by tests)."""
import os
import re
import subprocess
import sys

from conftest import ROOT

TINY = "spaces=2 pages=8 rounds=2 copy=1"


def run_tool(name):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", name), "--args", TINY], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert r.returncode == 0, r.stdout
    return r.stdout


def test_bench_reports_l1_and_l2_rows():
    out = run_tool("bench.py")
    for row in ("L1 (Nestor's guest)", "L2, nested EPT, EPT12 2 MiB pages", "L2, nested EPT, EPT12 4 KiB pages"):
        assert re.search(r"^\| %s \| \d+ \| \d+\.\d{3} \| \d+ \| \d+\.\d{3} \| 64 \|" % re.escape(row), out, re.M), out
    assert "Checksums identical" in out
    assert os.path.exists(os.path.join(ROOT, "build", "bench", "results.md"))


def test_bench_kvm_reports_the_rows_and_the_split_per_level():
    out = run_tool("bench_kvm.py")
    assert re.search(r"^\| \(a\) L1: pfbench as Nestor's guest \| \d+ \| 1\.000 \|", out, re.M), out
    assert re.search(r"^\| \(b\) L2 under L1 KVM, ept=1 \(nested EPT\) \| \d+ \| b/a = \d+\.\d{3} \|", out, re.M), out
    assert re.search(r"^\| \(b-thp\) L2 under L1 KVM, ept=1, L2 memory on transparent huge pages \| \d+ \| "
                     r"b/a = \d+\.\d{3} \|", out, re.M), out
    # Nestor's split of the window pfbench marks with CPUID: every nested row has one.
    for row in ("(b)", "(b-thp)", "(c)"):
        assert re.search(r"^%s L0 share: \d+\.\d\d, L1 share: \d+\.\d\d$" % re.escape(row), out, re.M), out
    assert re.search(r"^\| \(c\) L2 under L1 KVM, ept=0 \(shadow on EPT\) \| \d+ \| c/b = \d+\.\d{3} \|", out, re.M), out
    assert re.search(r"^\| L2->L1 \| EPT violation \| [1-9]\d* \|$", out, re.M), out  # KVM's EPT12 faults
    assert "Checksums identical" in out
