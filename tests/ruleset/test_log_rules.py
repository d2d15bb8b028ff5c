"""Recent logs as evidence: signatures (kinds/logs/), `log_match` rules (ruleset/logs.py), and the reports.

The wordings below are the ones Cloud Run and the common runtimes write. The target of each is the healthy `auth` of
the bundled incident renamed `auth-canary`, with no configuration difference from `auth`: only its logs can explain a
finding. `auth` keeps the incident's ordinary warnings (fixtures/incident/auth.logs.json).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, INCIDENT, run_cli

from driftcheck.kinds.logs import SNAPSHOT_KEY, ServiceLogs, normalise
from driftcheck.sources.evidence import load_evidence

SYSTEM, REQUESTS, STDERR = "varlog%2Fsystem", "requests", "stderr"
START = "2026-11-28T23:0{}:1{}.000Z"


def _key(service: str) -> str:
    """Where the evidence keeps a service's logs: its full name (a name is unique only within a region)."""
    return f"projects/netra-staging/locations/us-central1/services/{service}"


def _entry(service: str, text: str | None, log: str, index: int = 0, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "insertId": f"{service}-{log}-{index}",
        "logName": f"projects/netra-staging/logs/run.googleapis.com%2F{log}",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "service_name": service,
                "revision_name": f"{service}-00018-abc",
                "location": "us-central1",
                "project_id": "netra-staging",
                "configuration_name": service,
            },
        },
        "timestamp": START.format(index % 10, index % 10),
        "severity": extra.pop("severity", "ERROR"),
        **extra,
    }
    if text is not None:
        entry["textPayload"] = text
    return entry


def _evidence(tmp_path: Path, lines: list[dict[str, Any]], *, copies: int = 5, peer_too: bool = False) -> Path:
    """The incident without api, and auth-canary (auth, renamed) logging each line `copies` times; auth keeps its
    ordinary warnings."""
    folder = shutil.copytree(INCIDENT, tmp_path / "evidence", ignore=shutil.ignore_patterns("api.*", "*.logs.json"))
    service = yaml.safe_load((INCIDENT / "auth.yaml").read_text())
    service["metadata"]["name"] = "auth-canary"
    (folder / "auth-canary.yaml").write_text(yaml.safe_dump(service, sort_keys=False))
    entries = [{**line, "insertId": f"{n}-{i}"} for i in range(copies) for n, line in enumerate(lines)]
    for i, entry in enumerate(entries):
        entry["timestamp"] = START.format(i % 10, i % 10)
    (folder / "auth-canary.logs.json").write_text(json.dumps(entries))
    peer = json.loads((INCIDENT / "auth.logs.json").read_text())
    if peer_too:
        peer += [_relabelled(e, "auth") for e in entries]
    (folder / "auth.logs.json").write_text(json.dumps(peer))
    return folder


def _relabelled(entry: dict[str, Any], service: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(entry))
    copy["resource"]["labels"]["service_name"] = service
    return copy


def _compare(folder: Path, *extra: str, fmt: str = "json") -> Any:
    run = run_cli("compare", "auth-canary", "auth", "--from", folder, "--format", fmt, "--fail-on", "none", *extra)
    assert run.code == 0, run.stderr
    return run.json() if fmt == "json" else run.stdout


def _said(finding: dict[str, Any]) -> str:
    return " ".join([finding["explanation"], *finding["confirmations"]])


