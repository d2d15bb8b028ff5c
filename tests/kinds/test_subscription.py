"""The Pub/Sub subscription kind: evidence, snapshot, Terraform, refs.pushed_by, and push-invoker-missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of, write_snapshot, write_state

from driftcheck.kinds.subscription import PubsubSubscription
from driftcheck.model import Inventory, Unknown
from driftcheck.sources.evidence import load_evidence

RULE_CASE = FIXTURES / "rules" / "push-invoker-missing"
EXPORT = "order-events-public-api.json"
PROJECT = "netra-staging"
RULE = "push-invoker-missing"
SUB = f"projects/{PROJECT}/subscriptions/order-events-public-api"
IDENTITY = f"events-push@{PROJECT}.iam.gserviceaccount.com"
HOST = "public-api-x7kq2p4vda-uc.a.run.app"
INVOKER = "roles/run.invoker"


def subscriptions(inventory: Inventory) -> dict[str, PubsubSubscription]:
    return inventory.of("pubsub_subscription")


def test_the_export_loads_with_its_push_host_and_identity() -> None:
    inventory = load_evidence([RULE_CASE])
    sub = subscriptions(inventory)[SUB]
    topic = f"projects/{PROJECT}/topics/order-events"
    assert (sub.topic, sub.push_endpoint, sub.push_identity) == (topic, HOST, IDENTITY)
    assert sub.provenance["push_identity"].endswith(f"{EXPORT}:pushConfig.oidcToken.serviceAccountEmail")
    assert sorted(inventory.of("run_service_iam_policy")) == ["public-api", "public-api-canary"]


def test_a_pull_subscription_has_no_endpoint_nor_identity(tmp_path: Path) -> None:
    (tmp_path / "pull.json").write_text(json.dumps({"name": f"projects/{PROJECT}/subscriptions/pull", "topic": "t"}))
    sub = subscriptions(load_evidence([tmp_path]))[f"projects/{PROJECT}/subscriptions/pull"]
    assert sub.push_endpoint is None and sub.push_identity is None


def test_a_snapshot_round_trips_and_a_stored_error_stays_unknown(tmp_path: Path) -> None:
    stored = json.loads((RULE_CASE / EXPORT).read_text())
    denied = "PERMISSION_DENIED: Permission 'pubsub.subscriptions.get' denied"
    other = f"projects/{PROJECT}/subscriptions/other"
    snap = write_snapshot(tmp_path, PROJECT, pubsub_subscriptions={SUB: stored, other: {"error": denied}})
    inventory = load_evidence([snap])
    assert subscriptions(inventory)[SUB].push_identity == IDENTITY and other not in subscriptions(inventory)
    assert inventory.errors == {f"pubsub_subscriptions:{other}": denied}


def _tf_subscription(endpoint: str, email: str | None) -> dict[str, Any]:
    oidc = [{"service_account_email": email, "audience": ""}] if email else []
    push = [{"push_endpoint": endpoint, "oidc_token": oidc, "attributes": {}}]
    return {"name": "orders-push", "project": PROJECT, "topic": "projects/p/topics/t", "push_config": push}


def test_terraform_subscriptions_load_their_push_config(tmp_path: Path) -> None:
    state = write_state(tmp_path, ("google_pubsub_subscription", _tf_subscription(f"https://{HOST}/x", IDENTITY)))
    sub = subscriptions(load_evidence([state]))[f"projects/{PROJECT}/subscriptions/orders-push"]
    assert (sub.push_endpoint, sub.push_identity) == (HOST, IDENTITY)
    assert sub.provenance["push_identity"].endswith(".push_config[0].oidc_token[0].service_account_email")


def test_a_terraform_subscription_without_a_token_has_no_identity(tmp_path: Path) -> None:
    state = write_state(tmp_path, ("google_pubsub_subscription", _tf_subscription(f"https://{HOST}/x", None)))
    (sub,) = subscriptions(load_evidence([state])).values()
    assert sub.push_endpoint == HOST and sub.push_identity is None and not isinstance(sub.push_endpoint, Unknown)


# --- the rule: push-invoker-missing -----------------------------------------------------------------------


def _case(tmp_path: Path, target_policy: dict[str, Any] | None = None, *, drop_target: bool = False) -> Path:
    folder = Path(shutil.copytree(RULE_CASE, tmp_path / "case"))
    if drop_target:
        (folder / "public-api.run-iam.json").unlink()
    if target_policy is not None:
        (folder / "public-api.run-iam.json").write_text(json.dumps(target_policy))
    return folder


def _report(folder: Path) -> dict[str, Any]:
    return compare_rule_fixture(folder)


def _fired(report: dict[str, Any]) -> list[dict[str, Any]]:
    return findings_of(report, RULE)


def _policy(*members: str) -> dict[str, Any]:
    return {"bindings": [{"role": INVOKER, "members": list(members)}], "etag": "BwYjQ9xT2rE=", "version": 1}


def test_the_rule_fires_with_the_add_binding_command_for_the_identity(tmp_path: Path) -> None:
    (finding,) = _fired(_report(_case(tmp_path)))
    assert finding["severity"] == "high" and SUB in finding["explanation"]
    assert finding["remediation"]["gcloud"].startswith(
        "gcloud run services add-iam-policy-binding public-api --region us-central1 "
        f"--member serviceAccount:{IDENTITY} --role roles/run.invoker"
    )


def test_the_rule_is_silent_when_the_identity_holds_run_invoker(tmp_path: Path) -> None:
    assert _fired(_report(_case(tmp_path, _policy(f"serviceAccount:{IDENTITY}")))) == []


def test_the_rule_is_silent_on_a_public_target(tmp_path: Path) -> None:
    assert _fired(_report(_case(tmp_path, _policy("allUsers")))) == []


def test_a_subscription_without_a_token_fires_on_a_private_target_with_no_grant_to_add(tmp_path: Path) -> None:
    folder = _case(tmp_path)
    data = json.loads((folder / EXPORT).read_text())
    del data["pushConfig"]["oidcToken"]
    (folder / EXPORT).write_text(json.dumps(data))
    (finding,) = _fired(_report(folder))
    assert "sends no OIDC token" in finding["explanation"] and finding["fix"] == []


def test_a_target_policy_not_in_the_evidence_is_unverified(tmp_path: Path) -> None:
    report = _report(_case(tmp_path, drop_target=True))
    assert _fired(report) == []
    (unverified,) = [u for u in report["unverified"] if u["rule"] == RULE]
    assert "gcloud run services get-iam-policy public-api --region us-central1" in unverified["hint"]
    assert report["incomplete"] is True


def test_the_rule_is_silent_when_no_subscription_pushes_to_the_target(tmp_path: Path) -> None:
    folder = _case(tmp_path)
    (folder / EXPORT).write_text((folder / EXPORT).read_text().replace(HOST, "elsewhere-x7kq2p4vda-uc.a.run.app"))
    assert _fired(_report(folder)) == []
