"""How fast hostile files are refused: a YAML alias bomb, deep nesting, an oversized file.

    .venv/bin/python benchmarks/bench_hostile.py [--runs 5]

Each case is a copy of fixtures/incident plus one hostile file. For each, `driftcheck compare api auth --from
FOLDER` runs --runs times in a fresh process (wall time, median, with start-up), and `load_evidence` once in
this process (the refusal alone, without start-up). Every run must exit 2 with one line naming the file.
Figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCIDENT = ROOT / "fixtures" / "incident"


def alias_bomb() -> str:
    """About 1 KB of YAML whose last alias expands to 10^9 strings."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def deep_value() -> str:
    return '{"kind": "Service", "spec": ' + nested(5000) + "}"


def three_mb() -> str:
    return "[" + '"x",' * 786_432 + '"x"]'


CASES: dict[str, tuple[str, Callable[[], str], dict[str, str]]] = {
    "YAML alias bomb (1 KB -> 10^9 nodes)": ("notes.yaml", alias_bomb, {}),
    "JSON nested 100,000 levels": ("deep.json", lambda: nested(100_000), {}),
    "YAML nested 100,000 levels": ("deep.yaml", lambda: "k: " + nested(100_000) + "\n", {}),
    "JSON, 5,000 levels inside one value": ("value.json", deep_value, {}),
    "file above the size limit (3 MB, limit 2 MB)": ("big.json", three_mb, {"DRIFTCHECK_MAX_FILE_MB": "2"}),
}


def run_case(folder: Path, env: dict[str, str], runs: int) -> tuple[float, str]:
    walls, last = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "driftcheck", "compare", "api", "auth", "--from", str(folder)],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, check=False, timeout=120,
        )  # fmt: skip
        walls.append(time.perf_counter() - start)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        last = done.stderr.strip()
    return statistics.median(walls), last


def refusal_alone(folder: Path, env: dict[str, str]) -> float:
    from driftcheck.errors import InputError
    from driftcheck.sources.evidence import load_evidence

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    start = time.perf_counter()
    try:
        load_evidence([folder])
    except InputError:
        pass
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as scratch:
        for label, (name, make, env) in CASES.items():
            folder = shutil.copytree(INCIDENT, Path(scratch) / name.replace(".", "-"))
            (folder / name).write_text(make())
            size = (folder / name).stat().st_size
            wall, message = run_case(folder, env, args.runs)
            alone = refusal_alone(folder, env)
            print(f"{label}: {size:,} bytes; CLI {wall:.3f} s median; load_evidence {alone * 1000:.1f} ms")
            print(f"    {message[:160]}")


if __name__ == "__main__":
    main()
