#!/usr/bin/python3
"""`make coverage`: line coverage of nested/, ept/, vmx/ and core/ from the host unit tests
plus the fuzz corpora (clang source-based coverage, llvm-profdata + llvm-cov).

1. The unit tests are built again with clang -fprofile-instr-generate into BUILD/unit-cov
   and run; the coverage builds of the fuzz targets (BUILD/cov/) replay their seed corpus,
   regression inputs and whatever `make fuzz` added in BUILD/corpus/<target>.
2. Every binary's line data (llvm-cov export -format=lcov) is merged per source line: a line
   counts as covered if any binary executed it.
Prints one line per file (files no host build compiles are named as such), then
    coverage nested/+ept/: NN.N % of N lines
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DIRS = ("nested", "ept", "vmx", "core")


def tool(name):
    for n in (name, name + "-14", name + "-15", name + "-16"):
        p = shutil.which(n)
        if p:
            return p
    sys.exit("coverage: %s not found (apt-get install llvm)" % name)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def build_unit(root, out):
    """The unit tests with clang's coverage instrumentation (no sanitizers: they do not change coverage)."""
    cflags = "-std=c11 -DNESTOR_HOST_TEST -I%s/include -g -O0 -fprofile-instr-generate -fcoverage-mapping -MMD -MP" % root
    p = run(["make", "--no-print-directory", "-j2", "-C", os.path.join(root, "tests", "unit"), "BUILD=" + out,
             "CC=clang", "CFLAGS=" + cflags, "LDFLAGS=-fprofile-instr-generate"])
    if p.returncode != 0:
        sys.stdout.write(p.stdout[-3000:])
        sys.exit("coverage: the unit tests did not build with clang")
    names = re.findall(r"^TESTS\s*:=((?:.*\\\n)*.*)$", open(os.path.join(root, "tests", "unit", "Makefile")).read(), re.M)
    tests = names[0].replace("\\\n", " ").split() if names else []
    return [os.path.join(out, t) for t in tests if os.path.exists(os.path.join(out, t))]


def lcov_lines(llvm_cov, binary, profdata, root):
    """{realpath: {line: count}} for the repository's sources in one binary."""
    p = run([llvm_cov, "export", "-format=lcov", "-instr-profile=" + profdata, binary])
    out = defaultdict(dict)
    cur = None
    for line in p.stdout.splitlines():
        if line.startswith("SF:"):
            path = os.path.realpath(line[3:])
            rel = os.path.relpath(path, root)
            cur = out[rel] if rel.split(os.sep)[0] in DIRS else None
        elif line.startswith("DA:") and cur is not None:
            n, c = line[3:].split(",")[:2]
            n, c = int(n), int(c)
            cur[n] = max(cur.get(n, 0), c)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    root = os.path.realpath(a.root)
    prof = os.path.join(a.build, "profiles")
    shutil.rmtree(prof, ignore_errors=True)
    os.makedirs(prof)
    llvm_profdata, llvm_cov = tool("llvm-profdata"), tool("llvm-cov")

    binaries = []
    for t in build_unit(root, os.path.join(a.build, "unit-cov")):
        env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(prof, "unit-%p.profraw"), NESTOR_KNOWN_BUGS="")
        run([t], env=env)  # failing unit tests still cover what they ran; `make unit` judges them
        binaries.append(t)
    for t in a.targets:
        b = os.path.join(a.build, "cov", t)
        dirs = [d for d in (os.path.join(HERE, "corpus", t), os.path.join(HERE, "regress", t),
                            os.path.join(a.build, "corpus", t)) if os.path.isdir(d) and os.listdir(d)]
        env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(prof, t + "-%p.profraw"))
        p = run([b, "-runs=0"] + dirs, env=env)
        if p.returncode != 0:
            print("coverage: %s crashed replaying its corpus (run make fuzz-regress)" % t)
        binaries.append(b)
    profdata = os.path.join(a.build, "all.profdata")
    raws = glob.glob(os.path.join(prof, "*.profraw"))
    p = run([llvm_profdata, "merge", "-sparse", "-o", profdata] + raws)
    if p.returncode != 0:
        sys.exit("coverage: llvm-profdata merge failed:\n" + p.stdout)

    lines = defaultdict(dict)
    for b in binaries:
        for f, data in lcov_lines(llvm_cov, b, profdata, root).items():
            for n, c in data.items():
                lines[f][n] = max(lines[f].get(n, 0), c)

    total = defaultdict(lambda: [0, 0])
    for d in DIRS:
        for src in sorted(glob.glob(os.path.join(root, d, "*.c"))):
            rel = os.path.relpath(src, root)
            if rel not in lines:
                print("  %-28s not built for the host" % rel)
                continue
            data = lines[rel]
            hit = sum(1 for c in data.values() if c > 0)
            print("  %-28s %5.1f %% of %4d lines" % (rel, 100.0 * hit / max(1, len(data)), len(data)))
            total[d][0] += hit
            total[d][1] += len(data)
    for d in DIRS:
        h, n = total[d]
        print("%s/: %.1f %% of %d lines (in files built for the host)" % (d, 100.0 * h / max(1, n), n))
    h = total["nested"][0] + total["ept"][0]
    n = total["nested"][1] + total["ept"][1]
    print("coverage nested/+ept/: %.1f %% of %d lines" % (100.0 * h / max(1, n), n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
