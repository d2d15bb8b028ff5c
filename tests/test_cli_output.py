"""`-o FILE`: the report goes to the file, and one line on stderr says what was written and the verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conftest import AUDIT_CONFIG, FIXTURES, INCIDENT, Run, run_cli

SEVERITIES = ("critical", "high", "medium", "low", "info")


def _verdict(report_file: Path) -> str:
    """What the line should say of a JSON report: its findings by severity, most severe first."""
    report = json.loads(report_file.read_text())
    found = [f["severity"] for f in report["findings"]]
    counts = [f"{found.count(s)} {s}" for s in SEVERITIES if s in found]
    counts += [f"{len(report['unverified'])} not verified"] if report["unverified"] else []
    return ", ".join(counts) or "no finding"


def _one_line(run: Run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.startswith("wrote ")]
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_compare_to_a_file_says_what_it_wrote_and_the_verdict(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "html", "-o", out)
    assert run.code == 1 and run.stdout == ""
    assert run.stderr == f"wrote {out}: 1 critical, 1 low; exit 1 (--fail-on high)\n"
    assert out.read_text().startswith("<!DOCTYPE html>")
    passing = run_cli("compare", "api", "auth", "--from", INCIDENT, "-o", out, "--fail-on", "none")
    assert passing.code == 0
    assert passing.stderr == f"wrote {out}: 1 critical, 1 low; exit 0 (--fail-on none)\n"


def test_stdout_reports_leave_stderr_empty() -> None:
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "json")
    assert run.stderr == "" and run.json()["findings"]


def test_drift_to_a_file_says_what_it_wrote_and_the_verdict(tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    state = FIXTURES / "terraform" / "staging.tfstate"
    run = run_cli("drift", "--state", state, "--from", INCIDENT, "--format", "json", "-o", out, "--fail-on", "critical")
    assert run.code == 1
    assert _one_line(run) == f"wrote {out}: {_verdict(out)}; exit 1 (--fail-on critical)"
    assert "critical" in _verdict(out)


def test_audit_to_a_file_says_what_it_wrote_and_the_verdict(tmp_path: Path, audit_server: Any) -> None:
    out = tmp_path / "audit.json"
    args = ("--endpoint", audit_server.address, "--no-history", "--format", "json", "-o", out)
    run = run_cli("audit", "--config", AUDIT_CONFIG, *args)
    assert run.code in (0, 1), run.stderr
    line = _one_line(run)
    assert line == f"wrote {out}: {_verdict(out)}; exit {run.code} (fail_on = high in the configuration)"
    assert re.search(r": \d+ (critical|high|medium|low|info)", line)
