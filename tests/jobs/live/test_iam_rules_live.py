"""The IAM rules, live: each rule's fixture served by the fake API, and the real clients over real gRPC, find what
the exported files find.

Each world is the rule fixture's folder: its exports (secrets, their versions and IAM policies, the project's IAM
policy, Cloud SQL instances, connectors, service accounts, run IAM policies, subscriptions) as they are, and its two
gcloud v1 services (`target.yaml`, `baseline.yaml`) in the form the v2 API serves them (`_as_v2` below: the fields
these fixtures set, nothing more). The v1 exports name the project by its number (their namespace) where the API
names it by its id, so a sentence may name the project either way: what is compared is the rule, its severity, what
it is about (the item) and the fix, with the project named by its id on both sides.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, compare_rule_fixture, findings_of, run_cli
from fakegcp import FakeGcpServer, World

PROJECT, NUMBER, REGION = "netra-staging", "123456789012", "us-central1"
SCOPE = ("--project", PROJECT, "--region", REGION)
RULES = FIXTURES / "rules"
# rule -> what its finding must say, from the exports and live alike (the facts that matter, not the whole sentence)
IAM_RULES = {
    "secret-access-denied": (
        "checkout runs as checkout@netra-staging.iam.gserviceaccount.com, which holds none of "
        "roles/secretmanager.secretAccessor, roles/secretmanager.admin on secret stripe-api-key"
    ),
    "cloudsql-client-role-missing": (
        "catalog connects to Cloud SQL netra-staging:us-central1:shop-postgres (attached) as "
        "catalog@netra-staging.iam.gserviceaccount.com, which holds no role granting cloudsql.instances.connect in "
        "the IAM policy of project netra-staging"
    ),
    "service-agent-role-missing": (
        f"service-{NUMBER}@serverless-robot-prod.iam.gserviceaccount.com, holds no roles/run.serviceAgent in the IAM "
        "policy of project netra-staging"
    ),
    "service-account-missing": (
        "invoices-v2 runs as invoices-runner@netra-staging.iam.gserviceaccount.com, which is disabled"
    ),
    "invoker-mismatch": "public-api-canary lets allUsers invoke it (roles/run.invoker) and public-api does not",
    "push-invoker-missing": (
        "projects/netra-staging/subscriptions/order-events-public-api (as "
        "events-push@netra-staging.iam.gserviceaccount.com) pushes to public-api, whose IAM policy grants "
        "roles/run.invoker to neither that identity nor allUsers"
    ),
}
_INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
_EGRESS = {"private-ranges-only": "PRIVATE_RANGES_ONLY", "all-traffic": "ALL_TRAFFIC"}


def _as_v2(v1: dict[str, Any]) -> dict[str, Any]:
    """A gcloud v1 export of one of these fixtures as the Cloud Run Admin API v2 serves the same service: named by
    the project id, with its deterministic URL (the number) in `urls`, as the API gives it."""
    meta, spec = v1["metadata"], v1["spec"]["template"]
    annotations, t_annotations = meta.get("annotations") or {}, spec["metadata"].get("annotations") or {}
    name, status = meta["name"], v1.get("status") or {}
    path = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    instances = [i for i in t_annotations.get("run.googleapis.com/cloudsql-instances", "").split(",") if i]
    containers = [_container(c, bool(instances)) for c in spec["spec"]["containers"]]
    template: dict[str, Any] = {
        "revision": spec["metadata"]["name"],
        "serviceAccount": spec["spec"]["serviceAccountName"],
        "timeout": f"{spec['spec']['timeoutSeconds']}s",
        "maxInstanceRequestConcurrency": spec["spec"]["containerConcurrency"],
        "executionEnvironment": "EXECUTION_ENVIRONMENT_GEN2",
        "containers": containers,
        "scaling": {
            key: int(t_annotations[f"autoscaling.knative.dev/{scale}"])
            for key, scale in (("minInstanceCount", "minScale"), ("maxInstanceCount", "maxScale"))
            if f"autoscaling.knative.dev/{scale}" in t_annotations
        },
    }
    if instances:
        template["volumes"] = [{"name": "cloudsql", "cloudSqlInstance": {"instances": instances}}]
    connector = t_annotations.get("run.googleapis.com/vpc-access-connector")
    if connector:
        egress = _EGRESS[t_annotations.get("run.googleapis.com/vpc-access-egress", "private-ranges-only")]
        template["vpcAccess"] = {
            "connector": f"projects/{PROJECT}/locations/{REGION}/connectors/{connector}",
            "egress": egress,
        }
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    revisions = f"{path}/revisions/"
    return {
        "name": path,
        "ingress": _INGRESS[annotations["run.googleapis.com/ingress"]],
        "labels": {k: v for k, v in (meta.get("labels") or {}).items() if k != "cloud.googleapis.com/location"},
        "template": template,
        "uri": status["url"],
        "urls": json.loads(annotations["run.googleapis.com/urls"]),
        "terminalCondition": {
            "type": "Ready",
            "state": "CONDITION_SUCCEEDED" if ready["status"] == "True" else "CONDITION_FAILED",
            **({"message": ready["message"]} if "message" in ready else {}),
        },
        "latestCreatedRevision": revisions + status["latestCreatedRevisionName"],
        "latestReadyRevision": revisions + status["latestReadyRevisionName"],
    }


def _container(v1: dict[str, Any], cloudsql: bool) -> dict[str, Any]:
    probe = v1["startupProbe"]
    container = {
        "name": v1["name"],
        "image": v1["image"],
        "env": [_env(var) for var in v1.get("env") or ()],
        "ports": v1["ports"],
        "resources": {"limits": v1["resources"]["limits"], "startupCpuBoost": True},
        "startupProbe": {
            "tcpSocket": probe["tcpSocket"],
            "timeoutSeconds": probe["timeoutSeconds"],
            "periodSeconds": probe["periodSeconds"],
            "failureThreshold": probe["failureThreshold"],
        },
    }
    if cloudsql:
        container["volumeMounts"] = [{"name": "cloudsql", "mountPath": "/cloudsql"}]
    return container


def _env(var: dict[str, Any]) -> dict[str, Any]:
    ref = (var.get("valueFrom") or {}).get("secretKeyRef")
    if ref:
        return {"name": var["name"], "valueSource": {"secretKeyRef": {"secret": ref["name"], "version": ref["key"]}}}
    return {"name": var["name"], "value": var["value"]}


def _world(case: Path, tmp_path: Path) -> tuple[World, str, str]:
    """The fixture's exports as they are, its two services as v2 JSON; and the target's and baseline's names."""
    folder = tmp_path / "world"
    shutil.copytree(case, folder, ignore=lambda _dir, names: [n for n in names if n.endswith(".yaml")])
    names = []
    for side in ("target", "baseline"):
        service = _as_v2(yaml.safe_load((case / f"{side}.yaml").read_text()))
        names.append(service["name"].rsplit("/", 1)[-1])
        (folder / f"{names[-1]}.json").write_text(json.dumps(service))
    return World.from_folder(folder), names[0], names[1]


