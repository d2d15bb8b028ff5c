"""The service account kind: evidence file, snapshot, Terraform, live fetch, and service-account-missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of, run_cli, write_snapshot, write_state
from fakegcp import FakeGcpServer, World

from driftcheck.kinds.service_account import ServiceAccount
from driftcheck.model import Inventory, Unknown
from driftcheck.sources.evidence import load_evidence

EXPORTS = FIXTURES / "service-account"
RULE_CASE = FIXTURES / "rules" / "service-account-missing"
PROJECT = "netra-staging"
CHECKOUT = "checkout@netra-staging.iam.gserviceaccount.com"  # disabled in its export
API = "api@netra-staging.iam.gserviceaccount.com"  # the incident's api runs as it
RUNNER = "invoices-runner@netra-staging.iam.gserviceaccount.com"  # the rule case's target runs as it
RULE = "service-account-missing"


def accounts(inventory: Inventory) -> dict[str, ServiceAccount]:
    return inventory.of("service_account")


def test_the_export_loads_keyed_by_email_and_an_absent_disabled_means_enabled() -> None:
    found = accounts(load_evidence([EXPORTS]))
    checkout, api = found[CHECKOUT], found[API]
    assert checkout.disabled is True and checkout.exists is True and checkout.project == PROJECT
    assert checkout.unique_id == "104857203948572039485" and checkout.display_name == "checkout runtime"
    assert api.disabled is False  # the API omits a false `disabled`
    assert checkout.provenance["disabled"] == f"{EXPORTS / 'checkout.json'}:disabled"


def _snapshot(tmp_path: Path, stored: dict[str, Any]) -> Path:
    return write_snapshot(tmp_path, PROJECT, service_accounts=stored)


def test_a_snapshot_round_trips_a_stored_not_found_is_absent_and_a_denial_unknown(tmp_path: Path) -> None:
    denied = "PERMISSION_DENIED: Permission 'iam.serviceAccounts.get' denied; needs iam.serviceAccounts.get"
    gone = f"NOT_FOUND: Unknown service account {RUNNER}"
    stored = {
        CHECKOUT: json.loads((EXPORTS / "checkout.json").read_text()),
        API: {"error": denied},
        RUNNER: {"error": gone},
    }
    inventory = load_evidence([_snapshot(tmp_path, stored)])
    found = accounts(inventory)
    from_file = accounts(load_evidence([EXPORTS]))[CHECKOUT]
    assert found[CHECKOUT].disabled is True and found[CHECKOUT].unique_id == from_file.unique_id
    assert API not in found and inventory.errors == {f"service_accounts:{API}": denied}  # unknown, with why
    absent = found[RUNNER]  # a fact: not an error, and the report is not incomplete for it
    assert absent.exists is False and absent.project == PROJECT
    assert isinstance(absent.disabled, Unknown) and isinstance(absent.unique_id, Unknown)


def _state(tmp_path: Path, attributes: dict[str, Any]) -> Path:
    return write_state(tmp_path, ("google_service_account", attributes))


def test_terraform_declares_an_account_with_its_disabled_flag(tmp_path: Path) -> None:
    attrs = {
        "account_id": "invoices-runner",
        "project": PROJECT,
        "email": RUNNER,
        "disabled": True,
        "unique_id": "108273645102938475610",
        "display_name": "runner",
    }
    account = accounts(load_evidence([_state(tmp_path, attrs)]))[RUNNER]
    assert account.disabled is True and account.exists is True and account.unique_id == "108273645102938475610"
    assert account.provenance["disabled"].endswith("google_service_account.r0.disabled")


def test_terraform_without_an_email_names_the_account_by_id_and_project(tmp_path: Path) -> None:
    state = _state(tmp_path, {"account_id": "invoices-runner", "project": PROJECT, "email": ""})
    assert accounts(load_evidence([state]))[RUNNER].disabled is False  # `disabled` defaults to false


# --- live: the real iam_admin client over gRPC against the fake server ---------------------------------------------


def _take_snapshot(world: World, out: Path, **faults: str) -> dict[str, Any]:
    fault_map = {(method, "*"): code for method, code in faults.items()}
    with FakeGcpServer(world, faults=fault_map) as server:
        run = run_cli(
            "snapshot", "--project", PROJECT, "--region", "us-central1", "--endpoint", server.address, "-o", out
        )
        assert server.called("GetServiceAccount"), "the account was never read"
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text()))


def test_the_live_fetch_stores_a_missing_account_as_not_found_read_back_as_absent(tmp_path: Path) -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    del world.service_accounts[API]  # deleted: the API answers NOT_FOUND
    data = _take_snapshot(world, tmp_path / "snap.json")
    stored = data["service_accounts"][API]
    assert stored["error"].startswith("NOT_FOUND") and "Unknown service account" in stored["error"]
    inventory = load_evidence([tmp_path / "snap.json"])
    assert accounts(inventory)[API].exists is False
    assert not [key for key in inventory.errors if key.startswith("service_accounts:")]


def test_the_live_fetch_reads_a_disabled_account(tmp_path: Path) -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    api = {**json.loads((EXPORTS / "api.json").read_text()), "disabled": True}
    world.add_service_account(_account(api))
    data = _take_snapshot(world, tmp_path / "snap.json")
    assert data["service_accounts"][API]["disabled"] is True
    account = accounts(load_evidence([tmp_path / "snap.json"]))[API]
    assert account.disabled is True and account.unique_id == "113958204958203948576"


def test_a_denied_live_read_is_recorded_with_the_role_to_grant(tmp_path: Path) -> None:
    denied = {"google.iam.admin.v1.IAM/GetServiceAccount": "PERMISSION_DENIED"}
    data = _take_snapshot(World.from_folder(FIXTURES / "incident-live"), tmp_path / "snap.json", **denied)
    error = data["service_accounts"][API]["error"]
    assert error.startswith("PERMISSION_DENIED") and "iam.serviceAccounts.get (roles/iam.serviceAccountViewer)" in error


def _account(data: dict[str, Any]) -> Any:
    from google.cloud import iam_admin_v1

    return iam_admin_v1.ServiceAccount.from_json(json.dumps(data), ignore_unknown_fields=True)


# --- the rule: service-account-missing ----------------------------------------------------------------------------


def _case(tmp_path: Path, account: dict[str, Any] | None, *, snapshot_error: str | None = None) -> Path:
    folder = shutil.copytree(RULE_CASE, tmp_path / "case")
    (folder / "invoices-runner.json").unlink()
    if account is not None:
        (folder / "invoices-runner.json").write_text(json.dumps(account))
    if snapshot_error is not None:
        (folder / "snapshot.json").write_text(
            json.dumps(
                {
                    "driftcheck_snapshot": 1,
                    "scope": {"project": PROJECT},
                    "services": [],
                    "service_accounts": {RUNNER: {"error": snapshot_error}},
                }
            )
        )
    return folder


def _report(folder: Path) -> dict[str, Any]:
    return compare_rule_fixture(folder)


def _fired(report: dict[str, Any]) -> list[dict[str, Any]]:
    return findings_of(report, RULE)


def _runner(**changes: Any) -> dict[str, Any]:
    return {**json.loads((RULE_CASE / "invoices-runner.json").read_text()), **changes}


def test_the_rule_fires_on_a_disabled_account_with_the_enable_command(tmp_path: Path) -> None:
    (finding,) = _fired(_report(_case(tmp_path, _runner())))
    assert finding["severity"] == "critical" and "which is disabled" in finding["explanation"]
    assert finding["remediation"]["gcloud"] == f"gcloud iam service-accounts enable {RUNNER}"


def test_the_rule_fires_on_a_deleted_account_and_offers_no_enable(tmp_path: Path) -> None:
    folder = _case(tmp_path, None, snapshot_error=f"NOT_FOUND: Unknown service account {RUNNER}")
    report = _report(folder)
    (finding,) = _fired(report)
    assert "does not exist (deleted, or never created)" in finding["explanation"]
    assert "its unique id, which is not in the evidence" in finding["explanation"]
    assert "enable" not in finding["remediation"].get("gcloud", "")
    assert report["incomplete"] is False  # a NOT_FOUND answer is a fact


def test_the_rule_is_silent_on_an_enabled_account(tmp_path: Path) -> None:
    enabled = {k: v for k, v in _runner().items() if k != "disabled"}
    assert _fired(_report(_case(tmp_path, enabled))) == []


def test_an_account_that_could_not_be_read_is_unverified_not_a_finding(tmp_path: Path) -> None:
    denied = "PERMISSION_DENIED: Permission 'iam.serviceAccounts.get' denied; needs iam.serviceAccounts.get"
    report = _report(_case(tmp_path, None, snapshot_error=denied))
    assert _fired(report) == []
    (unverified,) = [u for u in report["unverified"] if u["rule"] == RULE]
    assert "PERMISSION_DENIED" in unverified["reason"]
    assert f"gcloud iam service-accounts describe {RUNNER}" in unverified["hint"]
    assert report["incomplete"] is True


def test_an_account_the_evidence_holds_no_word_of_is_neither(tmp_path: Path) -> None:
    report = _report(_case(tmp_path, None))
    assert _fired(report) == [] and not [u for u in report["unverified"] if u["rule"] == RULE]
