"""The findings baseline (`--baseline-file`, `--update-baseline`): a CI gate that fails only on a new finding, and
the pre-commit hook (`.pre-commit-hooks.yaml`: `check --files`).

The world is the bundled incident (api fails, auth works) copied to a temporary folder and edited there: api
differs from auth in three ways a rule names (no VPC access, another service account, a missing env var).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT, ROOT, run_cli

Edit = Callable[[dict[str, Any]], None]
THREE = {"vpc-access-missing", "service-account-mismatch", "env-var-missing"}


def _world(tmp_path: Path, *edits: Edit) -> Path:
    folder = tmp_path / "world"
    if not folder.exists():
        shutil.copytree(INCIDENT, folder)
        _edit(folder / "api.yaml", _drop_env("DB_HOST"))  # the third known difference
    for edit in edits:
        _edit(folder / "api.yaml", edit)
    return folder


def _edit(path: Path, edit: Edit) -> None:
    service = yaml.safe_load(path.read_text())
    edit(service)
    path.write_text(yaml.safe_dump(service, sort_keys=False))


ATTACHED = "netra-staging:us-central1:staging-shared-postgres"


def _attach(names: str) -> Edit:
    def edit(service: dict[str, Any]) -> None:
        service["spec"]["template"]["metadata"]["annotations"]["run.googleapis.com/cloudsql-instances"] = names

    return edit


def _drop_env(name: str) -> Edit:
    def edit(service: dict[str, Any]) -> None:
        container = service["spec"]["template"]["spec"]["containers"][0]
        container["env"] = [e for e in container["env"] if e["name"] != name]

    return edit


def _compare(world: Path, *args: str) -> Any:
    return run_cli("compare", "api", "auth", "--from", world, *args)


def _report(world: Path, baseline: Path, *args: str) -> tuple[int, dict[str, Any]]:
    run = _compare(world, "--baseline-file", baseline, "--format", "json", *args)
    assert run.code in (0, 1), run.stderr
    return run.code, run.json()


def _fingerprints(world: Path) -> dict[str, str]:
    run = _compare(world, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    return {f["rule"]: f["fingerprint"] for f in run.json()["findings"]}


def test_the_gate_fails_only_on_a_new_finding_and_reports_the_fixed(tmp_path: Path) -> None:
    world, baseline = _world(tmp_path), tmp_path / ".driftcheck-baseline.json"

    written = _compare(world, "--baseline-file", baseline, "--update-baseline", "--format", "json")
    assert written.code == 0, written.stderr  # a critical finding among them: accepted, not judged
    assert f"wrote {baseline}: 3 findings known" in written.stderr
    entries = json.loads(baseline.read_text())
    assert entries["version"] == 1
    assert {e["rule"] for e in entries["findings"]} == THREE
    assert all(set(e) == {"rule", "subject", "reason", "fingerprint"} for e in entries["findings"])
    assert all(e["subject"] == "api" and e["reason"] for e in entries["findings"])
    assert entries["findings"] == sorted(entries["findings"], key=lambda e: (e["subject"], e["rule"], e["fingerprint"]))

    code, report = _report(world, baseline)  # the same world: everything known, the default --fail-on high passes
    assert code == 0
    assert report["baseline"]["counts"] == {"new": 0, "known": 3, "fixed": 0}
    assert {f["baseline"] for f in report["findings"]} == {"known"}

    fourth = _world(tmp_path, _attach(f"{ATTACHED},reports-db"))  # a second Cloud SQL name, malformed: high
    code, report = _report(fourth, baseline)
    new = [f for f in report["findings"] if f["baseline"] == "new"]
    assert [(f["rule"], f["severity"]) for f in new] == [("cloudsql-instance-name-malformed", "high")]
    assert code == 1  # exactly that one fails the gate (--fail-on high), the known critical does not
    assert report["baseline"]["counts"] == {"new": 1, "known": 3, "fixed": 0}
    assert [e["fingerprint"] for e in report["baseline"]["new"]] == [new[0]["fingerprint"]]
    passes = _compare(fourth, "--baseline-file", baseline, "--fail-on", SEVERITY_ABOVE[new[0]["severity"]])
    assert passes.code == 0, passes.stderr  # below --fail-on, a new finding is reported but passes

    markdown = _compare(fourth, "--baseline-file", baseline, "--format", "markdown").stdout
    assert markdown.splitlines()[0] == "❌ 1 new finding (high) · 3 known · 0 fixed"
    assert "[HIGH, new]" in markdown and "[CRITICAL, known]" in markdown
    assert "<details>" in markdown and "| what |" not in markdown  # evidence collapsed, no wide table


def test_a_finding_gone_from_the_world_is_reported_fixed(tmp_path: Path) -> None:
    world, baseline = _world(tmp_path), tmp_path / "known.json"
    assert _compare(world, "--baseline-file", baseline, "--update-baseline").code == 0
    same_account = "auth@netra-staging.iam.gserviceaccount.com"
    fixed_world = _world(tmp_path, lambda s: s["spec"]["template"]["spec"].update(serviceAccountName=same_account))

    code, report = _report(fixed_world, baseline, "--fail-on", "low")
    assert code == 0  # nothing new: the gate passes
    assert report["baseline"]["counts"] == {"new": 0, "known": 2, "fixed": 1}
    assert [e["rule"] for e in report["baseline"]["fixed"]] == ["service-account-mismatch"]

    # the terminal report wraps at the default width: a long tmp path may break a line anywhere
    table = "".join(_compare(fixed_world, "--baseline-file", baseline, "--fail-on", "low").stdout.split())
    assert f"baseline{baseline}:0new,2known,1fixed" in table
    assert "fixed:api:Runsasadifferentserviceaccount" in table
    markdown = _compare(fixed_world, "--baseline-file", baseline, "--format", "markdown").stdout
    assert markdown.splitlines()[0].endswith("· 2 known · 1 fixed")
    assert "## Fixed: listed in" in markdown
    sarif = json.loads(_compare(fixed_world, "--baseline-file", baseline, "--format", "sarif").stdout)
    assert sarif["runs"][0]["properties"]["baseline"]["counts"] == {"new": 0, "known": 2, "fixed": 1}
    assert {r["baselineState"] for r in sarif["runs"][0]["results"]} == {"unchanged"}


SEVERITY_ABOVE = {"critical": "none", "high": "critical", "medium": "high", "low": "medium", "info": "low"}


def test_fingerprints_survive_reordering_digests_and_revision_names(tmp_path: Path) -> None:
    world = _world(tmp_path)
    before = _fingerprints(world)
    assert set(before) == THREE

    def reorder(service: dict[str, Any]) -> None:
        container = service["spec"]["template"]["spec"]["containers"][0]
        container["env"] = list(reversed(container["env"]))
        service["spec"]["template"]["metadata"]["annotations"] = dict(
            reversed(list(service["spec"]["template"]["metadata"]["annotations"].items()))
        )

    def redeploy(service: dict[str, Any]) -> None:
        container = service["spec"]["template"]["spec"]["containers"][0]
        container["image"] = container["image"].split("@")[0] + "@sha256:" + "0" * 64
        service["spec"]["template"]["metadata"]["name"] = "api-00043-new"
        service["status"]["latestCreatedRevisionName"] = "api-00043-new"

    _world(tmp_path, reorder, redeploy)
    assert _fingerprints(world) == before


def test_containers_in_another_order_keep_their_fingerprints(tmp_path: Path) -> None:
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1.30.1", "env": [{"name": "LOG", "value": "info"}]}

    def with_sidecar(service: dict[str, Any], first: bool) -> None:
        containers = service["spec"]["template"]["spec"]["containers"]
        containers.insert(0 if first else len(containers), dict(sidecar))

    world = _world(tmp_path, lambda s: with_sidecar(s, first=False))
    _edit(world / "auth.yaml", lambda s: with_sidecar(s, first=False))
    before = _fingerprints(world)
    _edit(world / "api.yaml", lambda s: s["spec"]["template"]["spec"]["containers"].reverse())
    assert _fingerprints(world) == before


def test_one_more_missing_env_var_in_a_known_group_stays_known(tmp_path: Path) -> None:
    """The missing env vars are one finding (one cause: api predates auth's env; one merged fix), so its identity is
    the group's, not its first variable's: APP_ENV sorts before DB_HOST, and keyed by its first path the finding
    read as one fixed and one new. The added variable is not hidden: the known finding lists it."""
    world, baseline = _world(tmp_path), tmp_path / "known.json"
    assert _compare(world, "--baseline-file", baseline, "--update-baseline").code == 0
    before = _fingerprints(world)["env-var-missing"]

    _world(tmp_path, _drop_env("APP_ENV"))  # a second missing variable, sorted first
    code, report = _report(world, baseline, "--fail-on", "low")
    assert code == 0  # nothing new: the gate passes
    assert report["baseline"]["counts"] == {"new": 0, "known": 3, "fixed": 0}
    (grouped,) = [f for f in report["findings"] if f["rule"] == "env-var-missing"]
    assert grouped["items"] == 2 and grouped["baseline"] == "known" and grouped["fingerprint"] == before
    assert [e["path"] for e in grouped["evidence"]] == [f"containers.ingress.env.{n}" for n in ("APP_ENV", "DB_HOST")]
    sarif = json.loads(_compare(world, "--baseline-file", baseline, "--format", "sarif", "--fail-on", "none").stdout)
    carried = {r["ruleId"]: r["partialFingerprints"]["driftcheck/v1"] for r in sarif["runs"][0]["results"]}
    assert carried["env-var-missing"] == before  # SARIF and the baseline file: one function, one identity

    def restore(service: dict[str, Any]) -> None:
        service["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "DB_HOST", "value": "10.20.0.3"})

    _world(tmp_path, restore)  # DB_HOST back: APP_ENV alone is still the same cause, partly fixed
    assert _fingerprints(world)["env-var-missing"] == before


def test_a_second_group_of_one_rule_is_a_finding_of_its_own(tmp_path: Path) -> None:
    """What every peer has and api lacks is one cause, what one peer of two has is another: two findings of one
    rule, told apart by the peers each holds against, each keeping its identity when a variable joins it."""
    world = _world(tmp_path)
    billing = yaml.safe_load((world / "auth.yaml").read_text())
    billing["metadata"]["name"] = "billing"
    billing["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "LEDGER_URL", "value": "https://l"})
    (world / "billing.yaml").write_text(yaml.safe_dump(billing, sort_keys=False))

    def env_findings() -> dict[str, tuple[int, str]]:
        """By how many peers agree (`2/2`, `1/2`): how many items, which fingerprint."""
        run = run_cli("compare", "api", "auth", "billing", "--from", world, "--format", "json", "--fail-on", "none")
        assert run.code == 0, run.stderr
        found = [f for f in run.json()["findings"] if f["rule"] == "env-var-missing"]
        return {f["peers"].split()[0]: (f["items"], f["fingerprint"]) for f in found}

    first = env_findings()  # DB_HOST (both peers have it), LEDGER_URL (billing has it)
    assert {agree: items for agree, (items, _) in first.items()} == {"2/2": 1, "1/2": 1}
    assert first["2/2"][1] != first["1/2"][1]
    _world(tmp_path, _drop_env("APP_ENV"))  # joins the both-peers group
    second = env_findings()
    assert second == {"2/2": (2, first["2/2"][1]), "1/2": first["1/2"]}


def test_sarif_carries_the_fingerprints_the_baseline_file_lists(tmp_path: Path) -> None:
    world, baseline = _world(tmp_path), tmp_path / "known.json"
    run = _compare(world, "--baseline-file", baseline, "--update-baseline", "--format", "sarif")
    assert run.code == 0, run.stderr
    sarif = json.loads(run.stdout)
    carried = {r["partialFingerprints"]["driftcheck/v1"] for r in sarif["runs"][0]["results"]}
    assert carried == {e["fingerprint"] for e in json.loads(baseline.read_text())["findings"]}


def test_an_update_keeps_a_reviewer_s_reason(tmp_path: Path) -> None:
    world, baseline = _world(tmp_path), tmp_path / "known.json"
    assert _compare(world, "--baseline-file", baseline, "--update-baseline").code == 0
    entries = json.loads(baseline.read_text())
    entries["findings"][0]["reason"] = "accepted until the VPC migration (TICKET-12)"
    baseline.write_text(json.dumps(entries))
    assert _compare(world, "--baseline-file", baseline, "--update-baseline").code == 0
    assert json.loads(baseline.read_text())["findings"][0]["reason"] == "accepted until the VPC migration (TICKET-12)"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("{not json", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"version": 2, "findings": []}', ":version: expected version 1, found 2"),
        ('{"version": 1}', ":findings: expected a list, found nothing"),
        ('{"version": 1, "findings": [{"rule": 5}]}', ":findings[0].rule: expected a non-empty string, found 5"),
        (
            '{"version": 1, "findings": [{"rule": "r", "subject": "api", "reason": "x", "fingerprint": "zz"}]}',
            ":findings[0].fingerprint: expected 32 lowercase hex digits",
        ),
        ('{"version": 1, "findings": [], "findings": []}', "repeated"),
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
        (
            '{"version": 1, "findings": [{"rule": "r", "subject": "a\\u001b[31m", "reason": "x", "fingerprint": "'
            + "a" * 32
            + '"}]}',
            ":findings[0].subject: a control character",
        ),
    ],
)
def test_a_bad_baseline_file_is_one_line_naming_the_file_and_field(tmp_path: Path, content: str, where: str) -> None:
    bad = tmp_path / "known.json"
    bad.write_text(content)
    run = _compare(INCIDENT, "--baseline-file", bad)
    assert run.code == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"driftcheck: error: {bad}")
    assert where in run.stderr
    assert "\x1b" not in run.stderr


def test_a_missing_baseline_file_is_an_input_error_but_not_for_an_update(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    run = _compare(INCIDENT, "--baseline-file", missing)
    assert run.code == 2 and "no such baseline file" in run.stderr
    assert _compare(INCIDENT, "--update-baseline").code == 2  # which file to write?
    assert _compare(INCIDENT, "--baseline-file", missing, "--update-baseline").code == 0
    assert missing.is_file()


# The pre-commit hook ------------------------------------------------------------------------------------------------

MALFORMED = "staging-shared-postgres"  # only the instance name: no project, no region


def _hook() -> dict[str, Any]:
    (hook,) = [
        h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "driftcheck-check"
    ]
    return dict(hook)


def _run_hook(*files: Path) -> Any:
    command = shlex.split(_hook()["entry"])
    assert command[0] == "driftcheck"
    return run_cli(*command[1:], *files)


def test_the_hook_fails_on_a_malformed_cloud_sql_name_and_passes_a_clean_file(tmp_path: Path) -> None:
    hook = _hook()
    clean = tmp_path / "auth.yaml"
    shutil.copy(INCIDENT / "auth.yaml", clean)
    malformed = tmp_path / "api-service.yaml"
    shutil.copy(clean, malformed)
    _edit(malformed, _attach(MALFORMED))
    workflow = tmp_path / "ci.yml"  # another tool's YAML, which pre-commit passes too
    workflow.write_text("name: ci\non: push\njobs: {}\n")
    assert all(re.search(hook["files"], p.name) for p in (clean, malformed, workflow))

    passed = _run_hook(clean, workflow)
    assert passed.code == 0, passed.stdout + passed.stderr
    assert "checked 1 service in 1 file; skipped 1" in passed.stderr

    failed = _run_hook(clean, malformed, workflow)
    assert failed.code == 1
    assert "A Cloud SQL connection name is not PROJECT:REGION:INSTANCE" in failed.stdout
    assert f'"{MALFORMED}"' in failed.stdout


def test_the_hook_reads_a_tf_file_with_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "infra"
    shutil.copytree(ROOT / "fixtures" / "terraform-hcl" / "auth", folder)
    main = folder / "main.tf"
    assert _run_hook(main, folder / "variables.tf").code == 0
    right = "netra-staging:us-central1:staging-shared-postgres"
    main.write_text(main.read_text().replace(right, "netra-staging:staging-shared-postgres"))
    failed = _run_hook(main, folder / "variables.tf")
    assert failed.code == 1
    # wrapped inside the finding's box at the terminal's width
    assert "two parts, not three" in re.sub(r"[│\s]+", " ", failed.stdout), failed.stdout
    assert "checked 1 service in 1 file; skipped 1" in failed.stderr


def test_check_takes_one_service_without_files() -> None:
    run = run_cli("check", "api", "auth", "--from", INCIDENT)
    assert run.code == 2 and "check takes one SERVICE, not 2" in run.stderr