def _facts(finding: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """The rule, its severity and its fix, with a project named by its number named by its id."""
    fixes = json.loads(json.dumps(finding["fix"]).replace(f'"{NUMBER}"', f'"{PROJECT}"'))
    return finding["rule"], finding["severity"], fixes


@pytest.mark.parametrize("rule", sorted(IAM_RULES))
def test_each_iam_rule_fires_live_as_it_does_on_its_exported_fixture(rule: str, tmp_path: Path) -> None:
    world, target, baseline = _world(RULES / rule, tmp_path)
    with FakeGcpServer(world) as server:
        run = run_cli("compare", target, baseline, *SCOPE, "--endpoint", server.address, "--format", "json")
    assert run.code == 1, run.stderr  # each is high or critical: the default --fail-on high fails
    live = run.json()
    (online,) = findings_of(live, rule)
    (offline,) = findings_of(compare_rule_fixture(RULES / rule), rule)
    assert _facts(online) == _facts(offline)
    assert online["severity"] in ("high", "critical") and online["fix"]
    for finding in (online, offline):
        assert IAM_RULES[rule] in finding["explanation"], finding["explanation"]
    assert not [u for u in live["unverified"] if u["rule"] == rule]
    assert not live["notes"], live["notes"]  # nothing was denied: every read the rules need was answered


# --- driftcheck snapshot --troubleshoot-iam: the answers are in the file, and a compare of it weighs them ------------

CHECKOUT = f"checkout@{PROJECT}.iam.gserviceaccount.com"
STRIPE = f"//secretmanager.googleapis.com/projects/{PROJECT}/secrets/stripe-api-key"
ASKED = f"{CHECKOUT} secretmanager.versions.access {STRIPE}"  # the fake records a call as its access tuple


def _snapshot(server: FakeGcpServer, out: Path, *flags: str) -> dict[str, Any]:
    run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", out, *flags)
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text()))


