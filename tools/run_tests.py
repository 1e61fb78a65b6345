#!/usr/bin/env python3
"""`make test`: host unit tests (cmocka), the fuzz regression run (tests/fuzz: every seed and
regression input replayed, then a few seconds of fuzzing per target, each target one test),
then boot tests (pytest under Bochs and QEMU).

Prints each runner's own output, then one closing line counting every test:
    summary: N passed, N failed
Exits non-zero if any test failed or a runner could not run.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")


def run_unit():
    """Returns (passed, failed, ok)."""
    proc = subprocess.run(["make", "--no-print-directory", "-C", os.path.join(ROOT, "tests", "unit"),
                           "BUILD=" + os.path.join(BUILD, "unit"), "run"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout)
    passed = sum(int(n) for n in re.findall(r"^\[  PASSED  \] (\d+) test", proc.stdout, re.M))
    failed = sum(int(n) for n in re.findall(r"^\[  FAILED  \] (\d+) test", proc.stdout, re.M))
    if proc.returncode != 0 and failed == 0:
        failed = 1  # the suite did not build or crashed: count it, never hide it
    return passed, failed


def run_fuzz_regress():
    """Returns (passed, failed): one test per fuzz target."""
    proc = subprocess.run(["make", "--no-print-directory", "-j2", "-C", os.path.join(ROOT, "tests", "fuzz"),
                           "BUILD=" + os.path.join(BUILD, "fuzz"), "regress"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write("".join(l + "\n" for l in proc.stdout.splitlines() if not l.startswith("clang ")))
    passed = len(re.findall(r"^fuzz-regress \S+: PASS", proc.stdout, re.M))
    failed = len(re.findall(r"^fuzz-regress \S+: FAIL", proc.stdout, re.M))
    if proc.returncode != 0 and failed == 0:
        failed = 1  # the targets did not build: count it, never hide it
    return passed, failed


def run_boot(extra):
    xml = os.path.join(BUILD, "boot-tests.xml")
    if os.path.exists(xml):
        os.unlink(xml)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--junitxml=" + xml,
           os.path.join(ROOT, "tests", "boot")] + extra
    proc = subprocess.run(cmd, cwd=ROOT)
    if not os.path.exists(xml):
        return 0, 1, 0
    suite = ET.parse(xml).getroot()
    if suite.tag == "testsuites":
        suite = suite[0]
    total, fails, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    failed = fails + errors
    if proc.returncode not in (0, 1) and failed == 0:
        failed = 1
    return total - failed - skipped, failed, skipped


def main():
    up, uf = run_unit()
    fp, ff = run_fuzz_regress()
    extra = sys.argv[1:]
    if "-m" not in extra:
        extra += ["-m", "not reference and not long"]  # make test-reference, make test-long
    bp, bf, bs = run_boot(extra)
    passed, failed = up + fp + bp, uf + ff + bf
    print("unit tests: %d passed, %d failed; fuzz regression: %d passed, %d failed; "
          "boot tests: %d passed, %d failed, %d skipped" % (up, uf, fp, ff, bp, bf, bs))
    line = "summary: %d passed, %d failed" % (passed, failed)
    if bs:
        line += ", %d skipped" % bs
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
