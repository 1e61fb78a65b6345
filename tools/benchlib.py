"""Shared by tools/bench.py and tools/bench_kvm.py: boot a pfbench run in Bochs and read its figures
(pfbench's result and steady lines, Nestor's exit statistics and shadow-EPT fills)."""
import os
import re
import sys

import nestor_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench")
PFBENCH = os.path.join(ROOT, "build", "bench", "pfbench.elf")

STEADY = re.compile(r"pfbench: steady cycles=(\d+) rounds=(\d+)")
RESULT = re.compile(r"pfbench: result cycles=(\d+) faults=(\d+) cr3_switches=(\d+) touches=(\d+) checksum=(0x[0-9a-f]+)")
# With more than one CPU each line carries "cpuN: "; exit counts are summed over the CPUs.
EXIT_LINE = re.compile(r"^nestor: (?:cpu\d+: )?  (L1->L0|L2->L0|L2->L1) (.+?)\s+(\d+)$")
# Nestor's per-level split of the window pfbench marks with CPUID (vmx/level_stats.c).
WINDOW = re.compile(r"^nestor: (?:cpu\d+: )?window: L0 (\d+) L1 (\d+) L2 (\d+) cycles; exits L1->L0 (\d+) L2->L0 (\d+) "
                    r"L2->L1 (\d+); (\d+) per exit in Nestor")
WINDOW_RATIO = re.compile(r"^nestor: (?:cpu\d+: )?window: ([\d.]+) L1 exits per reflected L2 exit, ([\d.]+) without "
                          r"the (\d+) emulated DEBUGCTL reads")
WINDOW_EPT = re.compile(r"^nestor: (?:cpu\d+: )?window: EPT02 (\d+) fills, (\d+) pre-filled at entry, (\d+) prefetched$")
L0COST = re.compile(r"^nestor: (?:cpu\d+: )?l0cost: (L1->L0|L2->L0|L2->L1) (.+?): (\d+) exits, (\d+) cycles in Nestor")
FILLS = re.compile(r"^nestor: (?:cpu\d+: )?nested: EPT02: (\d+) shadow entries filled, (\d+) shadow EPTs created")


def run_pfbench(name, l1, l1_args, modules=(), megs=256, nestor_args="loglevel=info", timeout=3000, cpus=1):
    os.makedirs(OUT, exist_ok=True)
    iso = os.path.join(OUT, name + ".iso")
    nestor_run.build_iso(iso, l1=l1, l1_args=l1_args, modules=modules, nestor_args=nestor_args)
    r = nestor_run.run_bochs(iso, os.path.join(OUT, name), megs=megs, timeout=timeout, cpus=cpus)
    res = steady = None
    exits, fills, window, cost = {}, 0, {}, {}
    for line in r.lines:
        m = WINDOW.match(line)
        if m:
            g = [int(x) for x in m.groups()]
            window.update(l0=g[0], l1=g[1], l2=g[2], l1_exits=g[3], l2_l0_exits=g[4], reflected=g[5], per_exit=g[6])
        m = WINDOW_RATIO.match(line)
        if m:
            window.update(l1_per_reflected=m.group(1), l1_per_reflected_nodbg=m.group(2), debugctl=int(m.group(3)))
        m = WINDOW_EPT.match(line)
        if m:
            window.update(fills=int(m.group(1)), prefills=int(m.group(2)), prefetched=int(m.group(3)))
        m = L0COST.match(line)
        if m:
            key = (m.group(1), m.group(2))
            n, c = cost.get(key, (0, 0))
            cost[key] = (n + int(m.group(3)), c + int(m.group(4)))
        res = RESULT.search(line) or res
        steady = STEADY.search(line) or steady
        e = EXIT_LINE.match(line)
        if e:
            key = (e.group(1), e.group(2))
            exits[key] = exits.get(key, 0) + int(e.group(3))
        f = FILLS.match(line)
        if f:
            fills += int(f.group(1))
    if r.timed_out or not res:
        sys.exit("bench: %s gave no result; see %s/serial.txt" % (name, os.path.join(OUT, name)))
    return {"cycles": int(res.group(1)), "faults": int(res.group(2)), "cr3": int(res.group(3)),
            "touches": int(res.group(4)), "checksum": res.group(5),
            "steady": int(steady.group(1)) if steady else 0, "exits": exits, "fills": fills,
            "window": window, "cost": cost}