def test_a_snapshot_taken_with_troubleshoot_iam_carries_the_answers_a_compare_of_it_weighs(tmp_path: Path) -> None:
    """secret-access-denied's world, where Policy Troubleshooter (which sees folder grants) says checkout may read."""
    from google.cloud import policytroubleshooter_iam_v3 as v3

    world, target, baseline = _world(RULES / "secret-access-denied", tmp_path)
    granted = json.loads(next((FIXTURES / "troubleshooter" / "granted").glob("*.json")).read_text())
    granted["accessTuple"]["fullResourceName"] = STRIPE
    world.add_troubleshooter_answer(v3.TroubleshootIamPolicyResponse.from_json(json.dumps(granted)))
    with FakeGcpServer(world) as server:
        plain = _snapshot(server, tmp_path / "plain.json")
        assert server.called("TroubleshootIamPolicy") == []  # not asked without the flag
        asked = _snapshot(server, tmp_path / "asked.json", "--troubleshoot-iam")
        calls = server.called("TroubleshootIamPolicy")
    # each runtime account on the secret it reads, once: checkout's answer is the canned one, payments' UNKNOWN_INFO
    payments = f"payments@{PROJECT}.iam.gserviceaccount.com secretmanager.versions.access {STRIPE}"
    assert sorted(calls) == sorted([ASKED, payments])
    stored = asked["iam_troubleshooter_answers"]
    assert sorted(stored) == [f"serviceAccount:{ASKED}", f"serviceAccount:{payments}"]
    assert stored[f"serviceAccount:{ASKED}"]["overallAccessState"] == "CAN_ACCESS"
    assert stored[f"serviceAccount:{payments}"]["overallAccessState"] == "UNKNOWN_INFO"
    assert "iam_troubleshooter_answers" not in plain or not plain["iam_troubleshooter_answers"]
    assert asked["errors"] == plain["errors"] == {}

    def compared(snapshot: str) -> dict[str, Any]:
        run = run_cli("compare", target, baseline, "--from", tmp_path / snapshot, "--format", "json")
        assert run.code in (0, 1), run.stderr
        return dict(run.json())

    (local,) = findings_of(compared("plain.json"), "secret-access-denied")  # the secret's own policy alone
    assert local["severity"] == "critical"
    weighed = compared("asked.json")
    assert findings_of(weighed, "secret-access-denied") == []  # the troubleshooter's CAN_ACCESS decides it
    assert not [u for u in weighed["unverified"] if u["rule"] == "secret-access-denied"]


