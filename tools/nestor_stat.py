#!/usr/bin/env python3
"""A live view of Nestor's VM-exit rates, like kvm_stat.

Nestor prints machine-readable statistics lines on Ctrl-A s, and every N seconds with stats=N on its
command line (vmx/stats_line.c):
    nestor: stats v1 cpu=C tsc=T level=L [REASON=COUNT ...]
L is l1 (L1's exits Nestor handled), l2l0 (L2's exits Nestor handled) or l2l1 (L2's exits reflected
to L1); REASON is the basic exit reason (SDM Appendix C), named here from core/exit_names.c.

  nestor_stat.py [FILE]        follow FILE (default build/run/serial.txt, what `make run` writes),
                               redrawing the table at each new set of lines; Ctrl-C stops
  nestor_stat.py --once FILE   print the table for the last two sets in FILE and exit
  ... | nestor_stat.py -       read the transcript from stdin

Rates are per second of the machine's time: the TSC difference between two sets, divided by the TSC
frequency Nestor measured (its "stats=N: ... (TSC F Hz, measured)" line; --tsc-hz overrides). Under
Bochs' sync=none that is emulated time.
"""
import argparse
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATS = re.compile(r"nestor: (?:cpu\d+: )?stats v1 cpu=(\d+) tsc=(\d+) level=(l1|l2l0|l2l1)((?: \d+=\d+)*)\s*$")
TSC_HZ = re.compile(r"nestor: (?:cpu\d+: )?stats=\d+: .*\(TSC (\d+) Hz, measured\)")
LEVELS = {"l1": "L1->L0", "l2l0": "L2->L0", "l2l1": "L2->L1"}


def exit_names(root=ROOT):
    """Reason number -> name, from the enum in vmx_arch.h and the table in core/exit_names.c."""
    names = {}
    try:
        numbers = dict(re.findall(r"\b(EXIT_[A-Z0-9_]+) = (\d+),", open(os.path.join(root, "include/nestor/vmx_arch.h")).read()))
        for sym, name in re.findall(r'\[(EXIT_[A-Z0-9_]+)\] = "([^"]+)"', open(os.path.join(root, "core/exit_names.c")).read()):
            if sym in numbers:
                names[int(numbers[sym])] = name
    except OSError:
        pass
    return names


class Stats:
    """Sets of statistics lines: one set per (CPU, TSC); the last two give the rates."""

    def __init__(self):
        self.sets = {}      # (cpu, tsc) -> {(level, reason): count}
        self.order = []     # keys of self.sets, in arrival order
        self.tsc_hz = None

    def feed(self, line):
        """Takes one transcript line; True when it was a statistics line."""
        m = TSC_HZ.search(line)
        if m:
            self.tsc_hz = int(m.group(1))
            return False
        m = STATS.search(line)
        if not m:
            return False
        key = (int(m.group(1)), int(m.group(2)))
        if key not in self.sets:
            self.sets[key] = {}
            self.order.append(key)
        counts = self.sets[key]
        for pair in m.group(4).split():
            reason, count = pair.split("=")
            counts[(m.group(3), int(reason))] = int(count)
        return True

    def cpus(self):
        return sorted({cpu for cpu, _ in self.order})

    def last_two(self, cpu):
        keys = [k for k in self.order if k[0] == cpu]
        return (keys[-2] if len(keys) > 1 else None), (keys[-1] if keys else None)

    def rows(self, tsc_hz=None):
        """(level, reason, cpu, total, per_second or None), busiest first."""
        hz = tsc_hz or self.tsc_hz
        out = []
        for cpu in self.cpus():
            prev, last = self.last_two(cpu)
            seconds = (last[1] - prev[1]) / hz if prev and hz and last[1] > prev[1] else None
            for (level, reason), total in self.sets[last].items():
                rate = None
                if seconds:
                    rate = (total - self.sets[prev].get((level, reason), 0)) / seconds
                out.append((level, reason, cpu, total, rate))
        out.sort(key=lambda r: (-(r[4] or 0), -r[3], r[0], r[1], r[2]))
        return out


def render(stats, names, tsc_hz=None):
    rows = stats.rows(tsc_hz)
    lines = ["%-7s %-28s %4s %14s %12s" % ("level", "exit reason", "cpu", "total", "per second")]
    for level, reason, cpu, total, rate in rows:
        name = names.get(reason, "exit %d" % reason)
        lines.append("%-7s %-28s %4d %14d %12s" % (LEVELS[level], name, cpu, total,
                                                     "-" if rate is None else "%.0f" % rate))
    if not rows:
        lines.append("(no statistics yet: type Ctrl-A s in the console, or boot Nestor with stats=N)")
    return "\n".join(lines) + "\n"


def follow(f):
    """Lines of a file that grows (tail -f); yields None when nothing new came for a while."""
    buf = ""
    while True:
        chunk = f.readline()
        if chunk:
            buf += chunk
            if buf.endswith("\n"):
                yield buf
                buf = ""
        else:
            yield None
            time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", default=os.path.join(ROOT, "build", "run", "serial.txt"),
                    help="transcript to read ('-' for stdin)")
    ap.add_argument("--once", action="store_true", help="read to the end, print one table, exit")
    ap.add_argument("--tsc-hz", type=int, help="TSC frequency (default: the one Nestor measured for stats=N)")
    a = ap.parse_args()
    names, stats = exit_names(), Stats()
    f = sys.stdin if a.file == "-" else open(a.file, errors="replace")
    if a.once:
        for line in f:
            stats.feed(line)
        sys.stdout.write(render(stats, names, a.tsc_hz))
        return 0
    clear = "\x1b[H\x1b[2J" if sys.stdout.isatty() else ""
    changed = a.file != "-"  # a file: show the (maybe empty) table at once; a pipe: after each burst of lines
    try:
        lines = f if a.file == "-" else follow(f)
        for line in lines:
            if line is not None and stats.feed(line):
                changed = True
                continue
            if changed and (line is None or a.file == "-"):
                sys.stdout.write(clear + render(stats, names, a.tsc_hz) + ("" if clear else "\n"))
                sys.stdout.flush()
                changed = False
        if changed:
            sys.stdout.write(clear + render(stats, names, a.tsc_hz))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
