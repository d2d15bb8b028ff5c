"""Scheduled audit of 2,000 services in 20 projects against the fake API server with injected latency.

    .venv/bin/python benchmarks/bench_audit.py [--projects 20] [--services-per-project 100] [--latency 0.05]
                                               [--concurrency 16] [--runs 3]

The world: projects bench-00 .. bench-19 in us-central1, 100 services each. Every service has its own Secret
Manager secret behind a DB_PASSWORD env var (versions list + IAM policy: 2 calls), uses one of its project's 5
Cloud SQL instances (a cloudsql volume) and one of its 2 VPC connectors, with egress PRIVATE_RANGES_ONLY; one
service in 50 has ALL_TRAFFIC egress, so every peer group has outliers to report.

The configuration (written to a temporary folder): the 20 projects; one peer group per project (members "*",
fields vpc.connector, vpc.egress, cloudsql_instances); 10 environment pairs (bench-00/svc-000 with
bench-10/svc-000, ...); and a format-4 Terraform state per project declaring its 100 services as
google_cloud_run_v2_service resources that match the live ones, built from fixtures/terraform/auth-v2.tfstate,
except for a few deliberate drifts (a different image, a service only in state, a service missing from state).

The ideal is calls x latency / concurrency, with calls as the server counted them. Wall times are of
`python -m driftcheck audit ... --format json` in a fresh process with a fresh history folder; the ratio without
start-up subtracts the wall time of an audit of a 1-service config against the same world served with no latency.
A second audit with the history present adds the diff against the previous snapshot. The CPU time of the
analysis alone (`driftcheck.jobs.audit.analyse` over collected snapshots, in this process) is reported per service.
Figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import dataclasses
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakegcp import FakeGcpServer, World  # noqa: E402
from google.cloud import run_v2, secretmanager_v1, sqladmin_v1, vpcaccess_v1  # noqa: E402
from google.iam.v1 import policy_pb2  # noqa: E402

REGION = "us-central1"
INSTANCES, CONNECTORS = 5, 2
IMAGE = "us-central1-docker.pkg.dev/bench/app/api:1.0"
OUTLIER_EVERY = 50  # one service in 50 has ALL_TRAFFIC egress
TEMPLATE = json.loads((ROOT / "fixtures" / "terraform" / "auth-v2.tfstate").read_text())


def project_name(index: int) -> str:
    return f"bench-{index:02d}"


def service_name(index: int) -> str:
    return f"svc-{index:03d}"


def _egress(project: int, index: int) -> str:
    outlier = (project * 7 + index) % OUTLIER_EVERY == 0
    return "ALL_TRAFFIC" if outlier else "PRIVATE_RANGES_ONLY"


def _shape(project: int, index: int) -> dict[str, str]:
    """What a service uses: the one place both the live world and the Terraform state read it from."""
    p = project_name(project)
    return {
        "project": p,
        "name": service_name(index),
        "secret": f"{p}-secret-{index:03d}",  # the fake matches secrets on their id: unique across projects
        "account": f"{service_name(index)}@{p}.iam.gserviceaccount.com",
        "connector": f"projects/{p}/locations/{REGION}/connectors/conn-{index % CONNECTORS}",
        "egress": _egress(project, index),
        "instance": f"{p}:{REGION}:db-{index % INSTANCES}",
    }


# --- the live world -----------------------------------------------------------------------------------------------


def build_world(projects: int, per_project: int) -> World:
    world = World()
    for p in range(projects):
        project = project_name(p)
        for index in range(INSTANCES):
            world.add_sql_instance(
                sqladmin_v1.DatabaseInstance(
                    name=f"db-{index}",
                    project=project,
                    region=REGION,
                    connection_name=f"{project}:{REGION}:db-{index}",
                    database_version="POSTGRES_15",
                    state="RUNNABLE",
                    settings=sqladmin_v1.Settings(activation_policy="ALWAYS"),
                )
            )
        for index in range(CONNECTORS):
            world.add_connector(
                vpcaccess_v1.Connector(
                    name=f"projects/{project}/locations/{REGION}/connectors/conn-{index}", network="vpc", state="READY"
                )
            )
        for index in range(per_project):
            shape = _shape(p, index)
            world.add_service(_service(shape), synthesize_revisions=False)
            secret = f"projects/{project}/secrets/{shape['secret']}"
            world.add_secret(secretmanager_v1.Secret(name=secret))
            world.add_secret_versions([secretmanager_v1.SecretVersion(name=f"{secret}/versions/1", state="ENABLED")])
            world.set_iam_policy(
                shape["secret"],
                policy_pb2.Policy(
                    bindings=[
                        policy_pb2.Binding(
                            role="roles/secretmanager.secretAccessor", members=[f"serviceAccount:{shape['account']}"]
                        )
                    ]
                ),
            )
    return world


def _service(shape: dict[str, str]) -> run_v2.Service:
    env = [
        run_v2.EnvVar(
            name="DB_PASSWORD",
            value_source=run_v2.EnvVarSource(
                secret_key_ref=run_v2.SecretKeySelector(secret=shape["secret"], version="1")
            ),
        )
    ]
    egress = run_v2.VpcAccess.VpcEgress[shape["egress"]]
    return run_v2.Service(
        name=f"projects/{shape['project']}/locations/{REGION}/services/{shape['name']}",
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        launch_stage="GA",
        template=run_v2.RevisionTemplate(
            service_account=shape["account"],
            containers=[
                run_v2.Container(
                    image=IMAGE,
                    env=env,
                    volume_mounts=[run_v2.VolumeMount(name="cloudsql", mount_path="/cloudsql")],
                )
            ],
            vpc_access=run_v2.VpcAccess(connector=shape["connector"], egress=egress),
            volumes=[
                run_v2.Volume(
                    name="cloudsql", cloud_sql_instance=run_v2.CloudSqlInstance(instances=[shape["instance"]])
                )
            ],
        ),
    )


# --- the Terraform states -----------------------------------------------------------------------------------------


def build_state(project: int, per_project: int) -> dict[str, Any]:
    """The project's services as google_cloud_run_v2_service resources matching the live ones, but: one image
    drifted (index 1), one service declared and not live (svc-missing), one live and not declared (the last)."""
    resource = next(r for r in TEMPLATE["resources"] if r["type"] == "google_cloud_run_v2_service")
    instances = []
    for index in range(per_project - 1):  # the last service is unmanaged
        attributes = _state_attributes(resource["instances"][0]["attributes"], _shape(project, index))
        if index == 1:
            attributes["template"][0]["containers"][0]["image"] = IMAGE.replace(":1.0", ":0.9")
        instances.append({**resource["instances"][0], "index_key": service_name(index), "attributes": attributes})
    missing = {**_shape(project, 0), "name": "svc-missing"}
    instances.append(
        {
            **resource["instances"][0],
            "index_key": "svc-missing",
            "attributes": _state_attributes(resource["instances"][0]["attributes"], missing),
        }
    )
    service = {**resource, "module": "module.apps", "name": "svc", "instances": instances}
    return {**TEMPLATE, "lineage": f"bench-{project:02d}", "resources": [service]}


def _state_attributes(template: dict[str, Any], shape: dict[str, str]) -> dict[str, Any]:
    """The fixture's attributes renamed to this service, its template replaced by what the live service has."""
    attrs: dict[str, Any] = copy.deepcopy(template)
    name, project = shape["name"], shape["project"]
    full = f"projects/{project}/locations/{REGION}/services/{name}"
    attrs.update(
        {
            "name": name,
            "project": project,
            "location": REGION,
            "id": full,
            "labels": {},
            "effective_labels": {},
            "terraform_labels": {},
            "annotations": {},
            "effective_annotations": {},
            "creator": "",
            "last_modifier": "",
            "latest_created_revision": "",
            "latest_ready_revision": "",
            "uri": "",
            "urls": [],
            "uid": "",
            "etag": "",
            "generation": "",
            "observed_generation": "",
            "create_time": "",
            "update_time": "",
            "terminal_condition": [],
            "traffic": [],
            "traffic_statuses": [],
        }
    )
    template_block = attrs["template"][0]
    container = template_block["containers"][0]
    container.update(
        {
            "image": IMAGE,
            "name": "",
            "ports": [],
            "resources": [],
            "startup_probe": [],
            "liveness_probe": [],
            "env": [
                {
                    "name": "DB_PASSWORD",
                    "value": "",
                    "value_source": [{"secret_key_ref": [{"secret": shape["secret"], "version": "1"}]}],
                }
            ],
            "volume_mounts": [{"mount_path": "/cloudsql", "name": "cloudsql"}],
        }
    )
    template_block.update(
        {
            "containers": [container],
            "execution_environment": "",
            "max_instance_request_concurrency": 0,
            "scaling": [],
            "service_account": shape["account"],
            "timeout": "",
            "session_affinity": False,
            "volumes": [{**template_block["volumes"][0], "cloud_sql_instance": [{"instances": [shape["instance"]]}]}],
            "vpc_access": [{"connector": shape["connector"], "egress": shape["egress"], "network_interfaces": []}],
        }
    )
    return attrs


