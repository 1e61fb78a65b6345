"""tools/nestor_stat.py: parsing Nestor's machine-readable statistics lines (vmx/stats_line.c) into rates.
Host only: no emulator (test_console.py checks the lines a real Nestor prints)."""
import os
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
import nestor_stat  # noqa: E402

TRANSCRIPT = """\
nestor: stats=2: machine-readable exit statistics every 2 s (TSC 1000 Hz, measured)
nestor: entering L1 at 0x100018 (eax=0x36d76289 ebx=0x112000)
L1> stats v1 cpu=0 tsc=1 level=l1 10=999
nestor: cpu0: stats v1 cpu=0 tsc=1000 level=l1 10=5 30=100
nestor: cpu0: stats v1 cpu=0 tsc=1000 level=l2l0
nestor: cpu0: stats v1 cpu=0 tsc=1000 level=l2l1 10=7
nestor: cpu1: stats v1 cpu=1 tsc=1000 level=l1 52=3
nestor: cpu0: stats v1 cpu=0 tsc=3000 level=l1 10=25 30=100 12=1
nestor: cpu0: stats v1 cpu=0 tsc=3000 level=l1 48=4000
nestor: cpu0: stats v1 cpu=0 tsc=3000 level=l2l0 48=6
nestor: cpu0: stats v1 cpu=0 tsc=3000 level=l2l1 10=7
nestor: cpu1: stats v1 cpu=1 tsc=3000 level=l1 52=9
"""


def parsed():
    s = nestor_stat.Stats()
    for line in TRANSCRIPT.splitlines():
        s.feed(line)
    return s


def test_names_come_from_the_sources():
    names = nestor_stat.exit_names()
    assert names[10] == "CPUID" and names[30] == "I/O instruction" and names[52] == "preemption timer"


def test_sets_levels_and_rates():
    s = parsed()
    assert s.tsc_hz == 1000
    assert s.cpus() == [0, 1]
    assert len(s.order) == 4  # (cpu, tsc) sets; L1's own output ("L1> stats ...") is not Nestor's
    rows = {(level, reason, cpu): (total, rate) for level, reason, cpu, total, rate in s.rows()}
    # 2 s between the sets (2000 TSC at 1000 Hz): CPUID went 5 -> 25, 10 per second.
    assert rows[("l1", 10, 0)] == (25, 10.0)
    assert rows[("l1", 30, 0)] == (100, 0.0)
    assert rows[("l1", 12, 0)] == (1, 0.5)      # new since the last set
    assert rows[("l1", 48, 0)] == (4000, 2000.0)  # a continuation line of the same set
    assert rows[("l2l0", 48, 0)] == (6, 3.0)
    assert rows[("l2l1", 10, 0)] == (7, 0.0)
    assert rows[("l1", 52, 1)] == (9, 3.0)
    assert s.rows()[0][:3] == ("l1", 48, 0)  # busiest first


def test_one_set_has_totals_without_rates():
    s = nestor_stat.Stats()
    for line in TRANSCRIPT.splitlines()[:5]:
        s.feed(line)
    assert [(r[0], r[1], r[3], r[4]) for r in s.rows()] == [("l1", 30, 100, None), ("l1", 10, 5, None)]


def test_rates_need_a_tsc_frequency():
    s = parsed()
    s.tsc_hz = None
    assert all(r[4] is None for r in s.rows())
    assert dict(((r[0], r[1], r[2]), r[4]) for r in s.rows(tsc_hz=2000))[("l1", 10, 0)] == 20.0


def test_once_prints_the_table(tmp_path):
    p = tmp_path / "serial.txt"
    p.write_text(TRANSCRIPT)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "nestor_stat.py"), "--once", str(p)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    assert out[0].split() == ["level", "exit", "reason", "cpu", "total", "per", "second"]
    assert out[1].split() == ["L1->L0", "EPT", "violation", "0", "4000", "2000"]
    assert ["L1->L0", "CPUID", "0", "25", "10"] in [l.split() for l in out]
    assert ["L2->L1", "CPUID", "0", "7", "0"] in [l.split() for l in out]


def test_stdin_redraws_per_burst():
    lines = TRANSCRIPT.splitlines(keepends=True)
    text = "".join(lines[:7]) + "L1> between the two\n" + "".join(lines[7:])
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "nestor_stat.py"), "-"], input=text,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    tables = out.split("level   exit reason")
    assert len(tables) == 3 and tables[0] == ""  # one table after each burst of statistics lines, none before
    assert tables[1].splitlines()[1].split() == ["L1->L0", "I/O", "instruction", "0", "100", "-"]
    assert tables[2].splitlines()[1].split() == ["L1->L0", "EPT", "violation", "0", "4000", "2000"]
