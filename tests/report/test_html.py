"""`--format html`: a self-contained page whose findings are the JSON report's, in its order, with every evidence
value escaped, no secret and no remote resource; and which a real headless Chromium renders."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from test_redaction_reports import SECRETS
from test_sarif import _incomplete, _secret_findings

from driftcheck.report import html as html_report
from driftcheck.report.document import display, display_path
from driftcheck.ruleset.findings import Evidence, Finding, Result

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Attributes through which a browser fetches something on its own, without a click.
RESOURCE_ATTRIBUTES = {("link", "href"), ("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
                       ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}  # fmt: skip


class Page(HTMLParser):
    """What a reader sees, as data: the findings in order, their evidence rows, every tag and all the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.findings: list[dict[str, Any]] = []  # {"rule", "open", "badge", "rows": [[cell, ...], ...]}
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._in: list[tuple[str, str]] = []  # open elements (tag, badge/evidence/""): what text belongs to
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "details" and "finding" in classes:
            self.findings.append(
                {"rule": attributes["data-rule"], "open": "open" in attributes, "badge": "", "rows": []}
            )
        elif tag == "tr" and self.findings and self._in_evidence:
            self.findings[-1]["rows"].append([])
        elif tag == "td" and self.findings and self._in_evidence:
            self._cell = []
        if tag not in VOID:
            self._in.append((tag, "badge" if "badge" in classes else "evidence" if "evidence" in classes else ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.findings[-1]["rows"][-1].append("".join(self._cell))
            self._cell = None
        while self._in and self._in.pop()[0] != tag:
            pass  # an element HTML lets one leave open (<li>, <p>) is closed by its parent's end

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in and self._in[-1][1] == "badge":
            self.findings[-1]["badge"] += data

    @property
    def _in_evidence(self) -> bool:
        return any(marker == "evidence" for _, marker in self._in)

    def all_text(self) -> str:
        return "".join(self.text)


def _html(*args: str | Path) -> str:
    run = run_cli("compare", *args, "--format", "html", "--fail-on", "none")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("<!DOCTYPE html>")
    return run.stdout


def _json(*args: str | Path) -> dict[str, Any]:
    run = run_cli("compare", *args, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


def test_findings_in_the_json_reports_order() -> None:
    page, report = Page(_html("api", "auth", "--from", INCIDENT)), _json("api", "auth", "--from", INCIDENT)
    assert [f["rule"] for f in page.findings] == [f["rule"] for f in report["findings"]]
    assert len(page.findings) == 2  # one cause, one finding: the VPC path and the instance it cannot reach
    assert [f["badge"] for f in page.findings] == [f["severity"].upper() for f in report["findings"]]
    assert [f["open"] for f in page.findings] == [True, False]  # the most likely cause is open


def test_evidence_side_by_side() -> None:
    page, report = Page(_html("api", "auth", "--from", INCIDENT)), _json("api", "auth", "--from", INCIDENT)
    for shown, finding in zip(page.findings, report["findings"], strict=True):
        rows = shown["rows"][1:]  # the first row is the header
        assert len(rows) == len(finding["evidence"]), finding["rule"]
        for row, evidence in zip(rows, finding["evidence"], strict=True):
            values = [display(evidence["baseline"]), display(evidence["target"])]
            assert row[:3] == [display_path(evidence["path"]), *values]
            assert evidence["source"]["target"] in row[3]


def test_status_summary_and_fix() -> None:
    text = Page(_html("api", "auth", "--from", INCIDENT)).all_text()
    assert "api is NOT READY; latest created revision api-00042-fix, latest ready api-00041-bop" in text
    assert "HEALTH_CHECK_CONTAINER_ERROR" in text and "traffic: 100% → api-00041-bop" in text
    assert "the last deploy failed" in text
    assert "gcloud run services update api --region us-central1 --project netra-staging --vpc-connector" in text


def test_hostile_values_show_literally() -> None:
    hostile = '<script>alert("x")</script>'
    evidence = Evidence("env.[bold]X[/bold]", hostile, "<img src=x onerror=alert(1)>", "a.yaml:x", "b.yaml:x")
    finding = Finding("r<b>", "high", "<i>title</i> & co", "why </details>", (evidence,), {"gcloud": "a && b < c"}, "d")
    page = Page(html_report.render(Result("<api>", ("auth",), {}, (finding,))))
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "img", "i", "b"})
    assert page.findings[0]["rows"][1][:3] == ["env.[bold]X[/bold]", hostile, "<img src=x onerror=alert(1)>"]
    text = page.all_text()
    assert all(s in text for s in ("<i>title</i> & co", "why </details>", "a && b < c", "driftcheck: <api>"))


@pytest.mark.parametrize("evidence", ["redaction", "secret-findings"])
def test_no_secret(evidence: str, tmp_path: Path) -> None:
    folder = FIXTURES / "redaction" if evidence == "redaction" else _secret_findings(tmp_path)
    text = _html("orders", "catalog", "--from", folder)
    assert not [secret for secret in SECRETS if secret in text]
    assert "[REDACTED]" in text


def test_nothing_loaded_from_the_network(tmp_path: Path) -> None:
    for text in (_html("api", "auth", "--from", INCIDENT), _html("api", "auth", "--from", _incomplete(tmp_path))):
        page = Page(text)
        loaded = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items()
                  if (tag, name) in RESOURCE_ATTRIBUTES and value]  # fmt: skip
        assert not loaded
        assert "url(" not in text and "@import" not in text  # nor from the inline CSS
        assert any(tag == "a" and (a.get("href") or "").startswith("https://") for tag, a in page.tags)  # docs links


