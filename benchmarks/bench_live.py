"""Live compare and snapshot of a 500-service project against the fake API server with injected latency.

    .venv/bin/python benchmarks/bench_live.py [--services 500] [--latency 0.05] [--runs 3]

Ideal times: a compare is sequential rounds x latency (2 rounds for two services); a snapshot is
calls x latency / concurrency, plus the sequential pages of ListServices. Wall times include process start-up,
measured separately as a compare --from the offline fixture. Figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakegcp import FakeGcpServer, World  # noqa: E402
from google.cloud import run_v2, secretmanager_v1, sqladmin_v1, vpcaccess_v1  # noqa: E402
from google.iam.v1 import policy_pb2  # noqa: E402

PROJECT, REGION = "bench", "us-central1"
INSTANCES, CONNECTORS = 10, 5


def build_world(count: int) -> World:
    """`count` services; each has its own secret, and they share 10 Cloud SQL instances and 5 connectors."""
    world = World()
    for index in range(INSTANCES):
        world.add_sql_instance(sqladmin_v1.DatabaseInstance(
            name=f"db-{index}", project=PROJECT, region=REGION, connection_name=f"{PROJECT}:{REGION}:db-{index}",
            database_version="POSTGRES_14", state="RUNNABLE",
            settings=sqladmin_v1.Settings(activation_policy="ALWAYS"),
        ))
    for index in range(CONNECTORS):
        world.add_connector(vpcaccess_v1.Connector(
            name=f"projects/{PROJECT}/locations/{REGION}/connectors/conn-{index}", network="vpc", state="READY"
        ))
    for index in range(count):
        world.add_service(_service(index), synthesize_revisions=False)
        secret = f"projects/{PROJECT}/secrets/secret-{index}"
        world.add_secret(secretmanager_v1.Secret(name=secret))
        world.add_secret_versions([secretmanager_v1.SecretVersion(name=f"{secret}/versions/1", state="ENABLED")])
        world.set_iam_policy(f"secret-{index}", policy_pb2.Policy(bindings=[policy_pb2.Binding(
            role="roles/secretmanager.secretAccessor", members=[f"serviceAccount:svc-{index}@{PROJECT}.iam"])]))
    return world


def _service(index: int) -> run_v2.Service:
    env = [run_v2.EnvVar(name="DB_PASSWORD", value_source=run_v2.EnvVarSource(
        secret_key_ref=run_v2.SecretKeySelector(secret=f"secret-{index}", version="1")))]
    return run_v2.Service(
        name=f"projects/{PROJECT}/locations/{REGION}/services/svc-{index}",
        template=run_v2.RevisionTemplate(
            service_account=f"svc-{index}@{PROJECT}.iam",
            containers=[run_v2.Container(image="gcr.io/bench/app", env=env)],
            vpc_access=run_v2.VpcAccess(connector=f"projects/{PROJECT}/locations/{REGION}/connectors/conn-{index % 5}"),
            volumes=[run_v2.Volume(name="cloudsql", cloud_sql_instance=run_v2.CloudSqlInstance(
                instances=[f"{PROJECT}:{REGION}:db-{index % INSTANCES}"]))],
        ),
    )


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "driftcheck", *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"driftcheck failed: {done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    scope = ["--project", PROJECT, "--region", REGION, "--concurrency", str(options.concurrency)]
    startup = statistics.median(timed(["compare", "api", "auth", "--from", str(ROOT / "fixtures" / "incident"),
                                       "--format", "json"]) for _ in range(options.runs))
    page_size = 100
    world = build_world(options.services)
    with FakeGcpServer(world, page_size=page_size) as instant:  # live start-up: the same calls, no latency
        live_startup = statistics.median(
            timed(["compare", "svc-0", "svc-1", *scope, "--endpoint", instant.address, "--format", "json"])
            for _ in range(options.runs)
        )
    with FakeGcpServer(world, page_size=page_size, latency=options.latency) as server:
        endpoint = ["--endpoint", server.address]
        compare = statistics.median(
            timed(["compare", "svc-0", "svc-1", *scope, *endpoint, "--format", "json"]) for _ in range(options.runs)
        )
        calls_before = server.call_count
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "snap.json"
            snapshot = timed(["snapshot", *scope, *endpoint, "-o", str(out)])
            services = len(json.loads(out.read_text())["services"])
        calls = server.call_count - calls_before
        concurrency_seen = server.max_concurrency
    pages = -(-options.services // page_size)
    ideal_compare = 2 * options.latency
    ideal_snapshot = pages * options.latency + (calls - pages) * options.latency / options.concurrency
    print(json.dumps({
        "services": services, "latency_s": options.latency, "concurrency": options.concurrency,
        "offline_startup_s": round(startup, 3), "live_startup_s": round(live_startup, 3),
        "compare_s": round(compare, 3), "compare_ideal_s": ideal_compare,
        "compare_minus_live_startup_s": round(compare - live_startup, 3),
        "compare_goal_s": round(4 * options.latency + live_startup, 3),
        "snapshot_s": round(snapshot, 3), "snapshot_calls": calls, "snapshot_ideal_s": round(ideal_snapshot, 3),
        "snapshot_ratio_to_ideal": round(snapshot / ideal_snapshot, 2),
        "snapshot_minus_startup_ratio": round((snapshot - live_startup) / ideal_snapshot, 2),
        "max_concurrency_seen_by_server": concurrency_seen,
    }, indent=2))


if __name__ == "__main__":
    main()
