"""CPU time and peak RSS of an offline compare as a whole process, against two floors.

    .venv/bin/python benchmarks/bench_startup.py [--runs 15] [--format table]

Runs three commands from the repository root, each as a fresh process, once to warm the page cache and the .pyc
files, then --runs times each, interleaved (so a burst of load on a shared machine hits all three alike):

- `python -m driftcheck compare api auth --from fixtures/incident [--format FORMAT]`: this checkout, as a user runs it;
- `python -c pass`: the interpreter's own start-up;
- a minimal script that loads `api.yaml` and `auth.yaml` of the incident with PyYAML and runs deepdiff on them:
  the least any tool that does this comparison in Python pays.

Each run's user+sys CPU time comes from `os.wait4`, its peak RSS from `/usr/bin/time -f %M` (see run_once); the
median of each is reported, with min and max, and the two ratios of the medians. Goal (issue): the compare in
<= 0.2 s of CPU and <= 60 MB. Figures go in benchmarks/README.md; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = "/usr/bin/time"
MINIMAL = """
import yaml
from deepdiff import DeepDiff
with open("fixtures/incident/api.yaml") as f:
    target = yaml.safe_load(f)
with open("fixtures/incident/auth.yaml") as f:
    baseline = yaml.safe_load(f)
print(len(DeepDiff(baseline, target, view="tree")))
"""


BEFORE = """
import os, runpy, sys
root = sys.argv[1]
sys.path.insert(0, root)
os.chdir(root)
sys.argv = ["driftcheck", *sys.argv[2:]]
runpy.run_module("driftcheck", run_name="__main__", alter_sys=True)
"""


def run_once(cmd: list[str], gnu_time: bool) -> tuple[float, float]:
    """One run: user+sys CPU seconds and peak RSS in MB.

    CPU comes from `os.wait4` (microseconds; GNU time's `%U %S` has 10 ms steps, too coarse for `python -c pass`):
    the rusage of the child and of the children it waited for, so with GNU time in between it is the command's
    plus GNU time's own (well under a millisecond). Peak RSS comes from GNU time's `%M`, the command's own, as the
    issue measured it; `os.wait4`'s also counts the pages the child shared with this process between fork and exec
    (~5 MB more for `python -c pass`), so it is only the fallback."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        full = [GNU_TIME, "-f", "%M", "-o", timing.name, *cmd] if gnu_time else cmd
        child = subprocess.Popen(full, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert child.stderr is not None
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1 is the incident's critical finding, not a failure of the run
            raise SystemExit(f"{' '.join(cmd)} failed ({code}): {stderr.decode()[-2000:]}")
        peak_kb = int(timing.read().split()[-1]) if gnu_time else usage.ru_maxrss  # KB on Linux
    return usage.ru_utime + usage.ru_stime, peak_kb / 1024


def summary(values: list[float], digits: int) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--format", default="table", help="the compare's --format (default: table, as a user runs it)")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also run the compare from another checkout (e.g. `git archive HEAD | tar -x -C DIR`), interleaved",
    )
    args = parser.parse_args()
    compare = ["compare", "api", "auth", "--from", "fixtures/incident", "--format", args.format]
    commands = {
        "driftcheck": [sys.executable, "-m", "driftcheck", *compare],  # from ROOT: this checkout
        "python -c pass": [sys.executable, "-c", "pass"],
        "yaml + deepdiff": [sys.executable, "-c", MINIMAL],
    }
    if args.before:  # `python -m` finds the package in the working directory first: that checkout's driftcheck
        commands["driftcheck (before)"] = [sys.executable, "-c", BEFORE, str(args.before.resolve()), *compare]
    gnu_time = os.access(GNU_TIME, os.X_OK)
    for cmd in commands.values():
        run_once(cmd, gnu_time)  # warm-up, not counted
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            seconds, mb = run_once(cmd, gnu_time)
            cpu[name].append(seconds)
            rss[name].append(mb)
    medians = {name: statistics.median(values) for name, values in cpu.items()}
    peaks = {name: statistics.median(values) for name, values in rss.items()}
    report = {
        "command": " ".join(["driftcheck", *compare]),
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "peak_rss_from": "/usr/bin/time -f %M" if gnu_time else "os.wait4 rusage (includes fork-shared pages)",
        "cpu_s": {name: summary(values, 3) for name, values in cpu.items()},
        "peak_rss_mb": {name: summary(values, 1) for name, values in rss.items()},
        "ratio_cpu": {
            "driftcheck / python -c pass": round(medians["driftcheck"] / max(medians["python -c pass"], 1e-3), 1),
            "driftcheck / yaml + deepdiff": round(medians["driftcheck"] / medians["yaml + deepdiff"], 2),
        },
        "ratio_rss": {
            "driftcheck / python -c pass": round(peaks["driftcheck"] / peaks["python -c pass"], 2),
            "driftcheck / yaml + deepdiff": round(peaks["driftcheck"] / peaks["yaml + deepdiff"], 2),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