def test_the_project_number_a_live_run_learns_round_trips_through_its_snapshot(tmp_path: Path) -> None:
    """The service agent is named after the project number, which the v2 services' deterministic URLs give: the
    snapshot keeps those URLs, so a compare of it names the same agent as the live run."""
    rule = "service-agent-role-missing"
    world, target, baseline = _world(RULES / rule, tmp_path)
    with FakeGcpServer(world) as server:
        snapshot = _snapshot(server, tmp_path / "snap.json")
        live = run_cli("compare", target, baseline, *SCOPE, "--endpoint", server.address, "--format", "json")
    assert all(NUMBER in " ".join(service["urls"]) for service in snapshot["services"])
    again = run_cli("compare", target, baseline, "--from", tmp_path / "snap.json", "--format", "json")
    assert again.code == live.code == 1, again.stderr
    (offline,) = findings_of(again.json(), rule)
    (online,) = findings_of(live.json(), rule)
    assert _facts(offline) == _facts(online) and offline["explanation"] == online["explanation"]
    assert IAM_RULES[rule] in offline["explanation"]


# --- One service name in two regions: each service judged by its own IAM policy ------------------------------------

REGIONS = ("us-central1", "europe-west1")
TWO_REGIONS = ("--project", PROJECT, "--region", REGIONS[0], "--region", REGIONS[1])
PUSHER = f"serviceAccount:events-push@{PROJECT}.iam.gserviceaccount.com"


def _full(region: str, service: str = "public-api") -> str:
    return f"projects/{PROJECT}/locations/{region}/services/{service}"


def _public_api_in_two_regions(tmp_path: Path, granted_in: str) -> World:
    """push-invoker-missing's world with `public-api` deployed in europe-west1 too (a name is unique only within a
    region), a subscription pushing to each region's URL as one identity, and only the `public-api` of
    `granted_in` granting that identity roles/run.invoker in its own policy: the other's denies it."""
    from google import pubsub_v1
    from google.cloud import run_v2

    world, _, _ = _world(RULES / "push-invoker-missing", tmp_path)
    us = world.services[_full(REGIONS[0])]
    moved = run_v2.Service.to_json(us).replace("-uc.a.run.app", "-ew.a.run.app")
    europe = run_v2.Service.from_json(moved.replace(".us-central1.", ".europe-west1."))
    europe.name = _full(REGIONS[1])
    world.add_service(europe)
    pushed = world.subscriptions[f"projects/{PROJECT}/subscriptions/order-events-public-api"]
    to_europe = pubsub_v1.Subscription.from_json(pubsub_v1.Subscription.to_json(pushed).replace("-uc.", "-ew."))
    to_europe.name = f"projects/{PROJECT}/subscriptions/order-events-public-api-eu"
    world.add_subscription(to_europe)
    denying = json.loads((RULES / "push-invoker-missing" / "public-api.run-iam.json").read_text())
    grant = {"role": "roles/run.invoker", "members": [PUSHER]}
    granting = {**denying, "bindings": [*denying.get("bindings", []), grant]}
    for region in REGIONS:
        world.set_run_iam_policy(_full(region), granting if region == granted_in else denying)
    return world


