#!/usr/bin/python3
"""Runs the fuzz targets built in --build (tests/fuzz/Makefile calls this).

--mode fuzz     each target --seconds long, starting from its seed corpus and regression
                inputs; new inputs are kept in BUILD/corpus/<target>, crashes in
                BUILD/artifacts/<target>/. One line per target:
                    fuzz <target>: N executions in S s (E/s), C crashes, coverage: X edges, Y features, Z inputs
--mode regress  CI: every seed and regression input replayed (a crash fails), then fuzzing
                from them until --seconds have passed, in a scratch directory (the
                repository is not written). One line per target, "fuzz-regress <target>: PASS|FAIL ...",
                and a closing "fuzz-regress: N passed, N failed".
Exit status: non-zero if any target crashed.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Inputs longer than this add nothing the mutator cannot reach by splicing shorter ones.
MAX_LEN = {"fuzz_mb2": 8192, "fuzz_elf": 8192, "fuzz_bzimage": 8192}


def dirs_of(target):
    out = []
    for sub in ("corpus", "regress"):
        d = os.path.join(HERE, sub, target)
        if os.path.isdir(d) and os.listdir(d):
            out.append(d)
    return out


def dict_of(target):
    d = os.path.join(HERE, "dict", target + ".dict")
    return ["-dict=" + d] if os.path.exists(d) else []


def parse(text):
    stats = {}
    for k, v in re.findall(r"^stat::(\w+):\s*(\d+)", text, re.M):
        stats[k] = int(v)
    m = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
    if m:
        stats["cov"], stats["ft"], stats["corp"] = (int(x) for x in m[-1])
    return stats


def run(binary, args, log):
    t0 = time.time()
    with open(log, "w") as f:
        proc = subprocess.run([binary] + args, stdout=f, stderr=subprocess.STDOUT)
    with open(log, errors="replace") as f:
        text = f.read()
    return proc.returncode, text, time.time() - t0


def crash_summary(text):
    for pat in (r"INVARIANT VIOLATED[^\n]*", r"ERROR: AddressSanitizer[^\n]*", r"runtime error[^\n]*",
                r"Nestor panic[^\n]*", r"fakecpu:[^\n]*", r"ERROR: libFuzzer[^\n]*"):
        m = re.search(pat, text)
        if m:
            return m.group(0)
    return "see the log"


def fuzz(build, target, seconds, runs=0):
    binary = os.path.join(build, target)
    work = os.path.join(build, "corpus", target)
    arts = os.path.join(build, "artifacts", target)
    os.makedirs(work, exist_ok=True)
    os.makedirs(arts, exist_ok=True)
    log = os.path.join(build, "logs", target + ".fuzz.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    def found():
        return set(glob.glob(os.path.join(arts, "crash-*")) + glob.glob(os.path.join(arts, "leak-*")) +
                   glob.glob(os.path.join(arts, "timeout-*")))
    before = found()
    # With runs, the run ends after that many executions (seconds 0: however long that takes).
    args = ["-max_total_time=%d" % seconds] + (["-runs=%d" % runs] if runs else []) + [
            "-print_final_stats=1", "-artifact_prefix=" + arts + "/",
            "-max_len=%d" % MAX_LEN.get(target, 1024)] + dict_of(target) + [work] + dirs_of(target)
    rc, text, took = run(binary, args, log)
    st = parse(text)
    crashes = len(found() - before)  # this run's (libFuzzer stops at the first)
    execs = st.get("number_of_executed_units", 0)
    print("fuzz %s: %d executions in %.0f s (%d/s), %d crashes, coverage: %d edges, %d features, %d inputs%s" %
          (target, execs, took, st.get("average_exec_per_sec", 0), crashes, st.get("cov", 0), st.get("ft", 0),
           st.get("corp", 0), "" if rc == 0 else " -- FAILED: " + crash_summary(text) + " (" + log + ")"),
          flush=True)
    return rc == 0


def regress(build, target, seconds):
    binary = os.path.join(build, target)
    log_dir = os.path.join(build, "logs")
    os.makedirs(log_dir, exist_ok=True)
    inputs = dirs_of(target)
    files = sum(len(os.listdir(d)) for d in inputs)
    # libFuzzer runs every input of its corpus before it starts mutating: one run replays and fuzzes.
    with tempfile.TemporaryDirectory() as scratch:
        arts = os.path.join(scratch, "artifacts")
        os.makedirs(arts)
        for d in inputs:
            for f in os.listdir(d):
                shutil.copy(os.path.join(d, f), os.path.join(scratch, os.path.basename(d) + "-" + f))
        log = os.path.join(log_dir, target + ".regress.log")
        rc, text, _ = run(binary, ["-max_total_time=%d" % seconds, "-print_final_stats=1", "-seed=1",
                                   "-artifact_prefix=" + arts + "/", "-max_len=%d" % MAX_LEN.get(target, 1024)] +
                          dict_of(target) + [scratch], log)
        st = parse(text)
        if rc != 0:
            kept = os.path.join(build, "artifacts", target)
            os.makedirs(kept, exist_ok=True)
            for f in os.listdir(arts):
                shutil.copy(os.path.join(arts, f), kept)
            print("fuzz-regress %s: FAIL after %d executions: %s (input kept in %s)" %
                  (target, st.get("number_of_executed_units", 0), crash_summary(text), kept), flush=True)
            return False
    print("fuzz-regress %s: PASS (%d inputs replayed, %d executions in %d s, %d edges)" %
          (target, files, st.get("number_of_executed_units", 0), seconds, st.get("cov", 0)), flush=True)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=0, help="fuzz mode: stop each target after this many executions")
    ap.add_argument("--mode", choices=("fuzz", "regress"), default="fuzz")
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    ok = 0
    for t in a.targets:
        ok += fuzz(a.build, t, a.seconds, a.runs) if a.mode == "fuzz" else regress(a.build, t, a.seconds)
    bad = len(a.targets) - ok
    print("fuzz%s: %d passed, %d failed" % ("-regress" if a.mode == "regress" else "", ok, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
