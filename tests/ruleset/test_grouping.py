"""One cause, one finding: a rule's hits against the same peers are one finding, and a finding another explains
is that finding's corroboration. Through the CLI, on the bundled incident and on user rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from conftest import INCIDENT, run_cli

ENV_ANCHOR = "        - name: SERVICE_NAME\n"
MISSING = ("REDIS_URL", "FEATURE_CACHE_URL", "SEARCH_URL")


def _incident_with_env(tmp_path: Path, *names: str) -> Path:
    """The incident, where auth (the healthy peer) sets a few variables api does not."""
    folder = tmp_path / "evidence"
    shutil.copytree(INCIDENT, folder)
    extra = "".join(f"        - name: {name}\n          value: redis://10.20.0.9:6379\n" for name in names)
    auth = (INCIDENT / "auth.yaml").read_text()
    (folder / "auth.yaml").write_text(auth.replace(ENV_ANCHOR, extra + ENV_ANCHOR, 1))
    return folder


def _report(folder: Path, *extra: str | Path) -> dict[str, Any]:
    run = run_cli("compare", "api", "auth", "--from", folder, "--format", "json", "--fail-on", "none", *extra)
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


def test_variables_missing_for_one_reason_are_one_finding_listing_them(tmp_path: Path) -> None:
    report = _report(_incident_with_env(tmp_path, *MISSING))
    (finding,) = [f for f in report["findings"] if f["rule"] == "env-var-missing"]
    assert finding["items"] == 3
    assert "auth sets 3 env vars that api does not set at all" in finding["explanation"]
    assert all(name in finding["explanation"] for name in MISSING)
    assert {row["path"] for row in finding["evidence"]} == {f"containers.ingress.env.{n}" for n in MISSING}
    assert finding["peers"] == "1/1 peers differ from the target here (only the target differs)"


def test_the_missing_vpc_path_and_the_instance_it_cannot_reach_are_one_finding() -> None:
    report = _report(INCIDENT)
    first = report["findings"][0]
    assert first["rule"] == "vpc-access-missing" and first["severity"] == "critical"
    # the incident's logs (api.logs.json): its ETIMEDOUT lines are the same cause, folded in
    assert set(first["corroborated_by"]) == {
        "sql-private-ip-unreachable",
        "container-start-failed",
        "revision-failed",
        "connection-refused-or-timeout",
    }
    assert any("staging-shared-postgres" in c and "only a private IP" in c for c in first["confirmations"])
    assert "failed to start and listen on the port" in first["status_quote"]
    assert not [f for f in report["findings"] if f["rule"] in ("sql-private-ip-unreachable", "container-start-failed")]
    assert [f["severity"] for f in report["findings"]].count("critical") == 1


def test_a_user_rule_groups_too(tmp_path: Path) -> None:
    """Grouping is generic: a user rule with several items and no summary of its own is one finding."""
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = {
        "id": "env-name-shouts",
        "title": "An env var of the peer is in upper case",
        "severity": "low",
        "scope": "target",
        "for_each": "baselines[0].containers.ingress.env.map(n, n)",
        "item_key": "item",
        "when": 'item.startsWith("FEATURE") || item.startsWith("REDIS") || item.startsWith("SEARCH")',
        "explanation": "{{ item }} is set by a peer.",
        "docs": "https://cloud.google.com/run/docs/configuring/services/environment-variables",
    }
    (rules / "shouts.yaml").write_text(yaml.safe_dump(rule))
    report = _report(_incident_with_env(tmp_path, *MISSING), "--rules", rules)
    (finding,) = [f for f in report["findings"] if f["rule"] == "env-name-shouts"]
    assert finding["items"] == 3
    said = "FEATURE_CACHE_URL is set by a peer. REDIS_URL is set by a peer. SEARCH_URL is set by a peer."
    assert finding["explanation"] == said


USER_RULE = """\
id: my-start-check
title: Our own start-up check
severity: medium
scope: target
when: 'true'
status_match: ["failed to start and listen on the port"]
explanation: '{{ target.label }} fails our own start-up check.'
docs: https://example.com/runbook
"""


def test_a_rule_quoting_the_stated_failure_explains_it_without_being_listed(tmp_path: Path) -> None:
    """A configuration rule the status rules do not name (a user's) still takes the platform's words in."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "my-start-check.yaml").write_text(USER_RULE)
    folder = shutil.copytree(INCIDENT.parent / "incident-single", tmp_path / "single")
    api = yaml.safe_load((folder / "api.yaml").read_text())  # given its VPC path: no built-in cause is left
    api["spec"]["template"]["metadata"]["annotations"]["run.googleapis.com/vpc-access-connector"] = "staging-connector"
    (folder / "api.yaml").write_text(yaml.safe_dump(api))
    run = run_cli("check", "api", "--from", folder, "--rules", rules, "--format", "json")
    by_rule = {f["rule"]: f for f in run.json()["findings"]}
    assert "container-start-failed" not in by_rule and "revision-failed" not in by_rule
    mine = by_rule["my-start-check"]
    assert {"container-start-failed", "revision-failed"} <= set(mine["corroborated_by"])
    assert mine["severity"] == "critical"  # as severe as the failure it explains