# (rule the logs name, the entry, words the finding must say)
WORDINGS = [
    ("memory-limit-exceeded",
     _entry("auth-canary", "Memory limit of 512 MiB exceeded with 540 MiB used. Consider increasing the memory "
            "limit, see https://cloud.google.com/run/docs/configuring/memory-limits", SYSTEM),
     "it needed at least 540 MiB against a limit of 512 MiB"),
    ("memory-limit-exceeded",
     _entry("auth-canary", "Memory limit of 256M exceeded with 258M used. Consider increasing the memory limit.",
            SYSTEM), "at least 258M against a limit of 256M"),
    ("request-timeout-reached",
     _entry("auth-canary", "The request has been terminated because it has reached the maximum request timeout. To "
            "change this limit, see https://cloud.google.com/run/docs/configuring/request-timeout", REQUESTS,
            httpRequest={"requestMethod": "POST", "requestUrl": "https://auth-canary-x7kq2p4vda-uc.a.run.app/v1/export",
                         "status": 504, "latency": "3600.001873s"}),
     "request timeout of 3600 s"),
    ("request-timeout-reached",
     _entry("auth-canary", None, REQUESTS, httpRequest={
         "requestMethod": "GET", "requestUrl": "https://auth-canary-x7kq2p4vda-uc.a.run.app/v1/report?id=7",
         "status": 504, "latency": "3599.998s"}),
     "the longest took 3599.998 s"),
    ("startup-slower-than-probe",
     _entry("auth-canary", 'Default STARTUP TCP probe failed 1 time consecutively for container "auth-1" on port '
            "8080. The instance was not started.", SYSTEM),
     "did not pass the Default STARTUP TCP probe on port 8080"),
    ("startup-slower-than-probe",
     _entry("auth-canary", 'STARTUP HTTP probe failed 3 times consecutively for container "auth-1" on path '
            '"/healthz". The instance was not started.', SYSTEM), "on path /healthz"),
    ("connection-refused-or-timeout",
     _entry("auth-canary", "Error: connect ETIMEDOUT 10.20.0.3:5432\n    at TCPConnectWrap.afterConnect [as "
            "oncomplete] (node:net:1607:16)", STDERR),
     "to Cloud SQL staging-shared-postgres (10.20.0.3:5432) time out"),
    ("connection-refused-or-timeout",
     _entry("auth-canary", "Error: connect ECONNREFUSED 10.20.0.3:5432", STDERR),
     "to Cloud SQL staging-shared-postgres (10.20.0.3:5432) are refused"),
    ("connection-refused-or-timeout",
     _entry("auth-canary", 'Traceback (most recent call last):\n  File "/app/db.py", line 12, in connect\n    '
            "conn = psycopg2.connect(dsn)\npsycopg2.OperationalError: could not connect to server: Connection timed "
            'out\n\tIs the server running on host "10.20.0.3" and accepting\n\tTCP/IP connections on port 5432?',
            STDERR),
     "'psycopg2.OperationalError: could not connect to server: Connection timed out'"),
    ("connection-refused-or-timeout",
     _entry("auth-canary", "com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure\n\n"
            "The last packet sent successfully to the server was 0 milliseconds ago.", STDERR),
     "Communications link failure"),
    ("connection-refused-or-timeout",
     _entry("auth-canary", "failed to connect: dial tcp 10.0.0.3:6379: i/o timeout", STDERR),
     "10.0.0.3:6379 time out"),
    ("secret-access-denied-at-runtime",
     _entry("auth-canary", "google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions."
            "access' denied for resource 'projects/netra-staging/secrets/stripe-key/versions/latest' (or it may "
            "not exist).", STDERR),
     "may not read secret projects/netra-staging/secrets/stripe-key"),
    ("secret-access-denied-at-runtime",
     _entry("auth-canary", "Error: 7 PERMISSION_DENIED: Permission 'secretmanager.versions.access' denied for "
            "resource 'projects/netra-staging/secrets/db-password/versions/latest' (or it may not exist).", STDERR),
     "secret projects/netra-staging/secrets/db-password"),
]  # fmt: skip
CRASH = [
    _entry("auth-canary", "Container called exit(1).", SYSTEM, severity="WARNING"),
    _entry("auth-canary", 'Traceback (most recent call last):\n  File "/app/main.py", line 4, in <module>\n    '
           "DSN = os.environ['DATABASE_URL']\nKeyError: 'DATABASE_URL'", STDERR),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "entry", "said"), WORDINGS, ids=[f"{w[0]}-{i}" for i, w in enumerate(WORDINGS)])
def test_each_log_wording_names_its_cause_first(tmp_path: Path, rule: str, entry: dict[str, Any], said: str) -> None:
    report = _compare(_evidence(tmp_path, [entry]))
    first = report["findings"][0]
    assert first["rule"] == rule, [f["rule"] for f in report["findings"]]
    assert said in _said(first), _said(first)
    assert "5 × " in _said(first)  # the signature's count, not one line
    assert not first["status_quote"]  # the logs said it, not the status
    assert first["docs"].startswith("https://cloud.google.com/")
    # one cause, one finding
    assert [f["rule"] for f in report["findings"]].count(rule) == 1
    # a fix, when there is one, is a whole command: nothing left unrendered or unknown
    for kind, text in first["remediation"].items():
        assert not re.search(r"\{\{|\bNone\b|\bunknown\b|\[REDACTED\]", text), (kind, text)
        assert kind != "gcloud" or text.startswith("gcloud "), text


