"""An organization audit at scale through Cloud Asset Inventory, against the fake with injected latency.

    .venv/bin/python benchmarks/bench_asset_scale.py [--projects 2000] [--per-project 10] [--latency 0.05]
        [--concurrency 64] [--sample 100]

The world is built in memory (no files): PROJECTS projects under organizations/900, each with PER_PROJECT Cloud Run
services (one shared runtime service account, one secret with a policy, one Cloud SQL instance, one connector and
its network per project) and IAM policies on every service, project and secret. The fake runs in a process of its
own (its CPU must not share the audit's GIL) and answers every call after `latency` seconds.

Measured, in this process: the audit's wall time (discovery, then collect: the inventory's streams and the
per-resource reads it does not answer), analysis time (`analyse`, per service), peak memory (ru_maxrss), and the
fake's call counts; against the ideal (sequential pages x latency) + analysis. The same audit through per-resource
calls runs on the first `--sample` projects only (`--sample 0`: all) and is extrapolated linearly, as said in the
output. Figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

REGION, ORG = "us-central1", "900"


def build_world(projects: int, per_project: int) -> Any:
    from fakegcp import World
    from google.cloud import iam_admin_v1, run_v2, secretmanager_v1, sqladmin_v1, vpcaccess_v1
    from google.iam.v1 import policy_pb2

    world = World()
    ready = run_v2.Condition(type_="Ready", state=run_v2.Condition.State.CONDITION_SUCCEEDED)
    for p in range(projects):
        project = f"proj-{p:05d}"
        world.set_ancestry([{"id": project, "type": "project"}, {"id": ORG, "type": "organization"}])
        account = f"run@{project}.iam.gserviceaccount.com"
        world.add_service_account(iam_admin_v1.ServiceAccount(name=f"projects/{project}/serviceAccounts/{account}",
                                                              email=account))  # fmt: skip
        connector = f"projects/{project}/locations/{REGION}/connectors/conn"
        world.add_connector(vpcaccess_v1.Connector(name=connector, network="vpc", state="READY",
                                                   ip_cidr_range="10.8.0.0/28"))  # fmt: skip
        world.add_compute(
            {
                "kind": "compute#network",
                "name": "vpc",
                "autoCreateSubnetworks": False,
                "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}/global/networks/vpc",
            }
        )
        world.add_sql_instance(sqladmin_v1.DatabaseInstance(
            name="db", project=project, region=REGION, connection_name=f"{project}:{REGION}:db",
            database_version="POSTGRES_14", state="RUNNABLE", settings=sqladmin_v1.Settings(activation_policy="ALWAYS"),
        ))  # fmt: skip
        secret = f"projects/{project}/secrets/db-{project}"
        world.add_secret(secretmanager_v1.Secret(name=secret))
        world.add_secret_versions([secretmanager_v1.SecretVersion(name=f"{secret}/versions/1", state="ENABLED")])
        accessor = policy_pb2.Binding(role="roles/secretmanager.secretAccessor", members=[f"serviceAccount:{account}"])
        world.set_iam_policy(f"db-{project}", policy_pb2.Policy(bindings=[accessor]))
        world.set_project_iam_policy(project, policy_pb2.Policy(bindings=[policy_pb2.Binding(
            role="roles/viewer", members=["group:ops@example.com"])]))  # fmt: skip
        for s in range(per_project):
            env = [run_v2.EnvVar(name="DB_PASSWORD", value_source=run_v2.EnvVarSource(
                secret_key_ref=run_v2.SecretKeySelector(secret=f"db-{project}", version="1"))),
                run_v2.EnvVar(name="APP_ENV", value="prod")]  # fmt: skip
            name = f"projects/{project}/locations/{REGION}/services/svc-{s}"
            world.add_service(run_v2.Service(
                name=name, terminal_condition=ready,
                latest_created_revision=f"{name}/revisions/svc-{s}-00001-abc",
                latest_ready_revision=f"{name}/revisions/svc-{s}-00001-abc",
                template=run_v2.RevisionTemplate(
                    service_account=account, vpc_access=run_v2.VpcAccess(connector=connector),
                    containers=[run_v2.Container(image=f"europe-docker.pkg.dev/{project}/app/svc-{s}:1", env=env,
                                                 ports=[run_v2.ContainerPort(container_port=8080)])],
                    volumes=[run_v2.Volume(name="cloudsql", cloud_sql_instance=run_v2.CloudSqlInstance(
                        instances=[f"{project}:{REGION}:db"]))],
                ),
            ), synthesize_revisions=False)  # fmt: skip
    # every service has its own invoker policy (a short name's policy applies to every project's service of it)
    for s in range(per_project):
        world.set_run_iam_policy(f"svc-{s}", policy_pb2.Policy(bindings=[policy_pb2.Binding(
            role="roles/run.invoker", members=["allAuthenticatedUsers"])]))  # fmt: skip
    world.set_ancestor_iam_policy(f"organizations/{ORG}", policy_pb2.Policy())
    return world


def serve(args: argparse.Namespace) -> None:
    """The fake, in a process of its own: prints its address, then answers `counts` and `quit` on stdin."""
    from fakegcp import FakeGcpServer

    started = time.perf_counter()
    world = build_world(args.projects, args.per_project)
    built = time.perf_counter() - started
    with FakeGcpServer(world, latency=args.latency, page_size=1000, workers=256) as fake:
        from driftcheck.sources.live.asset_listing import streams

        # The real inventory answers from an index built before the call: the fake builds its assets now, untimed;
        # the whole organization's listings, and each project's (a shard's)
        every = [f"proj-{p:05d}" for p in range(args.projects)]
        fake.index_assets([*streams([f"organizations/{ORG}"], every), *streams([f"organizations/{ORG}"], every, True)])
        built = time.perf_counter() - started
        print(json.dumps({"address": fake.address, "built_s": round(built, 1)}), flush=True)
        for line in sys.stdin:
            if line.strip() == "counts":
                print(json.dumps({"total": fake.call_count, "by": dict(fake.counts)}), flush=True)
            elif line.strip() == "quit":
                break


class Fake:
    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--serve", "--projects", str(args.projects), "--per-project",
                   str(args.per_project), "--latency", str(args.latency)]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdin is not None
        started = json.loads(self.process.stdout.readline())
        self.address, self.built_s = started["address"], started["built_s"]

    def counts(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=60)


def _delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    by = {m: n - before["by"].get(m, 0) for m, n in after["by"].items() if n - before["by"].get(m, 0)}
    return {"total": after["total"] - before["total"], "by": by}


def audit(
    fake: Fake,
    projects: list[str],
    source: str,
    concurrency: int,
    listings: tuple[Any, ...] = (),
    share: list[str] | None = None,
) -> dict[str, Any]:
    """`share`: one shard's projects, of `projects` (as `audit --shard I/N` collects them)."""
    from driftcheck.jobs.audit import CollectOptions, analyse, collect
    from driftcheck.jobs.config import Config
    from driftcheck.ruleset.load import load_ruleset

    config = Config(source="command line", projects=tuple(projects), regions=(REGION,), region_peers=True)
    options = CollectOptions(endpoint=fake.address, concurrency=concurrency, store=False, source=source,
                             parents=(f"organizations/{ORG}",) if source == "asset-inventory" else (),
                             listings=listings)  # fmt: skip
    ruleset = load_ruleset(None)
    before = fake.counts()
    started = time.perf_counter()
    collected = collect(config, projects if share is None else share, options)
    fetched = time.perf_counter() - started
    analysed_at = time.perf_counter()
    result = analyse(config, collected, ruleset, datetime.now(UTC).date())
    analysis = time.perf_counter() - analysed_at
    services = sum(len(c.data["services"]) for c in collected)
    return {
        "source": source, "projects": len(projects), "services": services, "collect_s": round(fetched, 2),
        "analysis_s": round(analysis, 2), "analysis_ms_per_service": round(1000 * analysis / max(1, services), 3),
        "findings": len(result.findings), "unread": len(result.unread), "calls": _delta(fake.counts(), before),
        "notes": [n for n in result.notes if "Cloud Asset Inventory" in n][:3],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--per-project", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--shards", type=int, default=4, help="also time task 0 of this many (0: not)")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return
    fake = Fake(args)
    try:
        from driftcheck.sources.live.assets import discover

        print(f"world: {args.projects} projects x {args.per_project} services, built in {fake.built_s} s "
              f"(fake process); latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}")  # fmt: skip
        started = time.perf_counter()
        projects, _, listings = discover([f"organizations/{ORG}"], fake.address)
        discovery = time.perf_counter() - started
        bulk = audit(fake, projects, "asset-inventory", args.concurrency, tuple(listings))
        wall = discovery + bulk["collect_s"] + bulk["analysis_s"]
        pages = -(-len(projects) * args.per_project // 1000)  # the longest streams: services, their IAM policies
        ideal = (pages + pages) * args.latency + bulk["analysis_s"]  # discovery's pages, then one stream's
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"discovery_s": round(discovery, 2), **bulk, "wall_s": round(wall, 2),
                          "ideal_s": round(ideal, 2), "peak_mb": round(peak_mb)}, indent=1))  # fmt: skip
        if args.shards > 1:  # one task of a sharded job: its share read project by project
            share = projects[:: args.shards]
            task = audit(fake, projects, "asset-inventory", args.concurrency, tuple(listings), share)
            print(json.dumps({"shard": f"0/{args.shards}", "discovery_s": round(discovery, 2), **task,
                              "wall_s": round(discovery + task["collect_s"] + task["analysis_s"], 2)},
                             indent=1))  # fmt: skip
        sample = projects if args.sample <= 0 else projects[: args.sample]
        per = audit(fake, sample, "api", args.concurrency)
        scale = len(projects) / len(sample)
        per["extrapolated_collect_s"] = round(per["collect_s"] * scale, 1)
        per["extrapolated_calls"] = round(per["calls"]["total"] * scale)
        print(json.dumps({"per_resource_sample": per, "scale": scale}, indent=1))
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