def test_incomplete_banner_and_unverified(tmp_path: Path) -> None:
    evidence = _incomplete(tmp_path)
    page, report = Page(_html("api", "auth", "--from", evidence)), _json("api", "auth", "--from", evidence)
    assert report["incomplete"] and report["unverified"]
    assert ("div", {"class": "banner", "role": "alert"}) in page.tags
    items = [a for tag, a in page.tags if tag == "ul" and a.get("class") == "unverified"]
    assert len(items) == 1
    for unverified in report["unverified"]:
        assert unverified["reason"] in page.all_text()
    complete = Page(_html("api", "auth", "--from", INCIDENT))
    assert not [a for tag, a in complete.tags if a.get("class") == "banner"]


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]  # fmt: skip
    return subprocess.run([binary, *flags, *args, page.as_uri()], capture_output=True, timeout=120, check=False)


@pytest.mark.slow  # a real browser
def test_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "incident.html"
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "html", "-o", page)
    assert run.code == 1, run.stderr  # the critical finding; the file is written all the same
    dumped = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Page(dumped.stdout.decode())
    rules = [f["rule"] for f in _json("api", "auth", "--from", INCIDENT)["findings"]]
    assert [f["rule"] for f in dom.findings] == rules
    assert "NOT READY" in dom.all_text()
    screenshot = _screenshot_path(tmp_path)
    shot = _chromium(page, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000  # a blank 1280x2000 page is a few kB


@pytest.mark.slow
def test_an_audit_with_changes_renders_in_headless_chromium(tmp_path: Path) -> None:
    """The nightly report: two audits of the fake world around a change, the second one opened in a browser."""
    from fakegcp import FakeGcpServer, World
    from google.cloud import run_v2

    config = FIXTURES / "audit-live" / "driftcheck.toml"
    page = tmp_path / "audit.html"
    with FakeGcpServer(World.from_folder(FIXTURES / "audit-live" / "world")) as server:
        args = ("audit", "--config", config, "--endpoint", server.address, "--history", tmp_path / "h")
        assert run_cli(*args).code == 1
        ledger = server.world.services["projects/netra-staging/locations/us-central1/services/ledger-eu"]
        ledger.template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY
        assert run_cli(*args, "--format", "html", "-o", page).code == 1
        report = run_cli(*args, "--format", "json", "--no-history").json()
    dumped = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Page(dumped.stdout.decode())
    assert [f["rule"] for f in dom.findings] == [f["rule"] for f in report["findings"]]
    subjects = [a.get("data-subject") for tag, a in dom.tags if tag == "details" and "data-subject" in a]
    assert subjects == [f["subject"] for f in report["findings"]]
    text = dom.all_text()
    assert "Changes since the previous snapshot" in text and "netra-staging/us-central1/ledger-eu" in text
    screenshot = _screenshot_path(tmp_path, "audit-html.png")
    shot = _chromium(page, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)


def _screenshot_path(tmp_path: Path, name: str = "incident-html.png") -> Path:
    """tests/report/artifacts/ (gitignored) for CI to keep; tmp_path when the checkout is read-only."""
    folder = Path(__file__).parent / "artifacts"
    try:
        folder.mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("*\n")
    except OSError:
        folder = tmp_path
    return folder / name
