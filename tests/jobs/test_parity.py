"""Peer-group and environment parity on real-format gcloud exports (fixtures/audit/)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from driftcheck.jobs.config import EnvironmentPair, PeerGroup, load_config
from driftcheck.jobs.parity import environment_parity, peer_group_parity
from driftcheck.model import Service, Unknown
from driftcheck.ruleset.load import RuleSet, load_ruleset
from driftcheck.sources.evidence import load_evidence

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
AUDIT = FIXTURES / "audit"
AUTH = FIXTURES / "incident" / "auth.yaml"
CONNECTOR = "projects/123456789012/locations/us-central1/connectors/staging-connector"


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset()


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    return load_evidence([AUTH, AUDIT / "services"]).services


def group(*members: str, fields: tuple[str, ...] = ("vpc.connector",)) -> PeerGroup:
    return PeerGroup(name="staging-backends", members=members, fields=fields)


def test_the_service_without_a_connector_is_the_outlier(services: dict[str, Service], ruleset: RuleSet) -> None:
    parity = peer_group_parity(group("auth", "billing", "worker"), services.values(), ruleset)
    (finding,) = parity.findings
    assert finding.rule == "peer-group-outlier"
    assert finding.explanation == (
        f"worker has vpc.connector = none; the rest of peer group staging-backends has {CONNECTOR} (2/3 agree)"
    )
    (evidence,) = finding.evidence
    assert (evidence.path, evidence.target, evidence.baseline) == ("vpc.connector", None, CONNECTOR)
    assert evidence.target_source and "worker.yaml:spec.template.metadata.annotations" in evidence.target_source
    assert evidence.baseline_source and "vpc-access-connector" in evidence.baseline_source
    assert "worker" in finding.remediation["gcloud"]
    assert not parity.unverified


def test_members_are_globs_and_agreeing_fields_say_nothing(services: dict[str, Service], ruleset: RuleSet) -> None:
    parity = peer_group_parity(group("a*", "bill*", fields=("vpc.*", "cloudsql_instances")), services.values(), ruleset)
    assert parity.findings == []
    # the glob expands to each field under vpc: with worker in, connector, egress and path each have an outlier
    with_worker = peer_group_parity(group("a*", "bill*", "work*", fields=("vpc.*",)), services.values(), ruleset)
    assert [f.evidence[0].path for f in with_worker.findings] == ["vpc.connector", "vpc.egress", "vpc.path"]
    three = peer_group_parity(group("*", fields=("cloudsql_instances",)), services.values(), ruleset)
    assert three.findings == []  # four services, one Cloud SQL attachment


def test_a_split_group_lists_the_values_and_names_no_outlier(services: dict[str, Service], ruleset: RuleSet) -> None:
    parity = peer_group_parity(group("auth", "worker", "ledger"), services.values(), ruleset)
    (finding,) = parity.findings
    assert finding.explanation.startswith("Peer group staging-backends is split on vpc.connector with no majority: ")
    assert "staging-connector (1)" in finding.explanation
    assert "staging-connector-2 (1)" in finding.explanation
    assert "none (1)" in finding.explanation
    assert finding.evidence == ()


def test_an_unknown_value_is_unverified_never_a_difference(services: dict[str, Service], ruleset: RuleSet) -> None:
    # A connector known only after apply (a Terraform plan) reads as Unknown in the model.
    planned = dataclasses.replace(
        services["billing"], vpc=dataclasses.replace(services["billing"].vpc, connector=Unknown("known after apply"))
    )
    parity = peer_group_parity(
        group("auth", "billing", "worker"), [services["auth"], planned, services["worker"]], ruleset
    )
    (unverified,) = parity.unverified
    assert unverified.rule == "peer-group-outlier"
    assert "billing: could not verify vpc.connector" in unverified.reason
    (finding,) = parity.findings  # auth (connector) against worker (none): one each, no majority
    assert "split" in finding.explanation
    assert "known after apply" not in finding.explanation


def test_environment_pair_reports_the_real_difference_only(ruleset: RuleSet) -> None:
    staging = load_evidence([AUDIT / "staging"]).services["api"]
    prod = load_evidence([AUDIT / "prod"]).services["api"]
    pair = load_config(AUDIT / "driftcheck.toml").environment_pairs[0]
    findings = environment_parity(pair, staging, prod, ["containers.*.env.APP_ENV.*"], ruleset)
    assert [f.evidence[0].path for f in findings] == ["vpc.egress"]
    (finding,) = findings
    assert finding.rule == "environment-mismatch"
    assert finding.explanation == (
        "api: vpc.egress is private_ranges_only in netra-staging/us-central1/api "
        "and all_traffic in netra-prod/us-central1/api"
    )
    assert "--project netra-prod" in finding.remediation["gcloud"]


def test_without_the_expected_glob_the_environment_name_differs_too(ruleset: RuleSet) -> None:
    staging = load_evidence([AUDIT / "staging"]).services["api"]
    prod = load_evidence([AUDIT / "prod"]).services["api"]
    pair = load_config(AUDIT / "driftcheck.toml").environment_pairs[0]
    paths = [f.evidence[0].path for f in environment_parity(pair, staging, prod, (), ruleset)]
    assert paths == ["containers.ingress.env.APP_ENV.value", "vpc.egress"]
    bare = EnvironmentPair("api", pair.left, pair.right)
    assert "vpc.connector" in [f.evidence[0].path for f in environment_parity(bare, staging, prod, (), ruleset)]


def test_parity_rules_are_skipped_by_compare(ruleset: RuleSet) -> None:
    scopes = {r.id: r.scope for r in ruleset.rules}
    assert scopes["peer-group-outlier"] == scopes["environment-mismatch"] == "audit"


def test_one_name_in_two_projects_is_two_members(services: dict[str, Service], ruleset: RuleSet) -> None:
    """A group across projects (`api` in staging and in prod): a name identifies a service only within one."""
    auth, worker = services["auth"], services["worker"]
    other_auth = dataclasses.replace(auth, project="netra-dev")
    other_worker = dataclasses.replace(worker, project="netra-prod", name="auth")  # prod's auth lacks the connector
    parity = peer_group_parity(group("auth"), [auth, other_auth, other_worker], ruleset)
    (finding,) = parity.findings
    assert finding.subject == "netra-prod/us-central1/auth"
    assert "(2/3 agree)" in finding.explanation
