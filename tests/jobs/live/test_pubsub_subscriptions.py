"""Pub/Sub push subscriptions, live: the real Pub/Sub client over real gRPC against the fake API server.

A service names no subscription, so the live read lists each compared service's project (paged) and keeps those
that push to one of the services' own hosts. The world is the rule fixture fixtures/rules/push-invoker-missing,
its gcloud v1 services given as the v2 API serves them, its subscription and IAM policy exports as they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of, run_cli
from fakegcp import FakeGcpServer, World

CASE = FIXTURES / "rules" / "push-invoker-missing"
RULE = "push-invoker-missing"
PROJECT = "netra-staging"
SCOPE = ("--project", PROJECT, "--region", "us-central1")
TARGET_SUB = f"projects/{PROJECT}/subscriptions/order-events-public-api"
IDENTITY = "events-push@netra-staging.iam.gserviceaccount.com"
IMAGE = "us-central1-docker.pkg.dev/netra-staging/backend/public-api@sha256:" + "1f" * 32
# Listed before the target's (by name), so with one subscription a page the one kept is on the last page.
ELSEWHERE = {
    "name": f"projects/{PROJECT}/subscriptions/billing-events-billing",
    "topic": f"projects/{PROJECT}/topics/billing-events",
    "pushConfig": {
        "pushEndpoint": "https://billing-x7kq2p4vda-uc.a.run.app/pubsub",
        "oidcToken": {"serviceAccountEmail": IDENTITY},
    },
}
PULL = {"name": f"projects/{PROJECT}/subscriptions/audit-archive", "topic": f"projects/{PROJECT}/topics/audit"}
# What the finding says, from the exported files and live alike. (Not all of it: live reads the project's IAM policy
# too, and the v1 exports name the project by number, so a clause on the project's grants may differ.)
SAYS = (
    f"{TARGET_SUB} (as {IDENTITY}) pushes to public-api, whose IAM policy grants roles/run.invoker to neither that "
    "identity nor allUsers"
)


def _v2_service(name: str) -> dict[str, Any]:
    """The v2 API's form of the fixture's service: its URLs (the host the subscription pushes to) and its account."""
    revision = f"projects/{PROJECT}/locations/us-central1/services/{name}/revisions/{name}-00008-mls"
    container = {"name": f"{name}-1", "image": IMAGE, "env": [{"name": "SERVICE_NAME", "value": "public-api"}],
                 "ports": [{"name": "http1", "containerPort": 8080}]}  # fmt: skip
    return {
        "name": f"projects/{PROJECT}/locations/us-central1/services/{name}",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "uri": f"https://{name}-x7kq2p4vda-uc.a.run.app",
        "urls": [f"https://{name}-123456789012.us-central1.run.app", f"https://{name}-x7kq2p4vda-uc.a.run.app"],
        "template": {"serviceAccount": f"{name}@{PROJECT}.iam.gserviceaccount.com", "containers": [container]},
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "latestCreatedRevision": revision,
        "latestReadyRevision": revision,
    }


def _world(tmp_path: Path) -> World:
    """The fixture's exports (the subscription, both services' IAM policies) and its services as v2 JSON, plus a
    subscription that pushes elsewhere and a pull one."""
    folder = tmp_path / "world"
    folder.mkdir()
    for exported in ("order-events-public-api.json", "public-api.run-iam.json", "public-api-canary.run-iam.json"):
        shutil.copy(CASE / exported, folder / exported)
    for name in ("public-api", "public-api-canary"):
        (folder / f"{name}.json").write_text(json.dumps(_v2_service(name)))
    (folder / "subscriptions.json").write_text(json.dumps({"subscriptions": [ELSEWHERE, PULL]}))
    world = World.from_folder(folder)
    assert sorted(world.subscriptions) == sorted([TARGET_SUB, ELSEWHERE["name"], PULL["name"]])
    return world


def _compare(server: FakeGcpServer) -> dict[str, Any]:
    run = run_cli("compare", "public-api", "public-api-canary", *SCOPE, "--endpoint", server.address, "--format",
                  "json")  # fmt: skip
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


def _wording(finding: dict[str, Any]) -> tuple[str, str, str]:
    return finding["rule"], finding["severity"], finding["explanation"]


def test_a_live_compare_finds_the_push_identity_that_may_not_invoke_as_the_exports_do(tmp_path: Path) -> None:
    with FakeGcpServer(_world(tmp_path), page_size=1) as server:
        report = _compare(server)
        listed = server.called("ListSubscriptions")
    (online,) = findings_of(report, RULE)
    (offline,) = findings_of(compare_rule_fixture(CASE), RULE)
    for finding in (online, offline):
        assert (finding["rule"], finding["severity"]) == (RULE, "high")
        assert finding["explanation"].startswith(SAYS)
        assert "so Cloud Run refuses every push with 403" in finding["explanation"]
    assert "billing-events" not in json.dumps(online) and "audit-archive" not in json.dumps(online)
    # one paged listing of the one project: three subscriptions, one a page, the target's on the last page
    assert listed == [f"projects/{PROJECT}"] * 3
    assert not [note for note in report["notes"] if "pubsub" in note]


def test_the_snapshot_keeps_only_the_subscriptions_pushing_to_its_services_and_reads_them_back(
    tmp_path: Path,
) -> None:
    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_world(tmp_path), page_size=1) as server:
        run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", out)
        pages = len(server.called("ListSubscriptions"))
        (online,) = findings_of(_compare(server), RULE)
    assert run.code == 0, run.stderr
    assert pages == 3
    stored = json.loads(out.read_text())["pubsub_subscriptions"]
    assert list(stored) == [TARGET_SUB]  # not the one pushing elsewhere, not the pull one
    assert stored[TARGET_SUB]["pushConfig"]["oidcToken"]["serviceAccountEmail"] == IDENTITY
    again = run_cli("compare", "public-api", "public-api-canary", "--from", out, "--format", "json")
    assert again.code in (0, 1), again.stderr
    (finding,) = findings_of(again.json(), RULE)
    assert _wording(finding) == _wording(online) and finding["explanation"].startswith(SAYS)


def _could_not_verify(report: dict[str, Any]) -> dict[str, Any]:
    """The rule's one unverified entry: why (the listing's error, with the permission) and what to grant."""
    (entry,) = [u for u in report["unverified"] if u["rule"] == RULE]
    assert entry["reason"].startswith(
        f"target.refs.pushed_by: the Pub/Sub subscriptions of project {PROJECT} could not be listed (PERMISSION_DENIED"
    )
    assert entry["reason"].endswith("needs pubsub.subscriptions.list (roles/pubsub.viewer))")
    assert entry["hint"] == (
        f"grant roles/pubsub.viewer (pubsub.subscriptions.list) on project {PROJECT} to list the subscriptions that "
        "may push to public-api"
    )
    return dict(entry)


def test_a_denied_listing_is_unknown_with_the_role_to_grant_and_no_finding(tmp_path: Path) -> None:
    denied = {("ListSubscriptions", f"projects/{PROJECT}"): "PERMISSION_DENIED"}
    with FakeGcpServer(_world(tmp_path), faults=denied) as server:
        report = _compare(server)
        snapshot = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", tmp_path / "snap.json")
    assert findings_of(report, RULE) == []
    live = _could_not_verify(report)  # "could not verify", never "no subscription pushes to it"
    (note,) = [note for note in report["notes"] if "pubsub" in note]
    assert note.startswith(f"could not read pubsub_subscriptions:projects/{PROJECT} (PERMISSION_DENIED")
    assert note.endswith("needs pubsub.subscriptions.list (roles/pubsub.viewer))")
    assert report["incomplete"] is True
    # the snapshot stores the denial under the project, and reads it back as unknown, not as "no subscriptions"
    assert snapshot.code == 0, snapshot.stderr
    stored = json.loads((tmp_path / "snap.json").read_text())
    assert list(stored["pubsub_subscriptions"]) == [f"projects/{PROJECT}"]
    assert "roles/pubsub.viewer" in stored["pubsub_subscriptions"][f"projects/{PROJECT}"]["error"]
    assert "roles/pubsub.viewer" in stored["errors"][f"pubsub_subscriptions:projects/{PROJECT}"]
    again = run_cli("compare", "public-api", "public-api-canary", "--from", tmp_path / "snap.json", "--format", "json")
    assert findings_of(again.json(), RULE) == [] and again.json()["incomplete"] is True
    assert _could_not_verify(again.json()) == live  # read back from the snapshot: the same entry