def _judged_by_region(data: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    """Each region's `public-api` judged on its own, as an audit and the history read a snapshot (load_by_region):
    whether push-invoker-missing fires, whether the push identity may invoke it, and whether its own policy was read."""
    from driftcheck.kinds import access
    from driftcheck.ruleset.context.access import access_answer
    from driftcheck.ruleset.evaluate import evaluate
    from driftcheck.ruleset.load import load_ruleset
    from driftcheck.sources.snapshot_file import load_by_region

    ruleset = load_ruleset()
    judged = {}
    for region, inventory in load_by_region(data, "snapshot").items():
        target = inventory.services["public-api"]
        rules = [f.rule for f in evaluate(target, [], inventory, ruleset).findings]
        answer = access_answer(access.invoke_check(PUSHER, target), inventory)
        own = answer["own_policy"] if isinstance(answer["own_policy"], bool) else "unknown"
        judged[region] = ("push-invoker-missing" in rules, answer["access"], own)
    return judged


@pytest.mark.parametrize("granted_in", REGIONS)
def test_a_name_in_two_regions_is_judged_by_its_own_regions_iam_policy(tmp_path: Path, granted_in: str) -> None:
    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_public_api_in_two_regions(tmp_path, granted_in)) as server:
        run = run_cli("snapshot", *TWO_REGIONS, "--endpoint", server.address, "-o", out)
    assert run.code == 0, run.stderr
    data = json.loads(out.read_text())
    # the finding for the region whose policy denies the push identity only; the answer its own policy's
    assert _judged_by_region(data) == {
        region: (region != granted_in, "granted" if region == granted_in else "denied", True) for region in REGIONS
    }
    stored = data["run_service_iam_policies"]
    assert {_full(region) for region in REGIONS} <= set(stored)  # by full name: each region's, none written over
    assert {region: PUSHER in json.dumps(stored[_full(region)]) for region in REGIONS} == {
        region: region == granted_in for region in REGIONS
    }


def test_a_snapshot_of_an_earlier_version_keyed_by_short_name_reads_the_same(tmp_path: Path) -> None:
    """A snapshot written before the policies were keyed by full name (`"public-api"`, not `projects/P/locations/R/
    services/public-api`): of one region, each short key is the policy of the one service of that name."""
    world, target, baseline = _world(RULES / "push-invoker-missing", tmp_path)
    with FakeGcpServer(world) as server:
        current = _snapshot(server, tmp_path / "current.json")
    stored = current["run_service_iam_policies"]
    assert sorted(stored) == [_full(REGIONS[0], name) for name in sorted((baseline, target))]
    earlier = {**current, "run_service_iam_policies": {k.rsplit("/", 1)[-1]: v for k, v in stored.items()}}
    (tmp_path / "earlier.json").write_text(json.dumps(earlier))
    reports = [
        run_cli("compare", target, baseline, "--from", tmp_path / name, "--format", "json")
        for name in ("current.json", "earlier.json")
    ]
    assert reports[0].code == reports[1].code == 1, reports[1].stderr
    now, before = (report.json() for report in reports)
    (finding,) = findings_of(before, "push-invoker-missing")
    assert IAM_RULES["push-invoker-missing"] in finding["explanation"]
    same = json.loads(json.dumps(before).replace("earlier.json#", "current.json#"))  # sources name their file
    assert same["findings"] == now["findings"] and same["unverified"] == now["unverified"]
    assert not before["notes"], before["notes"]


@pytest.mark.parametrize("granted_in", REGIONS)
def test_an_earlier_versions_snapshot_of_two_regions_leaves_each_policy_unknown(
    tmp_path: Path, granted_in: str
) -> None:
    """An earlier driftcheck kept one policy of `public-api` for the `public-api` of each region (read in its first
    region for both): a policy does not say whose it is, so each one's is unknown, never the other region's."""
    from driftcheck.sources.snapshot_file import load_by_region

    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_public_api_in_two_regions(tmp_path, granted_in)) as server:
        assert run_cli("snapshot", *TWO_REGIONS, "--endpoint", server.address, "-o", out).code == 0
    data = json.loads(out.read_text())
    kept = data["run_service_iam_policies"][_full(granted_in)]  # whichever was kept, neither region may read it
    short = {k.rsplit("/", 1)[-1]: v for k, v in data["run_service_iam_policies"].items()}
    earlier = {**data, "run_service_iam_policies": {**short, "public-api": kept}}
    # no finding for either (push-invoker-missing needs the service's own policy), and no grant read from it
    assert _judged_by_region(earlier) == {region: (False, "denied", "unknown") for region in REGIONS}
    stored = load_by_region(earlier, "snapshot")[granted_in].errors[f"run_service_iam_policies:{_full(granted_in)}"]
    assert "earlier driftcheck" in stored
