"""vpc-path-kind-mismatch: Direct VPC egress on one side, a connector on the other, on different networks."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from conftest import FIXTURES, run_cli

RULE = "vpc-path-kind-mismatch"
FOLDER = FIXTURES / "rules" / RULE  # ledger-v2 on Direct VPC (legacy-vpc), ledger on staging-connector (staging-vpc)
INTERFACES = "run.googleapis.com/network-interfaces"


def fired(folder: Path, target: str = "ledger-v2", baseline: str = "ledger") -> list[dict[str, Any]]:
    run = run_cli("compare", target, baseline, "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return [f for f in run.json()["findings"] if f["rule"] == RULE]


def edited(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    target = yaml.safe_load((folder / "target.yaml").read_text())
    change(target)
    (folder / "target.yaml").write_text(yaml.safe_dump(target))
    return folder


def template_annotations(service: dict[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = service["spec"]["template"]["metadata"]["annotations"]
    return annotations


def test_the_direct_vpc_side_is_told_to_take_the_peers_connector_and_clear_its_network() -> None:
    (finding,) = fired(FOLDER)
    gcloud = finding["remediation"]["gcloud"]
    assert "--vpc-connector projects/netra-staging/locations/us-central1/connectors/staging-connector" in gcloud
    assert gcloud.endswith("--clear-network")  # one VPC path at a time


def test_the_connector_side_is_told_to_take_the_peers_network_and_clear_its_connector() -> None:
    (finding,) = fired(FOLDER, "ledger", "ledger-v2")
    assert finding["explanation"].startswith("ledger reaches the VPC through connector on network staging-vpc")
    gcloud = finding["remediation"]["gcloud"]
    assert "--network legacy-vpc --subnet legacy-run-subnet" in gcloud and "--clear-vpc-connector" in gcloud


def test_silent_on_the_same_network(tmp_path: Path) -> None:
    def same(target: dict[str, Any]) -> None:
        template_annotations(target)[INTERFACES] = '[{"network":"staging-vpc","subnetwork":"run-subnet"}]'

    assert not fired(edited(tmp_path, same))


def test_silent_without_a_private_dependency(tmp_path: Path) -> None:
    def public(target: dict[str, Any]) -> None:
        for var in target["spec"]["template"]["spec"]["containers"][0]["env"]:
            if var["name"] == "DB_HOST":
                var["value"] = "db.example.com"
        del template_annotations(target)["run.googleapis.com/cloudsql-instances"]

    assert not fired(edited(tmp_path, public))


def test_a_connector_not_in_the_evidence_is_not_verified_not_a_finding(tmp_path: Path) -> None:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    (folder / "staging-connector.json").unlink()
    run = run_cli("compare", "ledger-v2", "ledger", "--from", folder, "--format", "json")
    report = run.json()
    assert not [f for f in report["findings"] if f["rule"] == RULE]
    assert [u for u in report["unverified"] if u["rule"] == RULE]
