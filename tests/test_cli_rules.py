"""`driftcheck rules list|show` and user rules given with --rules, through the real command line."""

from __future__ import annotations

from pathlib import Path

from conftest import INCIDENT, run_cli

USER_RULE = """\
id: min-instances-lower
title: Fewer warm instances than the peer
severity: medium
match:
  path: min_instances
  kind: changed
when: change.target < change.baseline
explanation: >-
  {{ target.name }} keeps {{ change.target }} warm instances, {{ baseline.name }} keeps {{ change.baseline }}
remediation:
  gcloud: gcloud run services update {{ target.name }} --min-instances {{ change.baseline }}
docs: https://cloud.google.com/run/docs/configuring/min-instances
"""


def test_rules_list_shows_builtin_rules_with_severity() -> None:
    run = run_cli("rules", "list")
    assert run.code == 0
    line = next(line for line in run.stdout.splitlines() if line.startswith("vpc-access-missing"))
    assert line.split()[1:3] == ["critical", "pair"]
    unreachable = next(line for line in run.stdout.splitlines() if line.startswith("sql-private-ip-unreachable"))
    assert unreachable.split()[2] == "target"  # needs no peer: runs in `driftcheck check`


def test_rules_show_prints_condition_fix_and_docs() -> None:
    run = run_cli("rules", "show", "vpc-access-missing")
    assert run.code == 0
    assert "matches: vpc.path (changed)" in run.stdout
    assert "docs: https://cloud.google.com/run/docs/configuring/vpc-connectors" in run.stdout


def test_rules_show_unknown_id_is_an_input_error() -> None:
    run = run_cli("rules", "show", "no-such-rule")
    assert run.code == 2 and "no-such-rule" in run.stderr and run.stderr.count("\n") == 1


def test_user_rule_from_rules_dir_fires(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("api.yaml", "auth.yaml"):
        text = (INCIDENT / name).read_text()
        if name == "api.yaml":
            text = text.replace("autoscaling.knative.dev/minScale: '1'", "autoscaling.knative.dev/minScale: '0'")
        (evidence / name).write_text(text)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "min-instances-lower.yaml").write_text(USER_RULE)
    run = run_cli("compare", "api", "auth", "--from", evidence, "--rules", rules, "--format", "json")
    finding = next(f for f in run.json()["findings"] if f["rule"] == "min-instances-lower")
    assert finding["explanation"] == "api keeps 0 warm instances, auth keeps 1"
    assert finding["remediation"]["gcloud"] == "gcloud run services update api --min-instances 1"
    assert run_cli("rules", "list", "--rules", rules).stdout.count("min-instances-lower") == 1


def test_broken_user_rule_names_file_rule_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(USER_RULE.replace("severity: medium", "severity: urgent"))
    run = run_cli("rules", "list", "--rules", tmp_path)
    assert run.code == 2
    assert "bad.yaml" in run.stderr and "min-instances-lower" in run.stderr and "severity" in run.stderr
    assert run.stderr.count("\n") == 1


def test_rule_with_invalid_cel_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(USER_RULE.replace("change.target < change.baseline", "change.target <"))
    run = run_cli("rules", "list", "--rules", tmp_path)
    assert run.code == 2 and "CEL expression" in run.stderr and "Traceback" not in run.stderr


def test_cel_syntax_error_in_rules_is_one_readable_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(USER_RULE.replace("change.target < change.baseline", "change.target < <"))
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--rules", tmp_path)
    assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "'change.target < <': syntax error at column " in run.stderr
    assert "\\n" not in run.stderr and "^" not in run.stderr  # no escaped caret diagram of the parser's


def test_yaml_alias_bomb_in_a_rule_file_is_refused(tmp_path: Path) -> None:
    bomb = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    (tmp_path / "bad.yaml").write_text(USER_RULE.replace("when:", "vars:\n  " + "\n  ".join(bomb) + "\nwhen:"))
    run = run_cli("rules", "list", "--rules", tmp_path)
    assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "bad.yaml:line " in run.stderr and "YAML alias *a0 is not supported" in run.stderr


def test_a_target_rule_may_not_name_a_single_baseline(tmp_path: Path) -> None:
    """Target rules share a pair's CEL context, where `baseline` is that pair's peer: it must not leak into them."""
    rule = "id: lonely\ntitle: t\nseverity: low\ndescription: d\nscope: target\nexplanation: e\ndocs: https://x\n"
    (tmp_path / "bad.yaml").write_text(rule + "when: baseline.ingress == target.ingress\n")
    run = run_cli("rules", "list", "--rules", tmp_path)
    assert run.code == 2 and "rule lonely: a target-scope rule sees no single baseline" in run.stderr
    (tmp_path / "bad.yaml").write_text(rule + "when: baselines.exists(b, b.ingress != target.ingress)\n")
    assert run_cli("rules", "list", "--rules", tmp_path).code == 0


def test_rules_show_gives_the_status_wordings_and_what_a_rule_folds_into() -> None:
    run = run_cli("rules", "show", "memory-limit-exceeded")
    assert run.code == 0, run.stderr
    assert "scope: status" in run.stdout
    assert "status says (any of):\n  Memory limit of (?P<limit>" in run.stdout
    assert "folds into a finding of: resource-limits-lower" in run.stdout


def test_a_status_rule_without_status_patterns_is_refused(tmp_path: Path) -> None:
    rule = "id: mute\ntitle: t\nseverity: low\nscope: status\nexplanation: e\ndocs: https://x\n"
    (tmp_path / "bad.yaml").write_text(rule)
    run = run_cli("rules", "list", "--rules", tmp_path)
    assert run.code == 2 and "rule mute: status_match" in run.stderr


def test_a_user_rule_naming_a_field_that_does_not_exist_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        USER_RULE.replace("change.target < change.baseline", "target.containers.ingress.memry_bytes < 1")
    )
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--rules", tmp_path)
    assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "bad.yaml: rule min-instances-lower: when: target.containers.ingress.memry_bytes: " in run.stderr
    assert "did you mean memory_bytes?" in run.stderr


def test_rules_schema_prints_the_published_vocabulary() -> None:
    run = run_cli("rules", "schema")
    assert run.code == 0, run.stderr
    refs = run.json()["$defs"]["Refs"]["properties"]
    assert {"sql_attached", "sql_known_in_use", "sql_in_use", "secrets"} <= set(refs) and "sql" not in refs
    page = run_cli("rules", "schema", "--markdown")
    assert page.code == 0 and "### Refs" in page.stdout
    assert "| `sql_in_use` | list of [SqlUse](#sqluse) |" in page.stdout
