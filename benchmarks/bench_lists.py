"""Memory and CPU of reading one long list of services: multi-document YAML and a JSON list.

    .venv/bin/python benchmarks/bench_lists.py [--mb 10] [--runs 3]

`gcloud run services list --format=yaml` (documents separated by `---`) and `--format=json` (one array) of a
project with thousands of services, made of renamed copies of fixtures/incident/api.yaml until the file is about
--mb megabytes. Each measurement is `load_evidence` in a fresh process: the tracemalloc peak (its own run, with
the parsers warmed on a small file first) and process CPU time (median of --runs). Figures go in
benchmarks/README.md; the 2 x bound itself is asserted in tests/sources/test_large_files.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, time, tracemalloc
from pathlib import Path
from driftcheck.sources.evidence import load_evidence
path, warm, trace = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
load_evidence([warm])
if trace:
    tracemalloc.start()
start = time.process_time()
inventory = load_evidence([path])
cpu = time.process_time() - start
peak = tracemalloc.get_traced_memory()[1] if trace else 0
print(json.dumps({"cpu": cpu, "peak": peak, "services": len(inventory.services)}))
"""


def services(target_bytes: int) -> list[dict[str, object]]:
    api = yaml.safe_load((ROOT / "fixtures" / "incident" / "api.yaml").read_text())
    listed, size = [], 0
    while size < target_bytes:
        doc = copy.deepcopy(api)
        doc["metadata"]["name"] = f"svc-{len(listed):05d}"
        listed.append(doc)
        size += len(json.dumps(doc, indent=2))
    return listed


def probe(path: Path, warm: Path, trace: bool) -> dict[str, float]:
    command = [sys.executable, "-c", PROBE, str(path), str(warm), "1" if trace else "0"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    listed = services(int(args.mb * 1_000_000))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        files = {
            "multi-document YAML": (folder / "services.yaml", yaml.dump_all(listed, Dumper=yaml.CSafeDumper)),
            "JSON list": (folder / "services.json", json.dumps(listed, indent=2)),
        }
        for label, (path, text) in files.items():
            path.write_text(text)
            warm = folder / f"warm{path.suffix}"
            warm.write_text(
                yaml.dump_all(listed[:2], Dumper=yaml.CSafeDumper) if path.suffix == ".yaml" else json.dumps(listed[:2])
            )
            size = path.stat().st_size
            cpu = statistics.median(probe(path, warm, False)["cpu"] for _ in range(args.runs))
            traced = probe(path, warm, True)
            print(
                f"{label}: {size / 1e6:.1f} MB, {traced['services']:.0f} services; CPU {cpu:.2f} s median; "
                f"peak traced {traced['peak'] / 1e6:.1f} MB ({traced['peak'] / size:.2f} x the file)"
            )


if __name__ == "__main__":
    main()
