"""Load time and peak memory of a large Terraform state, against a plain `json.load` of the same file.

    .venv/bin/python benchmarks/bench_tfstate.py [--mb 50] [--services 300] [--runs 3]

Generates a format-4 state of about --mb megabytes: --services Cloud Run v2 services (in modules, with for_each
keys), each with a secret, an IAM member and a connector, amid thousands of resources driftcheck does not model
(buckets, service accounts), as a platform's state has. Then runs each of `json.load(f)` and driftcheck's
`load_evidence([path])` --runs times, each in a fresh interpreter, and reports the median wall time and peak
memory: the tracemalloc peak (in a run of its own, so the timed runs are not slowed by it) and the growth of
VmHWM, the peak RSS, over the interpreter's baseline (ru_maxrss would carry this large parent's peak into the
child). Goal: driftcheck <= 1.5 x json.load time, peak memory <= 3 x the file size. Figures go in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = json.loads((ROOT / "fixtures" / "terraform" / "auth-v2.tfstate").read_text())

PROBE = """
import json, sys, time, tracemalloc
from pathlib import Path
path, mode, trace = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if mode == "driftcheck":
    from driftcheck.sources.evidence import load_evidence  # imports are not the load: done before the clock starts
def hwm():
    text = open("/proc/self/status").read()
    return int(text.split("VmHWM:")[1].split()[0])
base = hwm()
if trace:
    tracemalloc.start()
start = time.perf_counter()
if mode == "json":
    with open(path, "rb") as handle:
        data = json.load(handle)
else:
    data = load_evidence([Path(path)])
wall = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if trace else 0
rss = hwm() - base
print(json.dumps({"wall": wall, "traced": peak, "rss_kb": rss}))
"""


def generate(target_bytes: int, services: int) -> dict[str, Any]:
    """`services` Cloud Run services (each with a secret, an IAM member and a connector, renamed copies of the
    fixture's), then unmodelled resources until the file is about target_bytes."""
    service, secret, _, _, member, _, connector = TEMPLATE["resources"][:7]
    resources: list[dict[str, Any]] = []
    size, index = 0, 0
    while size < target_bytes:
        added = _unmodelled(index)
        if index < services:
            added += [_renamed(service, index, f"svc-{index:05d}")] + [
                _renamed(r, index) for r in (secret, member, connector)
            ]
        resources.extend(added)
        size += sum(len(json.dumps(r, indent=2)) + 4 * 4 for r in added)  # + the nesting indent
        index += 1
    return {**TEMPLATE, "resources": resources}


def _renamed(resource: dict[str, Any], index: int, service: str | None = None) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(resource))
    copy["name"] = f"{copy['name']}_{index}"
    if service:
        copy["module"] = f"module.team{index % 40}"
        copy["instances"][0]["attributes"]["name"] = service
        copy["instances"][0]["index_key"] = service
    return copy


def _unmodelled(index: int) -> list[dict[str, Any]]:
    bucket = {"name": f"bucket-{index}", "location": "US", "labels": {"team": "x"}, "lifecycle_rule": [], "cors": []}
    bucket.update({f"attribute_{n}": f"value-{n}-{index}" * 4 for n in range(40)})
    account = {"account_id": f"sa-{index}", "email": f"sa-{index}@p.iam.gserviceaccount.com", "disabled": False}
    account.update({f"attribute_{n}": f"value-{n}-{index}" * 4 for n in range(40)})
    return [
        {"mode": "managed", "type": kind, "name": f"r{index}", "provider": "google", "instances": [{"attributes": a}]}
        for kind, a in (("google_storage_bucket", bucket), ("google_service_account", account))
    ]


def measure(path: Path, mode: str, runs: int) -> dict[str, float]:
    def probe(trace: bool) -> dict[str, float]:
        cmd = [sys.executable, "-c", PROBE, str(path), mode, "1" if trace else "0"]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
        return dict(json.loads(done.stdout))

    timed = [probe(False) for _ in range(runs)]
    traced = probe(True)
    return {
        "wall": statistics.median(r["wall"] for r in timed),
        "rss_mb": statistics.median(r["rss_kb"] for r in timed) / 1024,
        "traced_mb": traced["traced"] / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, default=300, help="Cloud Run services among the resources")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.tfstate"
        state = generate(int(args.mb * 2**20), args.services)
        path.write_text(json.dumps(state, indent=2))
        size_mb = path.stat().st_size / 2**20
        print(f"state: {size_mb:.1f} MB, {len(state['resources'])} resources, {args.services} Cloud Run services")
        plain = measure(path, "json", args.runs)
        ours = measure(path, "driftcheck", args.runs)
    for label, row in (("json.load", plain), ("driftcheck", ours)):
        print(
            f"{label:>10}: {row['wall']:.2f} s, peak traced {row['traced_mb']:.0f} MB "
            f"({row['traced_mb'] / size_mb:.1f} x file), peak RSS +{row['rss_mb']:.0f} MB"
        )
    print(f"time ratio: {ours['wall'] / plain['wall']:.2f} x json.load")


if __name__ == "__main__":
    main()