# --- the configuration --------------------------------------------------------------------------------------------


def write_config(folder: Path, projects: int, per_project: int) -> Path:
    names = [project_name(p) for p in range(projects)]
    lines = [f"projects = {json.dumps(names)}", f'regions = ["{REGION}"]', 'fail_on = "none"', ""]
    for name in names:
        lines += [
            "[[peer_groups]]",
            f'name = "{name}-backends"',
            'members = ["*"]',
            f'project = "{name}"',
            'fields = ["vpc.connector", "vpc.egress", "cloudsql_instances"]',
            "",
        ]
    half = projects // 2
    for i in range(min(10, half)):
        left, right = names[i], names[i + half]
        service = service_name(i % per_project)
        lines += [
            "[[environment_pairs]]",
            f'name = "{service}-{left}-{right}"',
            f'left = {{ project = "{left}", region = "{REGION}", service = "{service}" }}',
            f'right = {{ project = "{right}", region = "{REGION}", service = "{service}" }}',
            'expected = ["project", "service_account", "vpc.connector", "cloudsql_instances*", "containers.*.env.*"]',
            "",
        ]
    lines.append("[terraform_state]")
    for p, name in enumerate(names):
        state = folder / f"{name}.tfstate"
        state.write_text(json.dumps(build_state(p, per_project), indent=2))
        lines.append(f'{name} = "{state.name}"')
    path = folder / "driftcheck.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_single_config(folder: Path) -> Path:
    """One project, no checks: an audit of it against the no-latency server is the process start-up."""
    path = folder / "single.toml"
    path.write_text(f'projects = ["solo"]\nregions = ["{REGION}"]\nfail_on = "none"\n')
    return path


