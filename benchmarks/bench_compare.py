"""Wall time and peak RSS of the offline compare, as a user runs it (a fresh process each time).

    .venv/bin/python benchmarks/bench_compare.py [--runs 20]

Runs `driftcheck compare api auth --from fixtures/incident --format json` (as `python -m driftcheck` from the
repository root, so it measures this checkout and not whatever is installed), once to warm the page cache and the
.pyc files, then --runs times, and prints median/min/max. Peak RSS comes from
`/usr/bin/time -v` when it exists (per run); otherwise from getrusage(RUSAGE_CHILDREN), which only knows the
maximum over all runs, so min and median are then reported as that maximum. Goal: <= 0.5 s wall and <= 80 MB
peak RSS on a 2-core machine. Figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["compare", "api", "auth", "--from", "fixtures/incident", "--format", "json"]
GNU_TIME = "/usr/bin/time"
MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def run_once(cmd: list[str], gnu_time: bool) -> tuple[float, float | None]:
    """One run: wall seconds and, with GNU time, peak RSS in MB."""
    full = [GNU_TIME, "-v", *cmd] if gnu_time else cmd
    start = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1 is the incident's critical finding, not a failure of the run
        raise SystemExit(f"driftcheck failed ({done.returncode}): {done.stderr.strip()}")
    found = MAX_RSS.search(done.stderr) if gnu_time else None
    return wall, (int(found.group(1)) / 1024 if found else None)


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    gnu_time = os.access(GNU_TIME, os.X_OK)
    cmd = [sys.executable, "-m", "driftcheck", *ARGS]  # from ROOT: this checkout, whatever is installed
    run_once(cmd, gnu_time)  # warm-up, not counted
    walls, peaks = [], []
    for _ in range(runs):
        wall, peak = run_once(cmd, gnu_time)
        walls.append(wall)
        if peak is not None:
            peaks.append(peak)
    if not peaks:  # no GNU time: the largest child this process waited for (includes the warm-up)
        peaks = [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]
    report = {
        "command": " ".join(["driftcheck", *ARGS]),
        "runs": runs,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "peak_rss_from": "/usr/bin/time -v" if gnu_time else "getrusage(RUSAGE_CHILDREN), max over all runs",
        "wall_s": summary(walls),
        "peak_rss_mb": summary(peaks),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
