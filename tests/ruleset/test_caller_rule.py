"""caller-cannot-reach-internal: a service calling an internal-only service's run.app URL from outside the VPC.

Scope `across`: the target against each other service of the evidence, as caller and as callee, with no peer
likeness (another application is the point here, not a reason to weaken the finding).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, FIXTURES, run_cli

RULE = "caller-cannot-reach-internal"
FOLDER = FIXTURES / "rules" / RULE  # storefront calls orders-api (internal) with private-ranges-only egress


def findings(target: str, other: str, folder: Path = FOLDER) -> list[dict[str, Any]]:
    run = run_cli("compare", target, other, "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return [f for f in run.json()["findings"] if f["rule"] == RULE]


def edited(tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    service = yaml.safe_load((folder / name).read_text())
    change(service)
    (folder / name).write_text(yaml.safe_dump(service))
    return folder


def test_the_caller_is_told_and_given_its_egress_fix() -> None:
    (finding,) = findings("storefront", "orders-api")
    assert finding["explanation"].startswith("storefront calls orders-api at ORDERS_API_URL")
    assert "accepts only internal traffic" in finding["explanation"]
    assert "sends only private ranges through the VPC" in finding["explanation"]
    assert finding["severity"] == "high"  # not capped: another application is the point, not a weak peer
    assert finding["remediation"]["gcloud"].endswith("--vpc-egress all-traffic")


def test_the_callee_is_told_too_without_a_fix_of_its_own() -> None:
    (finding,) = findings("orders-api", "storefront")
    assert finding["explanation"].startswith("storefront calls orders-api at ORDERS_API_URL")
    assert finding["remediation"] == {}  # the change is the caller's to make


def test_silent_when_the_caller_sends_all_traffic_through_the_vpc(tmp_path: Path) -> None:
    def all_traffic(service: dict[str, Any]) -> None:
        annotations = service["spec"]["template"]["metadata"]["annotations"]
        annotations["run.googleapis.com/vpc-access-egress"] = "all-traffic"

    assert not findings("storefront", "orders-api", edited(tmp_path, "target.yaml", all_traffic))


def test_silent_when_the_callee_accepts_all_traffic(tmp_path: Path) -> None:
    def public(service: dict[str, Any]) -> None:
        service["metadata"]["annotations"]["run.googleapis.com/ingress"] = "all"

    assert not findings("storefront", "orders-api", edited(tmp_path, "baseline.yaml", public))


def test_silent_when_no_env_value_names_the_callee(tmp_path: Path) -> None:
    def elsewhere(service: dict[str, Any]) -> None:
        for var in service["spec"]["template"]["spec"]["containers"][0]["env"]:
            if var["name"] == "ORDERS_API_URL":
                var["value"] = "https://orders.example.com/v1"

    assert not findings("storefront", "orders-api", edited(tmp_path, "target.yaml", elsewhere))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")
def test_silent_on_every_same_service_pair_of_the_shared_corpus() -> None:
    from test_corpus_pairs import SAME_PAIRS

    from driftcheck.jobs.compare import compare
    from driftcheck.ruleset.load import load_ruleset

    ruleset = load_ruleset()
    assert SAME_PAIRS
    loud = [
        (target, f.explanation)
        for target, baseline in SAME_PAIRS
        for f in compare(str(CORPUS / target), [str(CORPUS / baseline)], [], ruleset).findings
        if f.rule == RULE
    ]
    assert not loud