def test_a_crash_loop_quotes_the_start_up_exception(tmp_path: Path) -> None:
    report = _compare(_evidence(tmp_path, CRASH, copies=4))
    first = report["findings"][0]
    assert first["rule"] == "crash-loop" and first["severity"] == "high"
    assert "4 × 'Container called exit(1).'" in first["explanation"]
    assert "KeyError: 'DATABASE_URL' (4 ×)" in first["explanation"]


def test_what_the_peer_logs_too_is_no_cause(tmp_path: Path) -> None:
    entries = [w[1] for w in WORDINGS if w[0] != "memory-limit-exceeded"]
    report = _compare(_evidence(tmp_path, entries, peer_too=True))
    logged = {"request-timeout-reached", "startup-slower-than-probe", "connection-refused-or-timeout",
              "secret-access-denied-at-runtime", "crash-loop"}  # fmt: skip
    assert not logged & {f["rule"] for f in report["findings"]}
    (target, peer) = report["logs"]
    assert target["service"] == "auth-canary" and peer["service"] == "auth"
    assert all(s["in_peers"] == 1 for s in target["signatures"])


def _request(path: str, status: int, latency: str) -> dict[str, Any]:
    url = f"https://auth-canary-x7kq2p4vda-uc.a.run.app{path}"
    return _entry("auth-canary", None, REQUESTS, httpRequest={"requestMethod": "GET", "requestUrl": url,
                  "status": status, "latency": latency})  # fmt: skip


def test_a_rule_asks_each_signature_it_finds_until_one_holds(tmp_path: Path) -> None:
    # Quick 504s (an upstream's, not the timeout) outnumber the requests cut at the 3600 s timeout: the rule's `when`
    # rejects the first signature its patterns find, and holds for the second.
    quick = [_request(f"/v1/items/{n}", 504, "0.4s") for n in (1, 2)]
    report = _compare(_evidence(tmp_path, [*quick, _request("/v1/export", 504, "3599.998s")]))
    signatures = report["logs"][0]["signatures"]
    assert [(s["signature"], s["count"]) for s in signatures[:2]] == [
        ("HTTP 504 GET /v1/items/<n>", 10),
        ("HTTP 504 GET /v1/export", 5),
    ]
    timeouts = [f for f in report["findings"] if f["rule"] == "request-timeout-reached"]
    assert len(timeouts) == 1  # one cause, one finding: the first signature that holds, not each
    assert "5 × 'HTTP 504 GET /v1/export" in timeouts[0]["explanation"]
    assert "the longest took 3599.998 s" in timeouts[0]["explanation"]
    assert "/v1/items/" not in _said(timeouts[0])


def test_no_signature_that_holds_is_no_finding(tmp_path: Path) -> None:
    report = _compare(_evidence(tmp_path, [_request(f"/v1/items/{n}", 504, "0.4s") for n in (1, 2)]))
    assert "request-timeout-reached" not in {f["rule"] for f in report["findings"]}


def test_a_few_timeouts_are_noise(tmp_path: Path) -> None:
    report = _compare(_evidence(tmp_path, [WORDINGS[6][1]], copies=2))
    assert "connection-refused-or-timeout" not in {f["rule"] for f in report["findings"]}


def test_memory_exceeded_in_the_logs_ranks_first_without_any_config_difference(tmp_path: Path) -> None:
    report = _compare(_evidence(tmp_path, [WORDINGS[0][1]]))
    assert report["other_differences"] == []  # nothing but the logs tells the two apart
    first = report["findings"][0]
    assert (first["rule"], first["severity"]) == ("memory-limit-exceeded", "high")
    assert first["evidence"][-1]["path"] == "logs of auth-canary"
    assert first["evidence"][-1]["target"].startswith("Memory limit of 512 MiB exceeded with 540 MiB used")
    assert any(c.startswith("logs of auth-canary: 5 × 'Memory limit of 512 MiB") for c in first["confirmations"])


