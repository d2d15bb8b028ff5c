"""private-host-without-vpc-path: a private address in env with no VPC path, judged with no peer needed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, FIXTURES, run_cli

RULE = "private-host-without-vpc-path"
FOLDER = FIXTURES / "rules" / RULE


def check(folder: Path, service: str = "sessions") -> dict[str, Any]:
    run = run_cli("check", service, "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    report: dict[str, Any] = run.json()
    return report


def fired(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == RULE]


def edited(tmp_path: Path, change: Any) -> Path:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    target = yaml.safe_load((folder / "target.yaml").read_text())
    change(target)
    (folder / "target.yaml").write_text(yaml.safe_dump(target))
    return folder


def env_of(target: dict[str, Any]) -> list[dict[str, str]]:
    env: list[dict[str, str]] = target["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


def test_fires_alone_names_the_variable_and_explains_the_start_failure() -> None:
    (finding,) = fired(check(FOLDER))
    assert "sessions points REDIS_HOST at 10.40.0.6, a private address" in finding["explanation"]
    assert "no connector, no Direct VPC egress" in finding["explanation"]
    assert finding["severity"] == "critical"  # it explains the stated start failure, at that rule's severity
    assert set(finding["corroborated_by"]) == {"container-start-failed", "revision-failed"}
    assert finding["remediation"] == {}  # no peer with a VPC path: which network is right is not known here


def test_a_range_is_not_an_address() -> None:
    report = check(FOLDER)
    assert "10.0.0.0" not in " ".join(f["explanation"] for f in report["findings"])  # TRUSTED_PROXIES=10.0.0.0/8


def test_silent_with_a_vpc_path(tmp_path: Path) -> None:
    def connect(target: dict[str, Any]) -> None:
        annotations = target["spec"]["template"]["metadata"]["annotations"]
        annotations["run.googleapis.com/vpc-access-connector"] = "staging-connector"
        annotations["run.googleapis.com/vpc-access-egress"] = "private-ranges-only"

    assert not fired(check(edited(tmp_path, connect)))


def test_silent_with_only_public_hosts(tmp_path: Path) -> None:
    def public(target: dict[str, Any]) -> None:
        for var in env_of(target):
            if var["name"] == "REDIS_HOST":
                var["value"] = "redis.example.com"

    assert not fired(check(edited(tmp_path, public)))


def test_a_peer_with_a_connector_gives_one_finding_and_its_fix(tmp_path: Path) -> None:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    shutil.copy(FIXTURES / "rules" / "vpc-access-missing" / "staging-connector.json", folder)
    peer = yaml.safe_load((folder / "baseline.yaml").read_text())
    annotations = peer["spec"]["template"]["metadata"]["annotations"]
    annotations["run.googleapis.com/vpc-access-connector"] = "staging-connector"
    annotations["run.googleapis.com/vpc-access-egress"] = "private-ranges-only"
    (folder / "baseline.yaml").write_text(yaml.safe_dump(peer))
    run = run_cli("compare", "sessions", "scheduler", "--from", folder, "--format", "json")
    report = run.json()
    top = report["findings"][0]
    assert top["rule"] == "vpc-access-missing" and RULE in top["corroborated_by"]  # one cause, one finding
    assert not fired(report)
    assert "--vpc-connector" in top["remediation"]["gcloud"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")
def test_silent_on_every_service_of_the_shared_corpus() -> None:
    from driftcheck.errors import DriftcheckError
    from driftcheck.jobs.compare import compare
    from driftcheck.ruleset.load import load_ruleset

    ruleset = load_ruleset()
    files = sorted((CORPUS / "knative").glob("*.y*ml"))
    assert files
    loud, checked = [], 0
    for path in files:
        try:
            result = compare(str(path), [], [], ruleset, alone=True)
        except DriftcheckError:  # a file that is not one valid service (a list, a Job): not this rule's case
            continue
        checked += 1
        loud += [(path.name, f.explanation) for f in result.findings if f.rule == RULE]
    assert checked > len(files) // 2
    assert not loud