# --- running ------------------------------------------------------------------------------------------------------


def run_audit(config: Path, endpoint: str, history: Path, out: Path, concurrency: int) -> float:
    cmd = [
        sys.executable,
        "-m",
        "driftcheck",
        "audit",
        "--config",
        str(config),
        "--endpoint",
        endpoint,
        "--history",
        str(history),
        "--format",
        "json",
        "-o",
        str(out),
        "--concurrency",
        str(concurrency),
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"driftcheck audit failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def findings_by_rule(report: Path) -> dict[str, int]:
    data = json.loads(report.read_text())
    return dict(Counter(f["rule"] for f in data.get("findings", [])).most_common())


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def analysis_cpu(config_path: Path, world: World, repeats: int, profile: bool) -> dict[str, Any]:
    """Collect once with no latency, then time `analyse` alone (process CPU time) `repeats` times."""
    from driftcheck.jobs.audit import CollectOptions, analyse, collect
    from driftcheck.jobs.config import load_config
    from driftcheck.ruleset.load import load_ruleset

    config = load_config(config_path)
    with FakeGcpServer(world, page_size=100, workers=64) as instant:
        collected = collect(config, config.projects, CollectOptions(endpoint=instant.address, store=False))
    services = sum(len(c.data["services"]) for c in collected)
    ruleset = load_ruleset()
    today = date.today()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        result = analyse(config, collected, ruleset, today)
        times.append(time.process_time() - start)
    without_state = dataclasses.replace(config, terraform_state={})  # peer groups and environment pairs only
    parity_times = []
    for _ in range(repeats):
        start = time.process_time()
        analyse(without_state, collected, ruleset, today)
        parity_times.append(time.process_time() - start)
    out: dict[str, Any] = {
        "services": services,
        "cpu_s": summary(times),
        "cpu_ms_per_service": round(statistics.median(times) / services * 1000, 3),
        "cpu_ms_per_service_without_drift": round(statistics.median(parity_times) / services * 1000, 3),
        "findings": dict(Counter(f.rule for f in result.findings).most_common()),
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        analyse(config, collected, ruleset, today)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        out["profile"] = text.getvalue()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--services-per-project", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reruns", type=int, default=1, help="audits with the last run's history present")
    parser.add_argument("--analysis-repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one analysis (cumulative)")
    options = parser.parse_args()
    if options.reruns < 1 or options.runs < 1:
        parser.error("--runs and --reruns must be at least 1")
    world = build_world(options.projects, options.services_per_project)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, options.projects, options.services_per_project)
        single = write_single_config(folder)
        solo = World()
        solo.add_service(
            run_v2.Service(
                name=f"projects/solo/locations/{REGION}/services/one",
                template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)]),
            ),
            synthesize_revisions=False,
        )
        with FakeGcpServer(solo, page_size=100) as instant:
            startup = [
                run_audit(single, instant.address, folder / f"h-solo-{i}", folder / "solo.json", options.concurrency)
                for i in range(options.runs)
            ]
        walls, calls, rerun_walls, rerun_calls = [], [], [], []
        with FakeGcpServer(
            world, page_size=100, latency=options.latency, workers=max(64, 4 * options.concurrency)
        ) as server:
            for run in range(options.runs):
                history, out = folder / f"history-{run}", folder / f"audit-{run}.json"
                before = server.call_count
                walls.append(run_audit(config, server.address, history, out, options.concurrency))
                calls.append(server.call_count - before)
                first_findings = findings_by_rule(out)
            for _ in range(options.reruns):  # the last run's history is present: this one diffs against it
                before = server.call_count
                again = folder / "again.json"
                rerun_walls.append(run_audit(config, server.address, history, again, options.concurrency))
                rerun_calls.append(server.call_count - before)
            concurrency_seen = server.max_concurrency
        rerun_report = json.loads(again.read_text())
        call_count = statistics.median(calls)
        ideal = call_count * options.latency / options.concurrency
        start_up = statistics.median(startup)
        wall = statistics.median(walls)
        rerun = statistics.median(rerun_walls)
        cpu = analysis_cpu(config, world, options.analysis_repeats, options.profile)
    profile = cpu.pop("profile", None)
    print(
        json.dumps(
            {
                "services": options.projects * options.services_per_project,
                "projects": options.projects,
                "latency_s": options.latency,
                "concurrency": options.concurrency,
                "runs": options.runs,
                "startup_s": summary(startup),
                "audit_wall_s": summary(walls),
                "calls": calls,
                "ideal_s": round(ideal, 3),
                "ratio_to_ideal": round(wall / ideal, 2),
                "ratio_without_startup": round((wall - start_up) / ideal, 2),
                "rerun_with_history_wall_s": summary(rerun_walls),
                "rerun_calls": rerun_calls,
                "rerun_ratio_to_ideal": round(rerun / ideal, 2),
                "rerun_ratio_without_startup": round((rerun - start_up) / ideal, 2),
                "rerun_changes": len(rerun_report.get("changes") or []),
                "max_concurrency_seen_by_server": concurrency_seen,
                "report_findings_by_rule": first_findings,
                "analysis": cpu,
            },
            indent=2,
        )
    )
    if profile:
        with contextlib.suppress(BrokenPipeError):
            print(profile)


if __name__ == "__main__":
    main()
