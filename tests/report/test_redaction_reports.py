"""No secret value reaches any report, on stdout or in a file, while a change to one is still reported.

fixtures/redaction/ holds two real-format Knative exports, `orders` (failing) and `catalog` (healthy), whose env
values, args and status message carry credentials that differ between the two.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

EVIDENCE = FIXTURES / "redaction"
SECRETS = (
    "hunter2pass", "otherpass99",  # DATABASE_URL passwords (only the password differs)
    "s3cr3tredis", "differentredis",  # REDIS_URL passwords (only the password differs)
    "tok_live_abcdef123456", "tok_live_zyxwvu987654",  # API_TOKEN, also as a Bearer token in the status message
    "plainpassword",  # DB_PASSWORD as a plain value (also inside the baseline's otherplainpassword)
    "argpass771", "argpass882",  # --db-password=... in args
)  # fmt: skip
# Each credential-holding setting differs between the two services: each must still show as a difference.
REDACTED_DIFFERENCES = ("DATABASE_URL", "REDIS_URL", "API_TOKEN", "DB_PASSWORD", "args")
FORMATS = ("table", "json", "markdown")


@pytest.fixture(autouse=True)
def wide_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """160 columns: no path in the table is folded, so a name found in a report is found whole."""
    monkeypatch.setenv("COLUMNS", "160")


def _report(output_format: str, tmp_path: Path | None = None) -> str:
    args = ["compare", "orders", "catalog", "--from", EVIDENCE, "--format", output_format, "--fail-on", "none"]
    if tmp_path is None:
        run = run_cli(*args)
        assert run.code == 0, run.stderr
        return run.stdout
    out = tmp_path / f"report.{output_format}"
    run = run_cli(*args, "--output", out)
    assert run.code == 0 and run.stdout == "", run.stderr
    return out.read_text()


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
@pytest.mark.parametrize("output_format", FORMATS)
def test_no_secret_in_any_report(output_format: str, to_file: bool, tmp_path: Path) -> None:
    report = _report(output_format, tmp_path if to_file else None)
    leaked = [secret for secret in SECRETS if secret in report]
    assert not leaked, f"{output_format} report shows {leaked}"
    assert "[REDACTED]" in report
    assert "[REDACTED:" not in report  # the in-model fingerprint marker never reaches a reader either


@pytest.mark.parametrize("output_format", FORMATS)
def test_changed_secrets_are_still_reported(output_format: str) -> None:
    report = _report(output_format)
    missing = [name for name in REDACTED_DIFFERENCES if name not in report]
    assert not missing, f"{output_format} report lost the change to {missing}"
    assert "10.0.0.6" in report and "10.0.0.5" in report  # a harmless DB_HOST is shown as it is


def test_json_lists_each_redacted_change_with_both_sides_masked() -> None:
    run = run_cli("compare", "orders", "catalog", "--from", EVIDENCE, "--format", "json", "--fail-on", "none")
    changes = {c["path"]: c for c in run.json()["other_differences"]}
    token = changes["containers.ingress.env.API_TOKEN.value"]
    assert (token["kind"], token["baseline"], token["target"]) == ("changed", "[REDACTED]", "[REDACTED]")
    url = changes["containers.ingress.env.DATABASE_URL.value"]
    assert url["target"] == "postgresql://user:[REDACTED]@10.0.0.5:5432/db" == url["baseline"]


@pytest.mark.parametrize("output_format", ["table", "markdown"])
def test_readers_are_told_a_masked_pair_differs(output_format: str) -> None:
    """Two identical-looking masked cells in a list of differences would read as a bug: the report says why."""
    assert "(differs)" in _report(output_format)


def test_status_message_is_redacted_but_kept() -> None:
    run = run_cli("compare", "orders", "catalog", "--from", EVIDENCE, "--format", "json", "--fail-on", "none")
    message = run.json()["status"]["message"]
    assert "postgresql://user:[REDACTED]@10.0.0.5:5432/db" in message
    assert "password=[REDACTED]" in message and "Bearer [REDACTED]" in message
