"""A secret's grant under a condition is kept apart from its plain grants, from every source (an evidence file, a
snapshot, Terraform state and .tf), and the resolver reads it as unknown: secret-access-denied says "could not
verify", never a finding, and never silence as if it were granted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of, write_snapshot, write_state

from driftcheck.kinds.access import SECRET_ACCESS, AccessCheck, may
from driftcheck.model import Inventory, Secret
from driftcheck.sources.evidence import load_evidence
from driftcheck.sources.terraform_hcl import load_tf_dir

CASE = FIXTURES / "rules" / "secret-access-denied"
RULE = "secret-access-denied"
PROJECT = "netra-staging"
SECRET_ID = "stripe-api-key"
CHECKOUT = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"  # the target's runtime account
PAYMENTS = "serviceAccount:payments@netra-staging.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
CONDITION = {"title": "business-hours", "expression": "request.time.getHours('Europe/Berlin') < 18"}


def _policy(*bindings: dict[str, Any]) -> dict[str, Any]:
    return {"bindings": list(bindings), "etag": "BwYj44a9349=", "version": 3}


CONDITIONAL_POLICY = _policy(
    {"role": ACCESSOR, "members": [PAYMENTS]},
    {"role": ACCESSOR, "members": [CHECKOUT], "condition": CONDITION},
)


def _secret(inventory: Inventory) -> Secret:
    secret: Secret = inventory.secrets[SECRET_ID]
    return secret


def _check(inventory: Inventory) -> str:
    check = AccessCheck(
        CHECKOUT, SECRET_ACCESS, f"//secretmanager.googleapis.com/projects/{PROJECT}/secrets/{SECRET_ID}"
    )
    return may(check, inventory).access


# --- each source keeps the conditional grant apart -------------------------------------------------------------


def test_the_exported_policy_keeps_a_conditional_grant_apart(tmp_path: Path) -> None:
    (tmp_path / f"{SECRET_ID}.iam.json").write_text(json.dumps(CONDITIONAL_POLICY))
    inventory = load_evidence([tmp_path])
    secret = _secret(inventory)
    assert secret.bindings == {ACCESSOR: (PAYMENTS,)}
    assert secret.conditional == {ACCESSOR: (CHECKOUT,)}
    assert _check(inventory) == "unknown"


def test_a_snapshot_keeps_a_conditional_grant_apart(tmp_path: Path) -> None:
    stored = {SECRET_ID: {"versions": [], "iam": CONDITIONAL_POLICY}}
    inventory = load_evidence([write_snapshot(tmp_path, PROJECT, secrets=stored)])
    secret = _secret(inventory)
    assert secret.bindings == {ACCESSOR: (PAYMENTS,)} and secret.conditional == {ACCESSOR: (CHECKOUT,)}


def test_terraform_state_members_with_a_condition_block_are_kept_apart(tmp_path: Path) -> None:
    member = "google_secret_manager_secret_iam_member"
    state = write_state(
        tmp_path,
        (member, {"secret_id": SECRET_ID, "role": ACCESSOR, "member": PAYMENTS, "condition": []}),
        (member, {"secret_id": SECRET_ID, "role": ACCESSOR, "member": CHECKOUT, "condition": [CONDITION]}),
    )
    secret = _secret(load_evidence([state]))
    assert secret.bindings == {ACCESSOR: (PAYMENTS,)} and secret.conditional == {ACCESSOR: (CHECKOUT,)}


def test_terraform_state_policy_data_with_a_condition_is_kept_apart(tmp_path: Path) -> None:
    policy = {"secret_id": f"projects/{PROJECT}/secrets/{SECRET_ID}", "policy_data": json.dumps(CONDITIONAL_POLICY)}
    state = write_state(tmp_path, ("google_secret_manager_secret_iam_policy", policy))
    secret = _secret(load_evidence([state]))
    assert secret.bindings == {ACCESSOR: (PAYMENTS,)} and secret.conditional == {ACCESSOR: (CHECKOUT,)}


def test_a_tf_binding_with_a_condition_block_is_kept_apart(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "terraform-hcl" / "secrets", tmp_path, dirs_exist_ok=True)  # a service, and secrets
    (tmp_path / "conditional.tf").write_text(
        f"""
resource "google_secret_manager_secret_iam_binding" "checkout" {{
  project   = "{PROJECT}"
  secret_id = "{SECRET_ID}"
  role      = "{ACCESSOR}"
  members   = ["{CHECKOUT}"]
  condition {{
    title      = "business-hours"
    expression = "request.time.getHours('Europe/Berlin') < 18"
  }}
}}
"""
    )
    secret = _secret(load_tf_dir(tmp_path))
    billing = "serviceAccount:billing@netra-staging.iam.gserviceaccount.com"  # the fixture's own plain grant
    assert secret.bindings == {ACCESSOR: (billing,)} and secret.conditional == {ACCESSOR: (CHECKOUT,)}


# --- the rule: a conditional grant is "could not verify", a plain one silences it, none fires ---------------------


def _case(tmp_path: Path, policy: dict[str, Any]) -> Path:
    folder = Path(shutil.copytree(CASE, tmp_path / "case"))
    (folder / f"{SECRET_ID}.iam.json").write_text(json.dumps(policy))
    return folder


def test_a_grant_only_under_a_condition_is_unverified_not_a_finding(tmp_path: Path) -> None:
    report = compare_rule_fixture(_case(tmp_path, CONDITIONAL_POLICY))
    assert findings_of(report, RULE) == []
    (unverified,) = [u for u in report["unverified"] if u["rule"] == RULE]
    assert f"{ACCESSOR} on secret {SECRET_ID} is granted only under a condition" in unverified["reason"]
    assert report["incomplete"] is True


def test_the_same_grant_without_its_condition_silences_the_rule(tmp_path: Path) -> None:
    plain = _policy({"role": ACCESSOR, "members": [PAYMENTS, CHECKOUT]})
    report = compare_rule_fixture(_case(tmp_path, plain))
    assert findings_of(report, RULE) == []
    assert not [u for u in report["unverified"] if u["rule"] == RULE]


def test_no_grant_at_all_fires(tmp_path: Path) -> None:
    report = compare_rule_fixture(_case(tmp_path, _policy({"role": ACCESSOR, "members": [PAYMENTS]})))
    (finding,) = findings_of(report, RULE)
    assert SECRET_ID in finding["explanation"]
