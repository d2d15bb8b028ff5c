"""An audit's report, in every format: many services in one Result, each finding naming its subject, the changes
since the previous snapshot listed apart from the findings (never as findings), no baseline, and no credential
from a snapshot reaching a reader, whether the value is a URL with a password or sits under DB_PASSWORD.

The Result is built directly (the `driftcheck audit` job that makes one is another module's work): these tests
hold the reporters to what any audit hands them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from test_html import Page
from test_json_schema import VALIDATOR
from test_sarif import _errors as sarif_errors

from driftcheck.compare.timeline_change import TimelineChange
from driftcheck.report import FORMATS, reporter
from driftcheck.ruleset.findings import Evidence, Finding, Result

STAGING, PROD = "netra-staging/us-central1", "netra-prod/us-central1"
STAGING_PAIR = (datetime(2024, 5, 1, 9, 0, tzinfo=UTC), datetime(2024, 5, 2, 9, 0, tzinfo=UTC))
PROD_PAIR = (datetime(2024, 5, 1, 9, 30, tzinfo=UTC), datetime(2024, 5, 2, 9, 30, tzinfo=UTC))
# What each pair reads as in a report: ISO 8601, UTC, with Z.
STAGING_STAMPS = ("2024-05-01T09:00:00.000000Z", "2024-05-02T09:00:00.000000Z")
PROD_STAMPS = ("2024-05-01T09:30:00.000000Z", "2024-05-02T09:30:00.000000Z")
# Credentials in the changes' raw values: a URL's password, and plain values under a credential-named path.
SECRETS = ("hunter2", "oldpass77", "plainold-secret", "s3cr3t-new")
AUDIT_STATUS = {"known": False, "reason": "audit of 7 services in 2 projects"}


def _outlier() -> Finding:
    return Finding(
        rule="peer-group-outlier",
        severity="high",
        title="A service differs from its peer group",
        explanation="api has vpc.connector = none; the rest of peer group backends has staging-connector (3/3 agree)",
        evidence=(
            Evidence(
                "vpc.connector",
                "staging-connector",
                None,
                "snapshots/netra-staging.json#services/auth:vpc.connector",
                "snapshots/netra-staging.json#services/api:vpc.connector",
            ),
        ),
        remediation={"terraform": "set vpc.connector of api to the peer group's value"},
        docs="https://cloud.google.com/run/docs/configuring/vpc-connectors",
        subject=f"{STAGING}/api",
    )


def _mismatch() -> Finding:
    return Finding(
        rule="environment-mismatch",
        severity="medium",
        title="Environments differ where they should not",
        explanation="api: scaling.max_instances is 10 in netra-staging/api and 20 in netra-prod/api",
        evidence=(
            Evidence(
                "scaling.max_instances",
                10,
                20,
                "snapshots/netra-staging.json#services/api:scaling.max_instances",
                "snapshots/netra-prod.json#services/api:scaling.max_instances",
            ),
        ),
        remediation={"gcloud": "gcloud run services describe api --project netra-prod --region us-central1"},
        docs="https://cloud.google.com/run/docs/deploying",
        subject=f"{PROD}/api",
    )


def _unmanaged() -> Finding:
    """The same rule and path on another service: two findings that must stay two (fingerprints, test names)."""
    return Finding(
        rule="peer-group-outlier",
        severity="high",
        title="A service differs from its peer group",
        explanation="worker has vpc.connector = none; the rest of peer group backends has staging-connector",
        evidence=(Evidence("vpc.connector", "staging-connector", None, None, None),),
        remediation={"terraform": "set vpc.connector of worker to the peer group's value"},
        docs="https://cloud.google.com/run/docs/configuring/vpc-connectors",
        subject=f"{STAGING}/worker",
    )


def _changes() -> tuple[TimelineChange, ...]:
    api, worker, cron = f"{STAGING}/api", f"{STAGING}/worker", f"{PROD}/cron"
    return (
        TimelineChange(*STAGING_PAIR, "containers.api.image", "changed", "api:1.4.0", "api:1.5.0", api),
        TimelineChange(
            *STAGING_PAIR,
            "containers.api.env.DATABASE_URL.value",
            "changed",
            "postgres://u:oldpass77@db/x",
            "postgres://u:hunter2@db/x",
            api,
        ),
        TimelineChange(
            *STAGING_PAIR, "containers.api.env.DB_PASSWORD.value", "changed", "plainold-secret", "s3cr3t-new", api
        ),
        TimelineChange(*STAGING_PAIR, "service", "appeared", "absent", "present", worker),
        TimelineChange(*PROD_PAIR, "containers.cron.env.LOG_LEVEL", "removed", {"value": "debug"}, None, cron),
    )


def audit_result() -> Result:
    return Result(
        target="audit of netra-staging, netra-prod (us-central1)",
        baselines=(),
        status=AUDIT_STATUS,
        findings=(_outlier(), _unmanaged(), _mismatch()),
        notes=(f"{PROD}/billing could not be read: permission denied (run.services.get)",),
        unread={f"{PROD}/billing": "permission denied: run.services.get"},
        changes=_changes(),
    )


@pytest.fixture(scope="module")
def reports() -> dict[str, str]:
    return {name: reporter(name)(audit_result()) for name in FORMATS}


@pytest.fixture(scope="module")
def document(reports: dict[str, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(reports["json"])
    return loaded


def test_json_matches_the_schema(document: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert not errors, "\n".join(errors)
    assert document["baselines"] == [] and document["status"] == AUDIT_STATUS


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("an undocumented key in a change", lambda r: r["changes"][0].update(surprise=1)),
        ("a change without its service", lambda r: r["changes"][0].pop("service")),
        ("an unknown kind of change", lambda r: r["changes"][0].update(kind="modified")),
        ("a timestamp without its zone", lambda r: r["changes"][0].update(before="2024-05-01T09:00:00")),
        ("a finding without its subject", lambda r: r["findings"][0].pop("subject")),
        ("a subject that is not a string", lambda r: r["findings"][0].update(subject=["api"])),
    ],
)
def test_schema_rejects_a_drifted_audit(document: dict[str, Any], where: str, change: Any) -> None:
    drifted = copy.deepcopy(document)
    change(drifted)
    assert not VALIDATOR.is_valid(drifted), f"the schema accepts {where}"


def test_json_names_each_findings_subject(document: dict[str, Any]) -> None:
    assert [f["subject"] for f in document["findings"]] == [f"{STAGING}/api", f"{STAGING}/worker", f"{PROD}/api"]


def test_json_lists_the_changes_in_order_with_utc_timestamps(document: dict[str, Any]) -> None:
    changes = document["changes"]
    assert [set(c) for c in changes] == [{"service", "before", "after", "path", "kind", "from", "to"}] * 5
    assert [(c["before"], c["after"]) for c in changes] == [STAGING_STAMPS] * 4 + [PROD_STAMPS]
    assert changes[0] == {
        "service": f"{STAGING}/api",
        "before": STAGING_STAMPS[0],
        "after": STAGING_STAMPS[1],
        "path": "containers.api.image",
        "kind": "changed",
        "from": "api:1.4.0",
        "to": "api:1.5.0",
    }
    assert (changes[3]["kind"], changes[3]["from"], changes[3]["to"]) == ("appeared", "absent", "present")
    assert (changes[4]["from"], changes[4]["to"]) == ({"value": "debug"}, None)


def test_json_masks_credentials_in_changes_and_keeps_the_rest(document: dict[str, Any]) -> None:
    by_path = {c["path"]: c for c in document["changes"]}
    url = by_path["containers.api.env.DATABASE_URL.value"]
    assert (url["from"], url["to"]) == ("postgres://u:[REDACTED]@db/x", "postgres://u:[REDACTED]@db/x")
    password = by_path["containers.api.env.DB_PASSWORD.value"]  # plain values: only the path says what they are
    assert (password["from"], password["to"]) == ("[REDACTED]", "[REDACTED]")
    assert by_path["containers.cron.env.LOG_LEVEL"]["from"] == {"value": "debug"}  # nothing over-redacted


def test_a_secret_reference_path_is_not_a_credential() -> None:
    """`env.X.secret` names a Secret Manager secret, the clue a reader needs; only credential names are masked."""
    moved = TimelineChange(*STAGING_PAIR, "containers.api.env.DB_URL.secret", "changed", "db-url:1", "db-url:2")
    doc = json.loads(reporter("json")(Result("audit", (), AUDIT_STATUS, (), changes=(moved,))))
    assert (doc["changes"][0]["from"], doc["changes"][0]["to"], doc["changes"][0]["service"]) == (
        "db-url:1",
        "db-url:2",
        None,
    )


@pytest.mark.parametrize("name", FORMATS)
def test_no_secret_in_any_format(reports: dict[str, str], name: str) -> None:
    leaked = [secret for secret in SECRETS if secret in reports[name]]
    assert not leaked, f"{name} shows {leaked}"
    assert "DB_PASSWORD" in reports[name], f"{name} lost the change to DB_PASSWORD"  # SARIF: in run.properties
    assert "[REDACTED]" in reports[name]


@pytest.mark.parametrize("name", ["table", "markdown", "html"])
def test_readable_formats_show_subjects_and_changes(reports: dict[str, str], name: str) -> None:
    text = {"html": Page(reports[name]).all_text(), "markdown": reports[name].replace("`", "")}.get(name, reports[name])
    assert "HIGH" in text and f"{STAGING}/api: A service differs from its peer group" in text
    assert f"{PROD}/api: Environments differ where they should not" in text
    assert text.count("Changes since the previous snapshot") == 1
    for stamp in (*STAGING_STAMPS, *PROD_STAMPS):
        assert stamp in text, f"{name} lacks {stamp}"
    for service in (f"{STAGING}/api", f"{STAGING}/worker", f"{PROD}/cron"):
        assert service in text
    assert "api:1.4.0" in text and "api:1.5.0" in text
    assert "(differs)" in text  # two masked passwords side by side read as a change, not a mistake
    assert "compared with" not in text  # an audit has no baseline: nothing dangles after "compared with"
    assert "audit of 7 services in 2 projects" in text
    assert "status not in the evidence" not in text  # no one target of whose status this would be said


def test_table_changes_follow_the_findings(reports: dict[str, str]) -> None:
    text = reports["table"]
    section = text.index("Changes since the previous snapshot")
    assert text.index("Environments differ") < section < text.index("2024-05-01T09:30:00.000000Z")
    assert "2024-05-01T09:00:00.000000Z → 2024-05-02T09:00:00.000000Z" in text  # one group per pair of snapshots


def test_markdown_finding_heading_and_change_rows(reports: dict[str, str]) -> None:
    lines = reports["markdown"].splitlines()
    assert lines[0] == "❌ 3 findings (2 high, 1 medium)"  # the verdict first: what a pull request shows
    assert lines[2] == "# driftcheck: `audit of netra-staging, netra-prod (us-central1)`"
    assert f"### 1. [HIGH] `{STAGING}/api`: A service differs from its peer group (`peer-group-outlier`)" in lines
    assert "- `netra-staging/us-central1/api` `containers.api.image`: api:1.4.0 → api:1.5.0" in lines
    assert "- `netra-staging/us-central1/worker` `service`: absent → present" in lines
    pairs = [line for line in lines if line.startswith("Between the snapshots of")]
    assert pairs == [f"Between the snapshots of {a} and {b}:" for a, b in (STAGING_STAMPS, PROD_STAMPS)]


def test_html_marks_subjects_and_timestamps(reports: dict[str, str]) -> None:
    page = Page(reports["html"])
    details = [attrs for tag, attrs in page.tags if tag == "details"]
    assert [d.get("data-subject") for d in details] == [f"{STAGING}/api", f"{STAGING}/worker", f"{PROD}/api"]
    times = [attrs["datetime"] for tag, attrs in page.tags if tag == "time"]
    assert times == [*STAGING_STAMPS, *PROD_STAMPS]
    assert [attrs.get("data-kind") for tag, attrs in page.tags if tag == "tr" and "data-kind" in attrs] == [
        "changed",
        "changed",
        "changed",
        "appeared",
        "removed",
    ]
    title = re.search(r"<title>(.*)</title>", reports["html"])
    assert title and title.group(1) == "driftcheck: audit of netra-staging, netra-prod (us-central1)"


def test_sarif_results_carry_the_subject(reports: dict[str, str]) -> None:
    log = json.loads(reports["sarif"])
    assert not sarif_errors(log), "\n".join(sarif_errors(log))
    run = log["runs"][0]
    results = run["results"]
    assert [r["properties"]["subject"] for r in results] == [f"{STAGING}/api", f"{STAGING}/worker", f"{PROD}/api"]
    assert results[0]["message"]["text"].startswith(f"{STAGING}/api: api has vpc.connector = none")
    # Same rule, same first path, two services: two alerts with identities of their own, no counter needed.
    fingerprints = [r["partialFingerprints"]["driftcheck/v1"] for r in results]
    assert len(set(fingerprints)) == 3
    # No file for the worker's evidence: its location names the worker, not the whole audit.
    assert results[1]["locations"][0]["logicalLocations"][0]["name"] == f"{STAGING}/worker"
    assert run["properties"]["baselines"] == [] and run["properties"]["incomplete"] is True
    assert [c["path"] for c in run["properties"]["changes"]] == [c.path for c in _changes()]


def test_sarif_fingerprint_depends_on_the_subject() -> None:
    one = json.loads(reporter("sarif")(Result("audit", (), AUDIT_STATUS, (_outlier(),))))
    other = json.loads(reporter("sarif")(Result("audit", (), AUDIT_STATUS, (_unmanaged(),))))
    fingerprint = "driftcheck/v1"
    first, second = (log["runs"][0]["results"][0]["partialFingerprints"][fingerprint] for log in (one, other))
    assert first != second


def test_junit_names_the_subject_and_lists_changes(reports: dict[str, str]) -> None:
    root = ET.fromstring(reports["junit"])
    suite = root.find("testsuite")
    assert suite is not None
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names[:3] == [
        f"{STAGING}/api: peer-group-outlier (vpc.connector)",
        f"{STAGING}/worker: peer-group-outlier (vpc.connector)",
        f"{PROD}/api: environment-mismatch (scaling.max_instances)",
    ]
    failures = [case.find("failure") for case in suite.findall("testcase")]
    assert [f.get("message") for f in failures if f is not None] == [
        f"{STAGING}/api: A service differs from its peer group",
        f"{STAGING}/worker: A service differs from its peer group",
    ]  # --fail-on high: the medium one passes
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert "baselines" not in properties and properties["incomplete"] == "true"
    out = suite.findtext("system-out") or ""
    assert out.startswith("Changes since the previous snapshot:")
    assert f"{STAGING}/api containers.api.image: api:1.4.0 → api:1.5.0" in out
    assert f"{STAGING_STAMPS[0]} → {STAGING_STAMPS[1]}" in out


def test_a_compare_shows_no_subject_and_no_changes_section() -> None:
    """The compare's shape is unchanged: the same finding without a subject renders as it always did."""
    finding = dataclasses.replace(_outlier(), subject=None)
    plain = Result("api", ("auth",), {"known": False, "reason": "not exported"}, (finding,))
    for name in ("table", "markdown", "html"):
        text = reporter(name)(plain)
        assert "Changes since the previous snapshot" not in text
        assert STAGING not in text
        assert "compared with auth" in text.replace("`", "")
    doc = json.loads(reporter("json")(plain))
    assert doc["changes"] == [] and doc["findings"][0]["subject"] is None