def test_healthy_services_with_ordinary_warnings_raise_nothing_above_low(tmp_path: Path) -> None:
    folder = shutil.copytree(FIXTURES / "rules" / "healthy-pair", tmp_path / "healthy")
    names = [yaml.safe_load((folder / f).read_text())["metadata"]["name"] for f in ("target.yaml", "baseline.yaml")]
    ordinary = [
        ("WARNING", STDERR, "(node:1) [DEP0040] DeprecationWarning: The `punycode` module is deprecated."),
        ("WARNING", "stdout", "slow query: 1204 ms (SELECT * FROM orders WHERE id = 4411)"),
        ("ERROR", STDERR, "Error: Request failed with status code 404 (GET https://api.example.com/v1/users/99)"),
        ("WARNING", SYSTEM, "Starting new instance. Reason: AUTOSCALING - Instance started due to configured "
                            "scaling factors (e.g. CPU utilization, request throughput, etc.)."),
    ]  # fmt: skip
    for name in names:
        entries = [_entry(name, text, log, i, severity=severity) for i in range(6) for severity, log, text in ordinary]
        entries += [_entry(name, None, REQUESTS, i, severity="WARNING", httpRequest={
            "requestMethod": "GET", "requestUrl": f"https://{name}.a.run.app/missing", "status": 404,
            "latency": "0.002s"}) for i in range(4)]  # fmt: skip
        (folder / f"{name}.logs.json").write_text(json.dumps(entries))
    run = run_cli("compare", folder / "target.yaml", folder / "baseline.yaml", "--from", folder, "--format", "json")
    assert run.code == 0, run.stderr
    report = run.json()
    assert {f["severity"] for f in report["findings"]} <= {"low", "info"}
    assert len(report["logs"]) == 2 and report["logs"][0]["entries"] == 28


def test_the_incident_quotes_its_timeouts_under_the_missing_vpc_path() -> None:
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "json")
    report = run.json()
    first = report["findings"][0]
    assert first["rule"] == "vpc-access-missing"
    assert (
        "logs of api: 37 × 'Error: connect ETIMEDOUT 10.20.0.3:5432' since 23:02 UTC, to Cloud SQL "
        "staging-shared-postgres (10.20.0.3:5432); no compared peer logs it" in first["confirmations"]
    )
    assert "connection-refused-or-timeout" in first["corroborated_by"]
    assert "connection-refused-or-timeout" not in {f["rule"] for f in report["findings"]}
    api, auth = report["logs"]
    top = api["signatures"][0]
    assert (top["count"], top["signature"], top["in_peers"]) == (37, "Error: connect ETIMEDOUT <ip>:<port>", 0)
    assert top["destination"] == "Cloud SQL staging-shared-postgres (10.20.0.3:5432)"
    assert api["signatures"][1]["signature"] == "HTTP 504 GET /v1/orders/<n>" and api["signatures"][1]["count"] == 12
    assert auth["entries"] == 10 and report["incomplete"] is False


def test_reports_show_signatures_compactly() -> None:
    for fmt in ("table", "markdown"):
        run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", fmt, "--fail-on", "none")
        assert "Recent logs (top signatures" in run.stdout
        assert "◆ 37 × ERROR app: Error: connect ETIMEDOUT 10.20.0.3:5432" in run.stdout
        assert "(23:02 – 23:38 UTC)" in run.stdout


def test_without_logs_nothing_is_said_of_them_and_nothing_is_incomplete(tmp_path: Path) -> None:
    folder = shutil.copytree(INCIDENT, tmp_path / "incident", ignore=shutil.ignore_patterns("*.logs.json"))
    report = run_cli("compare", "api", "auth", "--from", folder, "--format", "json", "--fail-on", "none").json()
    assert report["logs"] == [] and report["incomplete"] is False
    assert not [c for f in report["findings"] for c in f["confirmations"] if c.startswith("logs of")]


def test_peer_logs_that_are_not_in_the_evidence_are_unknown_not_quiet(tmp_path: Path) -> None:
    folder = shutil.copytree(INCIDENT, tmp_path / "incident", ignore=shutil.ignore_patterns("auth.logs.json"))
    report = run_cli("compare", "api", "auth", "--from", folder, "--format", "json", "--fail-on", "none").json()
    auth = report["logs"][1]
    assert auth["known"] is False and "gcloud logging read" in auth["reason"]
    assert report["logs"][0]["signatures"][0]["in_peers"] is None
    assert "no compared peer logs it" not in " ".join(report["findings"][0]["confirmations"])


# --- never leak through logs -----------------------------------------------------------------------------------

SECRETS = ("hunter2", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
           "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY")  # fmt: skip


