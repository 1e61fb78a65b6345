#!/usr/bin/env python3
"""`make bench`: the page-fault/context-switch workload (bench/pfbench) run with the same
binary as Nestor's L1 and as an L2 under a guest hypervisor (ghv, test=runl2) with nested
EPT, in Bochs with `clock: sync=none`, where the guest TSC counts instructions: repeatable.

Also the exit latency an L1 hypervisor sees (ghv test=latency, on bare Bochs and with ghv as
Nestor's L1): L2 executes RDTSC right before CPUID, and L1 compares that value with the IA32_TSC
its VM-exit MSR-store area received, and with the TSC at its host RIP.

Prints the tables and writes them to build/bench/results.md. Not a test: it asserts nothing
about speed; it fails only if a run does not complete.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import nestor_run  # noqa: E402
from benchlib import OUT, PFBENCH, run_pfbench  # noqa: E402

GHV = os.path.join(ROOT, "build", "tests", "ghv.elf")

# ghv test=latency's figures (tests/guests/ghv/latency.c), with or without Nestor's "L1> " prefix.
LATENCY = re.compile(r"^(?:L1> )?ghv: latency (host-rip )?n=(\d+) min=(\d+) median=(\d+) max=(\d+)$")
LATENCY_OK = re.compile(r"^(?:L1> )?ghv: latency ok$")


def run_latency(name, nested, cpus=1):
    """ghv test=latency on bare Bochs (ghv is the kernel) or as Nestor's L1: {"store": (n, min, median,
    max), "host-rip": (...)}."""
    iso = os.path.join(OUT, name + ".iso")
    if nested:
        nestor_run.build_iso(iso, l1=GHV, l1_args="test=latency")
    else:
        nestor_run.build_iso(iso, nestor=GHV, nestor_args="test=latency")
    r = nestor_run.run_bochs(iso, os.path.join(OUT, name), timeout=600, cpus=cpus)
    got = {}
    for line in r.lines:
        m = LATENCY.match(line)
        if m:
            got["host-rip" if m.group(1) else "store"] = tuple(int(x) for x in m.groups()[1:])
    if r.timed_out or len(got) != 2 or not any(LATENCY_OK.match(l) for l in r.lines):
        sys.exit("bench: %s gave no latency result; see %s/serial.txt" % (name, os.path.join(OUT, name)))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--args", default="spaces=16 pages=128 rounds=16 copy=1", help="pfbench command line")
    ap.add_argument("--l2mem", default="64", help="MiB of RAM ghv gives the L2")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the Bochs machine (L1 gets them all)")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    sfx = "" if a.cpus == 1 else "-%dcpu" % a.cpus
    l1 = run_pfbench("pfbench-l1" + sfx, PFBENCH, a.args, cpus=a.cpus)
    l2 = run_pfbench("pfbench-l2-nested-ept" + sfx, GHV, "test=runl2 l2mem=%s" % a.l2mem,
                     modules=[PFBENCH + ":" + a.args], cpus=a.cpus)
    l2_4k = run_pfbench("pfbench-l2-nested-ept-4k" + sfx, GHV, "test=runl2 l2mem=%s ept12_4k=1" % a.l2mem,
                        modules=[PFBENCH + ":" + a.args], cpus=a.cpus)
    rows = [("L1 (Nestor's guest)", l1), ("L2, nested EPT, EPT12 2 MiB pages", l2),
            ("L2, nested EPT, EPT12 4 KiB pages", l2_4k)]
    lines = ["# pfbench: L1 vs L2 under nested EPT", "",
             "Workload: `pfbench %s` (same binary in every row). Bochs 2.7, corei7_skylake_x, "
             "`clock: sync=none`: cycles = guest TSC = instructions executed by the whole machine "
             "(L0, L1 and L2) while the workload ran." % a.args, "",
             "Total = all rounds; steady = the rounds after the first, which also warms ghv's EPT12 and "
             "Nestor's EPT02.", "",
             "| run | cycles | ratio to L1 | steady cycles | steady ratio | page faults | CR3 switches | page touches | EPT02 fills | checksum | EPT02 prefetched | L0 share |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for name, r in rows:
        w = r["window"]  # Nestor's split of the window pfbench marks (vmx/level_stats.c)
        lines.append("| %s | %d | %.3f | %d | %.3f | %d | %d | %d | %d | %s | %s | %s |" % (
            name, r["cycles"], r["cycles"] / l1["cycles"], r["steady"], r["steady"] / max(l1["steady"], 1),
            r["faults"], r["cr3"], r["touches"], r["fills"], r["checksum"], w.get("prefetched", "-"),
            "%.3f" % (w["l0"] / l1["cycles"]) if "l0" in w else "-"))
    for name, r in rows[1:]:
        lines += ["", "L0 exits per 1000 L2 page touches, %s:" % name, "",
                  "| exit | path | per 1000 touches | count |", "| --- | --- | ---: | ---: |"]
        for (path, reason), n in sorted(r["exits"].items(), key=lambda kv: -kv[1]):
            if path != "L1->L0" or True:
                lines.append("| %s | %s | %.2f | %d |" % (reason, path, 1000.0 * n / max(r["touches"], 1), n))
    same = len({r["checksum"] for _, r in rows}) == 1
    lines += ["", "Checksums %s." % ("identical: every run computed the same data" if same else "DIFFER")]
    bare = run_latency("latency-bare" + sfx, nested=False, cpus=a.cpus)
    nested = run_latency("latency-nested" + sfx, nested=True, cpus=a.cpus)
    lines += ["", "Exit latency seen by L1 (TSC cycles = instructions under Bochs): ghv `test=latency`, "
              "L2 executes RDTSC then CPUID (the exit), %d tries; bare = ghv on Bochs itself (the CPU's "
              "figure), under Nestor = ghv as Nestor's L1." % bare["store"][0], "",
              "| L1 reads the TSC of the exit from | bare min | bare median | bare max | "
              "under Nestor min | under Nestor median | under Nestor max |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, what in (("store", "IA32_TSC in its VM-exit MSR-store area"),
                      ("host-rip", "RDTSC at its host RIP (3rd instruction)")):
        lines.append("| %s | %d | %d | %d | %d | %d | %d |" % ((what,) + bare[key][1:] + nested[key][1:]))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "results%s.md" % sfx), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
