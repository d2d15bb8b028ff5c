"""Right on real data: real public Cloud Run configurations (../shared/corpus, PROVENANCE.tsv names their repos).

- Pairs that are one service (an export and its declared file, test and prod, two generations of one API response)
  raise no critical or high finding that the files do not justify.
- Pairs of unrelated applications say "not a real peer" at the top and raise no critical or high finding.
Run in-process through driftcheck's scripting entry point (driftcheck.jobs.compare.compare): dozens of pairs in seconds.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS

from driftcheck.jobs.compare import compare
from driftcheck.report.document import build
from driftcheck.ruleset.load import load_ruleset

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")

GOBLET = "v2/goblet__goblet__goblet__tests__data__http__"  # recorded Cloud Run Admin API v2 responses
# One service, several files: every ordered pair of a group is a same-service pair.
SAME_SERVICE = {
    "servfix-app": ["knative/Tom-Erik600__servfix-dev__current-config.yaml",
                    "knative/Tom-Erik600__servfix-dev__prod-config.yaml",
                    "knative/Tom-Erik600__servfix-dev__service-config.yaml",
                    "knative/Tom-Erik600__servfix-dev__test-config.yaml"],
    "truefi-backend": ["knative/devintruefi__91825truefi__cloud-run-config.yaml",
                       "knative_json/devintruefi__91825truefi__service-config.json"],
    "political-referrals-wa": ["knative/intrasoftdevops__political_referrals_wa__service-export.yaml",
                               "knative/intrasoftdevops__political_referrals_wa__deploy__cloud-run.yaml"],
    "goblet": [f"{GOBLET}build-tags__post-v2-projects-goblet-locations-us-central1-services_1.json",
               f"{GOBLET}deployer-cloudrun-artifact__"
               "get-v2-projects-goblet-locations-us-central1-operations-cdea49e3-fe97-45cd-99a2-144712d747f2_1.json",
               f"{GOBLET}no-default-registry__"
               "get-v2-projects-goblet-locations-us-east1-operations-549e2199-b445-4edd-9127-7a2eaddedc47_1.json"],
    "multi-container": [f"{GOBLET}deployer-cloudrun-deploy-multi-container__"
                        "get-v2-projects-goblet-locations-us-central1-operations-a76a18ca-2d75-4a33-9e5a-b15de43406d7_1.json",
                        f"{GOBLET}deployer-cloudrun-deploy-multi-container__"
                        "post-v2-projects-goblet-locations-us-central1-services_1.json"],
    "goblet-example-vpc": [f"{GOBLET}vpcconnector-deploy-cloudrun__"
                           "delete-v2-projects-goblet-locations-us-central1-services-goblet-example-vpc_1.json",
                           f"{GOBLET}vpcconnector-deploy-cloudrun__"
                           "get-v2-projects-goblet-locations-us-central1-operations-6b0fc7f5-7bac-474d-b33d-6f8d470b1659_1.json"],
}  # fmt: skip
SAME_PAIRS = [pair for files in SAME_SERVICE.values() for pair in itertools.permutations(files, 2)]
# Serious findings the files themselves justify, by (target file, rule).
JUSTIFIED = {
    # prod-config attaches the test database (servfix-test:europe-north1:servfix-test-db) beside its own.
    ("knative/Tom-Erik600__servfix-dev__prod-config.yaml", "cloudsql-cross-environment"),
    # cloud-run-config.yaml sets DB_PASSWORD, JWT_SECRET and OPENAI_API_KEY to '' where the export reads them from
    # Secret Manager.
    ("knative/devintruefi__91825truefi__cloud-run-config.yaml", "env-secret-replaced"),
}
# Applications with nothing in common, drawn once from the corpus (fixed seed: the same pairs every run).
_APPS = [
    "knative/appunite__appunite-ksef-ex__cloud-run__service.yaml",
    "knative/ianaswanson__lobbyist-registration__cloudrun.yaml",
    "knative/Evothesis__pixel-management__cloud-run.yaml",
    "knative/WXYC__triangle-shows__cloudrun-service.yaml",
    "knative/aasimsyed__pantry__cloud-run-service.yaml",
    "knative/benidevo__benidevo.com__cloud-run.yaml",
    "knative/erred__paste__deploy__cloudrun__service.yaml",
    "knative/hangops__inviterbot__cloudrun__service.yaml",
    "knative/jab-r__rust-nostr-relay__cloud-run-service.yaml",
    "knative/seandavi__BiocHubsAPI__cloudrun__service.yaml",
]
UNRELATED = random.Random(9).sample(list(itertools.combinations(_APPS, 2)), 5)
SERIOUS = {"critical", "high"}


@pytest.fixture(scope="module")
def ruleset() -> Any:
    return load_ruleset()


def _report(target: str, baseline: str, ruleset: Any) -> dict[str, Any]:
    result = compare(str(CORPUS / target), [str(CORPUS / baseline)], [], ruleset)
    return build(result)


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{Path(t).stem}<-{Path(b).stem}" for t, b in pairs]


@pytest.mark.parametrize(("target", "baseline"), SAME_PAIRS, ids=_ids(SAME_PAIRS))
def test_same_service_pair_raises_nothing_serious_the_files_do_not_justify(
    target: str, baseline: str, ruleset: Any
) -> None:
    report = _report(target, baseline, ruleset)
    serious = {f["rule"] for f in report["findings"] if f["severity"] in SERIOUS}
    assert serious <= {rule for file, rule in JUSTIFIED if file == target}, [
        (f["rule"], f["explanation"]) for f in report["findings"] if f["severity"] in SERIOUS
    ]
    assert not [n for n in report["notes"] if "share little" in n]  # one application: a real peer


def test_every_justified_serious_finding_is_found(ruleset: Any) -> None:
    """The allowance above is no blanket pass: each justified finding is really raised."""
    for target, rule in JUSTIFIED:
        baseline = next(b for t, b in SAME_PAIRS if t == target)
        rules = {f["rule"]: f for f in _report(target, baseline, ruleset)["findings"]}
        assert rule in rules and rules[rule]["severity"] in SERIOUS, (target, sorted(rules))


@pytest.mark.parametrize(("target", "baseline"), UNRELATED, ids=_ids(UNRELATED))
def test_unrelated_pair_is_said_to_be_no_real_peer(target: str, baseline: str, ruleset: Any) -> None:
    report = _report(target, baseline, ruleset)
    assert any("share little" in note for note in report["notes"]), report["notes"]
    assert report["peer_likeness"] and max(report["peer_likeness"].values()) < 0.35
    assert not [f["rule"] for f in report["findings"] if f["severity"] in SERIOUS]


# Runtime settings (timeout, scaling, concurrency, CPU allocation, protocol) legitimately differ between the files of
# one service (an export and its deploy file, test and prod): none of these rules may fire on them, at any severity.
RUNTIME_RULES = {
    "request-timeout-lower",
    "cpu-throttling-mismatch",
    "max-instances-lower",
    "min-instances-lower",
    "concurrency-mismatch",
    "http2-mismatch",
    "vpc-path-kind-mismatch",
}


@pytest.mark.parametrize(("target", "baseline"), SAME_PAIRS, ids=_ids(SAME_PAIRS))
def test_same_service_pair_raises_no_runtime_setting_finding(target: str, baseline: str, ruleset: Any) -> None:
    assert {rule.id for rule in ruleset.rules} >= RUNTIME_RULES  # all loaded: none is silent by absence
    report = _report(target, baseline, ruleset)
    assert not [(f["rule"], f["explanation"]) for f in report["findings"] if f["rule"] in RUNTIME_RULES]
