"""The built-in rule library, proven rule by rule on real-format evidence through the command line.

fixtures/rules/<rule-id>/ holds a failing `target.yaml`, a healthy `baseline.yaml` and whatever Cloud SQL,
connector and secret exports the rule reads; fixtures/rules/healthy-pair/ holds two healthy services that differ
only where services always differ (name, image, SERVICE_NAME, revision) and in their service accounts.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli

RULE_FIXTURES = FIXTURES / "rules"
HEALTHY = RULE_FIXTURES / "healthy-pair"

# What each rule must say on its fixture: the facts a reader acts on, not only that it fired.
EXPECTED: dict[str, tuple[str, ...]] = {
    "vpc-access-missing": ("orders has no VPC access", "staging-connector", "orders-pg has only a private IP"),
    "vpc-connector-mismatch": ("search uses connector", "legacy-connector", "staging-connector"),
    "vpc-connector-unhealthy": ("billing-connector", "in state ERROR"),
    "vpc-egress-mismatch": ("notifications sends all traffic", "webhooks sends only private ranges"),
    "sql-private-ip-unreachable": ("ledger-pg", "its env points at 10.30.0.5", "no VPC access"),
    "cloudsql-connection-missing": ("netra-staging:us-central1:reports-mysql", "does not attach it"),
    "cloudsql-instance-mismatch": ("billing-pg-old", "netra-staging:us-central1:billing-pg is not attached to billing"),
    "cloudsql-instance-unavailable": ("analytics-pg", "activation policy NEVER"),
    "cloudsql-connection-budget": (
        "may open up to 520 connections at peak, and it accepts at most 300 (its max_connections flag)",
        "orders 500 (50 instances x 10 connections: DB_POOL_SIZE=10)",
        "reports 20 (2 instances x 10 connections: DB_POOL_SIZE=10)",  # another service on the same instance
        "MySQL error 1040, Too many connections",
    ),
    "db-engine-mismatch": ("DATABASE_URL speaks mysql", "DB_PORT speaks mysql", "POSTGRES_15"),
    "secret-access-denied": (
        "checkout@netra-staging.iam.gserviceaccount.com",
        "stripe-api-key",
        "Only the secret-level IAM policy was seen",
        "project, folder or organization level",
    ),
    "secret-version-unusable": ("smtp-password", "version latest (the newest version, 3)", "DISABLED"),
    "service-account-mismatch": ("123456789012-compute@developer.gserviceaccount.com", "Compute Engine default"),
    "unknown-annotation": ("run.googleapis.com/vpc-egress", "probably meant: run.googleapis.com/vpc-access-egress"),
    "ingress-mismatch": ("public-api accepts only internal requests", "ingress internal", "ingress all"),
    "container-port-mismatch": ("port 8081", "port 8080"),
    "resource-limits-lower": ("256 MiB", "1024 MiB"),
    "env-var-missing": ("scheduler sets REDIS_URL", "worker does not set it"),
    "startup-probe-mismatch": ("http /healthz", "about 15 s", "the default"),
    "vpc-path-kind-mismatch": (
        "ledger-v2 reaches the VPC through Direct VPC egress on network legacy-vpc",
        "ledger through connector on network staging-vpc",
        "ledger-v2 reaches Cloud SQL orders-pg (10.20.0.9) by a private address",
    ),
    "execution-environment-mismatch": ("transcoder runs in the first generation", "thumbnailer in the second"),
    "request-timeout-lower": ("exports-v2 ends a request after 60 s", "exports after 900 s (15 min)", "504"),
    "cpu-throttling-mismatch": ("notifier-green", "only while it handles a request", "notifier-blue's always"),
    "max-instances-lower": ("checkout-green runs at most 4 instances", "checkout-blue runs up to 40", "429"),
    "min-instances-lower": ("search-v2 keeps no instance warm", "search keeps 3 instances warm"),
    "concurrency-mismatch": ("ocr-v3 sends up to 80 concurrent requests", "ocr-v2 at most 4"),
    "http2-mismatch": ("quotes's container quotes-1 gets requests as HTTP/1", "quotes-batch's as end-to-end HTTP/2"),
    "env-secret-replaced": (
        "DB_PASSWORD (secret payments-db-password)",
        "STRIPE_API_KEY (secret stripe-api-key)",
        "payments sets them to empty or literal values",
    ),
    "env-secret-replaced-setting": (
        "FEATURE_FLAGS (secret pricing-feature-flags)",
        "PRICING_RULES (secret pricing-rules)",  # a reference value, sm://pricing-rules/7
        "pricing sets them to empty or literal values",
    ),
    "gen2-required": (
        "catalog-sync runs in the first-generation execution environment",
        "Cloud Storage volume catalog (netra-staging-catalog)",
        "network file systems need the second generation",
    ),
    "cloudsql-instance-name-malformed": (
        '"receipts-pg" (only the instance name; meant: netra-staging:us-central1:receipts-pg)',
        "PROJECT:REGION:INSTANCE",
    ),
    "port-env-mismatch": ("container port 8080", "its env sets SERVER_PORT=8081", "the startup probe fails"),
    "service-account-missing": ("invoices-runner@netra-staging.iam.gserviceaccount.com, which is disabled",),
    "invoker-mismatch": ("public-api-canary lets allUsers invoke it", "public-api does not", "403"),
    "push-invoker-missing": (
        "order-events-public-api (as events-push@netra-staging.iam.gserviceaccount.com) pushes to public-api",
        "403",
    ),
    "cloudsql-client-role-missing": (
        "catalog connects to Cloud SQL netra-staging:us-central1:shop-postgres (attached)",
        "no role granting cloudsql.instances.connect in the IAM policy of project netra-staging",
        "The folder and organization policies were not read",
    ),
    "service-agent-role-missing": (
        "service-123456789012@serverless-robot-prod.iam.gserviceaccount.com, holds no roles/run.serviceAgent",
        "in the IAM policy of project netra-staging",
    ),
}
EXPECTED.update(
    {
        "sql-network-mismatch": (
            "search reaches Cloud SQL search-pg at 10.20.0.9 through its connector on network legacy-vpc",
            "private IP is on network staging-vpc, which legacy-vpc neither is nor peers with",
            "legacy-vpc (≠ staging-vpc) ✗",
        ),
        "egress-no-nat": (
            "notifications sends all traffic through the VPC (staging-vpc, us-central1)",
            "no NAT on router staging-router (staging-vpc, us-central1) translates subnet staging-us-central1",
            "it calls api.stripe.com (STRIPE_API_BASE)",
            "no Cloud NAT ✗ → api.stripe.com",
        ),
        "private-google-access-off": (
            "calls Google APIs (EXPORT_BUCKET_URL)",
            "Private Google Access is off on subnet staging-us-central1",
            "no Private Google Access ✗",
        ),
        "redis-unreachable": (
            "sessions reaches Memorystore staging-cache at 10.0.0.3:6379 (REDIS_URL), authorized on network legacy-vpc",
            "lands on staging-vpc, while Memorystore staging-cache is reached only from legacy-vpc",
            "staging-vpc (≠ legacy-vpc) ✗",
        ),
        "firewall-blocks-dependency": (
            "payouts reaches Cloud SQL payments-pg at 10.20.0.9:5432 from 10.10.0.0/24 (Direct VPC egress",
            "egress rule staging-deny-all-egress (priority 65000) denies it",
            "this VPC's ingress rules do not apply",
            "firewall egress tcp:5432 ✗",
        ),
        "direct-vpc-subnet-exhausted": (
            "subnet staging-run-small (10.10.8.0/26, 60 usable addresses)",
            "may need 90 (exports 40 x 2, imports 5 x 2)",
        ),
    }
)
# Confirmations: a status message or a cross-resource fact that backs the finding and ranks it higher.
CONFIRMED: dict[str, str] = {
    "vpc-access-missing": "failed to start and listen on the port",
    "vpc-connector-mismatch": "on network legacy-vpc, the peer's on staging-vpc",
    "secret-access-denied": "Permission denied on secret",
    "secret-version-unusable": "is in DISABLED",
    "container-port-mismatch": "failed to start and listen on the port",
    "resource-limits-lower": "Memory limit of 256 MiB exceeded",
    "cloudsql-instance-mismatch": "which only invoices attaches",
    "cloudsql-instance-unavailable": "dashboards use it too",
    "service-account-mismatch": "Compute Engine default service account",
    "startup-probe-mismatch": "startup probe",
}
REQUIRED_RULES = tuple(EXPECTED)
# Two healthy services may run as different service accounts (one per service is good practice): said, only as low.
ALLOWED_ON_HEALTHY = {"service-account-mismatch": "low"}
# A placeholder whose CEL failed renders as a lone "?" (see ruleset/cel.render).
UNRENDERED = re.compile(r"(^|\s)\?($|[\s.,;:)])")


def compare(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    run = run_cli(
        "compare", folder / "target.yaml", folder / "baseline.yaml", "--from", folder, "--format", "json", *extra
    )
    assert run.code in (0, 1), run.stderr
    return run.code, run.json()


@pytest.fixture(scope="module")
def healthy_report() -> dict[str, Any]:
    return compare(HEALTHY)[1]


def test_every_required_rule_is_built_in_with_a_fixture() -> None:
    run = run_cli("rules", "list")
    listed = {line.split()[0] for line in run.stdout.splitlines() if line.strip()}
    assert run.code == 0
    assert set(REQUIRED_RULES) <= listed, sorted(set(REQUIRED_RULES) - listed)
    with_fixture = {p.name for p in RULE_FIXTURES.iterdir() if (p / "target.yaml").is_file()}
    assert set(REQUIRED_RULES) <= with_fixture, sorted(set(REQUIRED_RULES) - with_fixture)


@pytest.mark.parametrize("rule_id", REQUIRED_RULES)
def test_rule_fires_on_its_fixture_and_stays_silent_on_the_healthy_pair(
    rule_id: str, healthy_report: dict[str, Any]
) -> None:
    _, report = compare(RULE_FIXTURES / rule_id)
    fired = {f["rule"]: f for f in report["findings"]}
    # A rule whose finding another explains (`explained_by`) shows as that finding's corroboration.
    folded = {rule: f for f in report["findings"] for rule in f["corroborated_by"]}
    assert rule_id in fired or rule_id in folded, f"{rule_id} did not fire; found {sorted(fired)}"
    finding = fired.get(rule_id) or folded[rule_id]
    said = finding["explanation"] if rule_id in fired else " ".join(finding["confirmations"])
    for fact in EXPECTED[rule_id]:
        assert fact in said, said
    for text in (finding["explanation"], *finding["remediation"].values(), *finding["confirmations"]):
        assert not UNRENDERED.search(text), f"a placeholder failed to render: {text!r}"
        assert "\n" not in text, text
    # Names are not secrets: `--update-secrets SMTP_PASSWORD=smtp-password:2` reads whole (driftcheck/redact.py).
    readable = [finding["explanation"], *finding["remediation"].values()]
    assert not [text for text in readable if "[REDACTED]" in text]
    if rule_id in CONFIRMED:
        assert any(CONFIRMED[rule_id] in c for c in finding["confirmations"]), finding["confirmations"]
    assert set(finding["remediation"]) == {"gcloud", "terraform"}
    assert finding["docs"].startswith("https://cloud.google.com/")
    assert report["incomplete"] is False, report["unverified"]  # every fixture holds all the evidence it needs
    on_healthy = [f["severity"] for f in healthy_report["findings"] if f["rule"] == rule_id]
    assert on_healthy == ([ALLOWED_ON_HEALTHY[rule_id]] if rule_id in ALLOWED_ON_HEALTHY else [])


@pytest.mark.parametrize("rule_id", REQUIRED_RULES)
def test_rules_show_documents_the_rule(rule_id: str) -> None:
    run = run_cli("rules", "show", rule_id)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith(f"{rule_id} (")
    assert "docs: https://cloud.google.com/" in run.stdout
    assert "\nfix:\n  " in run.stdout  # its fix actions, each with what it runs and its arguments


def test_healthy_pair_has_no_critical_or_high_finding(healthy_report: dict[str, Any]) -> None:
    code, report = compare(HEALTHY)  # default --fail-on high: a healthy pair must not fail a CI step
    assert code == 0
    assert {f["severity"] for f in report["findings"]} <= {"medium", "low", "info"}
    assert {f["rule"] for f in report["findings"]} <= set(ALLOWED_ON_HEALTHY)
    assert report["incomplete"] is False and report["other_differences"] == []


def test_evidence_path_of_an_item_names_file_and_field_on_both_sides() -> None:
    _, report = compare(RULE_FIXTURES / "env-var-missing")
    finding = next(f for f in report["findings"] if f["rule"] == "env-var-missing")
    evidence = finding["evidence"][0]
    assert evidence["path"] == "containers.ingress.env.REDIS_URL"
    assert evidence["baseline"] == {"value": "redis://10.50.0.4:6379/0", "secret": None} and evidence["target"] is None
    assert evidence["source"]["baseline"].endswith("baseline.yaml:spec.template.spec.containers[0].env[1]")


def test_secret_access_without_iam_policy_is_unverified_not_a_finding(tmp_path: Path) -> None:
    evidence = _copy_without(RULE_FIXTURES / "secret-access-denied", tmp_path, "stripe-api-key.iam.json")
    _, report = compare(evidence)
    assert "secret-access-denied" not in {f["rule"] for f in report["findings"]}
    unverified = [u for u in report["unverified"] if u["rule"] == "secret-access-denied"]
    assert len(unverified) == 1
    assert "get-iam-policy" in unverified[0]["reason"]
    assert "secretmanager.secrets.getIamPolicy" in unverified[0]["hint"]
    assert "gcloud secrets get-iam-policy stripe-api-key" in unverified[0]["hint"]
    assert report["incomplete"] is True


def test_attached_instance_missing_from_evidence_is_unverified(tmp_path: Path) -> None:
    evidence = _copy_without(RULE_FIXTURES / "vpc-access-missing", tmp_path, "orders-pg.json")
    _, report = compare(evidence)
    rules = {f["rule"] for f in report["findings"]}
    assert "vpc-access-missing" in rules and "sql-private-ip-unreachable" not in rules
    unverified = {u["rule"]: u for u in report["unverified"]}
    assert {"sql-private-ip-unreachable", "cloudsql-instance-unavailable"} <= set(unverified)
    assert (
        "gcloud sql instances describe orders-pg --project netra-staging"
        in unverified["sql-private-ip-unreachable"]["hint"]
    )
    assert report["incomplete"] is True


def test_secret_version_alias_is_unverified_not_absent(tmp_path: Path) -> None:
    evidence = _copy_without(RULE_FIXTURES / "secret-version-unusable", tmp_path)
    target = evidence / "target.yaml"
    target.write_text(target.read_text().replace("key: latest", "key: prod"))
    _, report = compare(evidence)
    assert "secret-version-unusable" not in {f["rule"] for f in report["findings"]}
    reasons = [u["reason"] for u in report["unverified"] if u["rule"] == "secret-version-unusable"]
    assert len(reasons) == 1 and "alias 'prod'" in reasons[0]


def test_rule_whose_items_cannot_be_listed_is_unverified_not_silent(tmp_path: Path) -> None:
    # A container key is data: the vocabulary allows any (a misspelt field is refused at load instead).
    (tmp_path / "broken.yaml").write_text(
        "id: broken-for-each\ntitle: t\nseverity: high\nscope: target\n"
        "for_each: target.containers['no-such-container'].command\n"
        "when: 'true'\nexplanation: x\ndocs: https://example.com\n"
    )
    run = run_cli("compare", "api", "auth", "--from", FIXTURES / "incident", "--rules", tmp_path, "--format", "json")
    unverified = [u for u in run.json()["unverified"] if u["rule"] == "broken-for-each"]
    assert len(unverified) == 1 and "could not evaluate" in unverified[0]["reason"]
    assert run.json()["incomplete"] is True


def _copy_without(source: Path, tmp_path: Path, *left_out: str) -> Path:
    evidence = tmp_path / source.name
    shutil.copytree(source, evidence, ignore=lambda _dir, names: [n for n in names if n in left_out])
    return evidence


@pytest.mark.parametrize(
    ("text", "engine"),
    [
        ("mysql://catalog@10.40.0.7:5432/catalog", "mysql"),  # the scheme names the engine, whatever the port
        ("postgresql+psycopg://app@10.20.0.3:5432/netra", "postgres"),
        ("jdbc:sqlserver://10.0.0.9:1433;databaseName=app", "sqlserver"),
        (" 3306 ", "mysql"),  # a bare DB_PORT value
        ("10.20.0.3:5432", "postgres"),
        ("13306", ""),
        ("redis://10.50.0.4:6379/0", ""),
    ],
)
def test_db_engine_reads_schemes_drivers_and_default_ports(text: str, engine: str) -> None:
    from driftcheck.ruleset.cel import db_engine

    assert db_engine(text) == engine