def test_a_credential_in_a_log_line_never_appears_in_any_format(tmp_path: Path) -> None:
    password, token, key = SECRETS
    lines = [
        _entry("auth-canary", f"db connect failed: host=10.20.0.3 user=app password={password} ETIMEDOUT", STDERR),
        _entry("auth-canary", f"upstream call rejected, sent Authorization: Bearer {token}", STDERR),
        _entry(
            "auth-canary",
            f"Error: connect ECONNREFUSED 10.0.0.9:443 (GET https://maps.example.com/geo?key={key})",
            STDERR,
        ),
        _entry(
            "auth-canary",
            None,
            REQUESTS,
            httpRequest={
                "requestMethod": "GET",
                "status": 502,
                "latency": "0.1s",
                "requestUrl": f"https://auth-canary-x7kq2p4vda-uc.a.run.app/v1/geo?key={key}&token={token}",
            },
        ),
    ]
    folder = _evidence(tmp_path, lines)
    for fmt in ("table", "json", "markdown", "sarif", "junit", "html"):
        output = _compare(folder, fmt=fmt) if fmt != "json" else json.dumps(_compare(folder))
        assert "auth-canary" in output, fmt
        for secret in SECRETS:
            assert secret not in output, (fmt, secret)
    report = _compare(folder)
    examples = [s["example"] for s in report["logs"][0]["signatures"]]
    assert "db connect failed: host=10.20.0.3 user=app password=[REDACTED] ETIMEDOUT" in examples
    assert "HTTP 502 GET /v1/geo" in examples  # the query string dropped whole


# --- the kind ----------------------------------------------------------------------------------------------------


def test_signatures_keep_the_words_and_drop_the_particulars() -> None:
    assert normalise("connect ETIMEDOUT 10.20.0.3:5432") == "connect ETIMEDOUT <ip>:<port>"
    assert (
        normalise(
            "2026-11-28T23:02:07.118Z req 3f1c6a2e-52be-4b7c-9d6e-0c1f9b8a7d21 by jane@netra.example took 1204 ms"
        )
        == "<time> req <uuid> by <email> took <n> ms"
    )
    assert normalise("trace 4bf92f3577b34da6a3ce929d0e0e4736 at 0x7f3a") == "trace <hex> at <hex>"


def test_a_long_export_is_read_entry_by_entry(tmp_path: Path) -> None:
    entries = [_entry("api", f"Error: connect ETIMEDOUT 10.20.0.{i % 3}:5432", STDERR, i) for i in range(3000)]
    entries += [_entry("auth", "slow query: 12 ms", STDERR, 1, severity="WARNING")]
    path = tmp_path / "all.logs.json"
    path.write_text(json.dumps(entries, indent=1))
    inventory = load_evidence([path])
    api: ServiceLogs = inventory.of("log_entries")[_key("api")]
    (signature,) = api.signatures.values()
    assert (api.entries, signature.count, signature.severity) == (3000, 3000, "ERROR")
    assert signature.addresses == {"10.20.0.0:5432": 1000, "10.20.0.1:5432": 1000, "10.20.0.2:5432": 1000}
    assert (signature.first, signature.last) == ("2026-11-28T23:00:10.000Z", "2026-11-28T23:09:19.000Z")
    assert inventory.of("log_entries")[_key("auth")].entries == 1


@pytest.mark.parametrize("key", [_key, str], ids=["full-name", "short-name-of-an-earlier-version"])
def test_a_snapshot_holds_the_same_entries_or_the_error(tmp_path: Path, key: Callable[[str], str]) -> None:
    sample = json.loads((INCIDENT / "api.logs.json").read_text())
    snapshot = {
        "driftcheck_snapshot": 1,
        "scope": {"project": "netra-staging", "regions": ["us-central1"]},
        "services": [],
        SNAPSHOT_KEY: {
            key("api"): sample,
            key("auth"): {"error": "PERMISSION_DENIED: denied; needs logging.logEntries.list (roles/logging.viewer)"},
        },
    }
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot))
    inventory = load_evidence([path])
    from_file = load_evidence([INCIDENT / "api.logs.json"]).of("log_entries")[_key("api")]
    from_snapshot = inventory.of("log_entries")[_key("api")]
    assert from_snapshot.signatures == from_file.signatures and from_snapshot.entries == 52
    assert [logs.service for logs in inventory.of("log_entries").values()] == ["api"]
    assert inventory.errors[f"{SNAPSHOT_KEY}:{_key('auth')}"].startswith("PERMISSION_DENIED")


def test_an_entry_that_names_no_service_is_an_input_error(tmp_path: Path) -> None:
    entry = _entry("api", "x", STDERR)
    del entry["resource"]["labels"]["service_name"]
    (tmp_path / "bad.logs.json").write_text(json.dumps([entry]))
    run = run_cli("compare", "api", "--from", tmp_path, "--format", "json")
    assert run.code == 2 and "resource.labels.service_name" in run.stderr
