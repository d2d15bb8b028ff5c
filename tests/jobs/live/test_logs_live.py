"""Recent log entries read live (sources/live/logs.py): the real google-cloud-logging client, over real gRPC, against
the fake's ListLogEntries (tests/fakegcp/logs.py), which filters, orders and pages the world's `*.logs.json`."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT, run_cli
from fakegcp import FakeGcpServer, World
from google.cloud import run_v2

from driftcheck.sources.live.logs import LOG_ENTRIES, MAX_ENTRIES, log_filter

WORLD = FIXTURES / "incident-live"
PROJECT = "netra-staging"
SCOPE = ("--project", PROJECT, "--region", "us-central1")
SYSTEM_LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Fvarlog%2Fsystem"
REQUESTS_LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests"
APP_LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr"
MEMORY = (
    "Memory limit of 512 MiB exceeded with 540 MiB used. Consider increasing the memory limit, see "
    "https://cloud.google.com/run/docs/configuring/memory-limits"
)
PASSWORD = "hunter2-Pl4nted"
API, AUTH = (f"projects/{PROJECT}/locations/us-central1/services/{name}" for name in ("api", "auth"))
NOW = datetime.now(UTC)


def entry(
    service: str, minutes_ago: float, severity: str = "ERROR", *, log: str = APP_LOG, revision: str = "", **payload: Any
) -> dict[str, Any]:
    """One LogEntry as `gcloud logging read --format=json` writes it."""
    when = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    labels = {"service_name": service, "revision_name": revision or f"{service}-00001-abc",
              "location": "us-central1", "project_id": PROJECT, "configuration_name": service}  # fmt: skip
    return {"insertId": f"{service}-{minutes_ago}", "logName": log, "receiveTimestamp": when, "severity": severity,
            "resource": {"type": "cloud_run_revision", "labels": labels}, "timestamp": when, **payload}  # fmt: skip


FAILED_REQUEST = {"requestMethod": "GET", "status": 503, "requestUrl": "https://api.example.com/v1/orders?token=abc",
                  "latency": "0.012s"}  # fmt: skip


def api_logs() -> list[dict[str, Any]]:
    return [
        entry("api", 9, log=SYSTEM_LOG, revision="api-00042-fix", textPayload=MEMORY),  # the latest revision's
        entry("api", 4, log=REQUESTS_LOG, severity="INFO", httpRequest=FAILED_REQUEST),  # 5xx, whatever its severity
        entry("api", 5, "WARNING", jsonPayload={"message": "login retry", "password": PASSWORD}),
        entry("api", 6, "ERROR", textPayload=f"psql: connecting with password={PASSWORD} failed"),
        entry("api", 7, "INFO", textPayload="GET /healthz 200"),  # below WARNING: not asked for
        entry("api", 8, log=REQUESTS_LOG, severity="INFO", httpRequest={"requestMethod": "GET", "status": 200}),
        entry("api", 150, "ERROR", textPayload="an error of long ago"),  # before the default hour
        entry("auth", 2, "ERROR", textPayload="auth's own error"),
    ]


def world_folder(tmp_path: Path, logs: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(WORLD, folder)
    (folder / "recent.logs.json").write_text(json.dumps(logs, indent=1))
    return folder


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeGcpServer]:
    with FakeGcpServer(World.from_folder(world_folder(tmp_path, api_logs()))) as fake:
        yield fake


def live(server: FakeGcpServer, *args: str) -> Any:
    return run_cli("compare", *args, *SCOPE, "--endpoint", server.address, "--format", "json")


def snapshot(server: FakeGcpServer, out: Path, *args: str) -> dict[str, Any]:
    run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", out, *args)
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text()))


def window_start(text: str) -> datetime:
    found = re.search(r'timestamp>="([^"]+)"', text)
    assert found, text
    return datetime.fromisoformat(found[1].replace("Z", "+00:00"))


def test_the_query_names_the_service_its_region_and_the_time_window(server: FakeGcpServer) -> None:
    asked = datetime.now(UTC)
    run = live(server, "api", "auth", "--since", "2h")
    assert run.code in (0, 1), run.stderr
    requests = sorted(server.log_requests, key=lambda r: r.filter)
    assert len(requests) == 2  # one query per compared service
    for request, service in zip(requests, ("api", "auth"), strict=True):
        assert list(request.resource_names) == [f"projects/{PROJECT}"]
        assert f'resource.labels.service_name="{service}"' in request.filter
        assert 'resource.labels.location="us-central1"' in request.filter
        assert 'resource.type="cloud_run_revision"' in request.filter
        assert "severity>=WARNING" in request.filter
        assert f'logName="{REQUESTS_LOG}" AND httpRequest.status>=500' in request.filter
        assert abs(window_start(request.filter) - (asked - timedelta(hours=2))) < timedelta(minutes=1)
        assert request.order_by == "timestamp desc" and request.page_size == MAX_ENTRIES
    assert "log_entries" not in " ".join(run.json()["notes"])  # every query answered: nothing to say


def test_the_default_window_is_one_hour_and_a_bad_duration_is_an_input_error(server: FakeGcpServer) -> None:
    asked = datetime.now(UTC)
    live(server, "api", "auth")
    assert {abs(window_start(r.filter) - (asked - timedelta(hours=1))) < timedelta(minutes=1)
            for r in server.log_requests} == {True}  # fmt: skip
    calls = server.call_count
    for args in (("--since", "5x"), ("--since", "0m"), ("--since", "1h", "--no-logs")):
        run = live(server, "api", "auth", *args)
        assert run.code == 2 and "--since" in run.stderr, (args, run.stderr)
    assert server.call_count == calls  # refused before any call
    offline = run_cli("compare", "api", "auth", "--from", WORLD, "--no-logs")
    assert offline.code == 2 and "live logs" in offline.stderr


def test_a_snapshot_holds_each_services_entries_as_gcloud_writes_them_redacted(
    server: FakeGcpServer, tmp_path: Path
) -> None:
    out = tmp_path / "snapshot.json"
    data = snapshot(server, out)
    stored = data["log_entries"]
    assert sorted(stored) == [API, AUTH]  # by full name: a name is unique only within a region
    api = stored[API]
    # WARNING and above, and the 503 logged at INFO; not the INFO lines, not the entry of 150 minutes ago
    # the latest created revision's (the failed deploy's) first, though older; then the rest, newest first
    assert [e["insertId"] for e in api] == ["api-9", "api-4", "api-5", "api-6"]
    memory = api[0]
    assert memory["textPayload"] == MEMORY and memory["logName"] == SYSTEM_LOG
    assert memory["resource"]["labels"]["service_name"] == "api" and memory["severity"] == "ERROR"
    assert api[1]["httpRequest"]["status"] == 503 and api[1]["httpRequest"]["requestMethod"] == "GET"
    assert [e["insertId"] for e in stored[AUTH]] == ["auth-2"]
    written = out.read_text()
    assert PASSWORD not in written  # a JSON payload's password, and one in a text payload
    assert api[2]["jsonPayload"]["message"] == "login retry" and api[2]["jsonPayload"]["password"] != PASSWORD
    assert "password=" in api[3]["textPayload"]
    assert data["errors"] == {}
    offline = run_cli("compare", "api", "auth", "--from", out, "--format", "json")  # read back as the kind reads it
    assert offline.code in (0, 1), offline.stderr


def test_a_sample_is_bounded_and_says_so(tmp_path: Path) -> None:
    many = [entry("api", 50 - i * 0.05, "ERROR", textPayload=f"failure {i}") for i in range(700)]
    with FakeGcpServer(World.from_folder(world_folder(tmp_path, many))) as server:
        server.log_page_limit = 300  # the real API may answer short pages: at most two are read
        data = snapshot(server, tmp_path / "snapshot.json")
        pages = server.called("ListLogEntries")
        report = live(server, "api", "auth").json()
    api = data["log_entries"][API]
    assert api["truncated"] is True and len(api["entries"]) == MAX_ENTRIES == 500
    assert api["entries"][0]["textPayload"] == "failure 699"  # the newest kept
    assert data["log_entries"][AUTH] == []  # nothing matched: known quiet, not unknown
    assert len(pages) == 3  # api: two pages of 300 (the second cut at 200); auth: one
    kept = f"kept the newest 500 log entries of {PROJECT}/us-central1/api since "
    assert any(note.startswith(kept) for note in report["notes"])


def test_no_logs_makes_no_logging_call(server: FakeGcpServer, tmp_path: Path) -> None:
    run = live(server, "api", "auth", "--no-logs")
    assert run.code in (0, 1), run.stderr
    data = snapshot(server, tmp_path / "snapshot.json", "--no-logs")
    check = run_cli("check", "api", *SCOPE, "--endpoint", server.address, "--no-logs", "--format", "json")
    assert check.code in (0, 1), check.stderr
    assert server.counts["ListLogEntries"] == 0
    assert data["log_entries"] == {}  # no service's sample: their logs are unknown, not quiet
    live(server, "api", "auth")
    assert server.counts["ListLogEntries"] == 2  # the guard: without the flag, the same run reads them


def test_denied_logs_are_unknown_with_the_role_not_quiet(server: FakeGcpServer, tmp_path: Path) -> None:
    server.inject("ListLogEntries", "*", "PERMISSION_DENIED")
    report = live(server, "api", "auth").json()
    assert report["incomplete"] is True
    notes = [n for n in report["notes"] if f"log_entries:{API}" in n]
    assert len(notes) == 1
    assert "PERMISSION_DENIED" in notes[0] and "needs logging.logEntries.list (roles/logging.viewer)" in notes[0]
    data = snapshot(server, tmp_path / "snapshot.json")
    assert data["log_entries"][API] == {"error": data["errors"][f"log_entries:{API}"]}
    assert data["errors"][f"log_entries:{API}"].endswith("needs logging.logEntries.list (roles/logging.viewer)")


def test_the_readme_names_the_logging_role_with_its_permission() -> None:
    """The read is kept apart from the kinds' `live_reads` (it is a round of its own), so tests/test_readme_roles.py
    does not see it: the same check, here."""
    lines = (ROOT / "README.md").read_text().splitlines()
    rows = [line for line in lines if line.startswith(f"| `{LOG_ENTRIES.role}`")]
    assert len(rows) == 1 and LOG_ENTRIES.permission in rows[0]


def test_the_filter_is_one_the_fake_parses_as_the_real_language_reads_it() -> None:
    from fakegcp.logs import parse_filter

    matches = parse_filter(log_filter(PROJECT, "us-central1", "api", "2000-01-01T00:00:00Z"))
    logs = api_logs()
    assert [e["insertId"] for e in logs if matches(e)] == ["api-9", "api-4", "api-5", "api-6", "api-150"]
    other_region = entry("api", 1, "ERROR", textPayload="x")
    other_region["resource"]["labels"]["location"] = "europe-west1"
    assert not matches(other_region)


# End to end ----------------------------------------------------------------------------------------------------
def _twin_world(tmp_path: Path) -> Path:
    """auth and billing, one service deployed twice under two names (no configuration differs), and billing's
    logs saying Cloud Run killed it for memory."""
    folder = tmp_path / "twins"
    folder.mkdir()
    for path in WORLD.iterdir():  # everything but api
        if not path.name.startswith("api"):
            shutil.copy(path, folder / path.name)
    text = (WORLD / "auth.json").read_text()
    billing = json.loads(text.replace("/services/auth", "/services/billing").replace("auth-000", "billing-000"))
    billing["uid"] = "0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    billing["urls"] = [url.replace("auth-", "billing-") for url in billing.get("urls", [])]
    if "uri" in billing:
        billing["uri"] = billing["uri"].replace("auth-", "billing-")
    (folder / "billing.json").write_text(json.dumps(billing, indent=1))
    revision = billing["latestCreatedRevision"].rsplit("/", 1)[-1]
    logs = [entry("billing", minutes, log=SYSTEM_LOG, revision=revision, textPayload=MEMORY) for minutes in (2, 9, 20)]
    (folder / "billing.logs.json").write_text(json.dumps(logs, indent=1))
    (folder / "auth.logs.json").write_text("[]")
    return folder


def test_a_memory_kill_in_the_logs_alone_ranks_first_live_as_from_the_exported_files(tmp_path: Path) -> None:
    folder = _twin_world(tmp_path)
    offline = run_cli("compare", "billing", "auth", "--from", folder, "--format", "json")
    with FakeGcpServer(World.from_folder(folder)) as server:
        online = live(server, "billing", "auth")
    assert offline.code == online.code, (offline.stderr, online.stderr)
    ranked_online = [(f["rule"], f["severity"]) for f in online.json()["findings"]]
    ranked_offline = [(f["rule"], f["severity"]) for f in offline.json()["findings"]]
    assert ranked_online[:1] == [("memory-limit-exceeded", "high")]
    assert ranked_online == ranked_offline


def test_a_stored_entry_keeps_an_undecodable_payloads_type_and_cuts_long_text() -> None:
    from google.cloud.logging_v2.types import LogEntry

    from driftcheck.sources.live.logs import MAX_TEXT, stored_entry

    audit = LogEntry(log_name=f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity")
    LogEntry.pb(audit).proto_payload.type_url = "type.googleapis.com/google.cloud.audit.AuditLog"
    assert stored_entry(audit)["protoPayload"] == {"@type": "type.googleapis.com/google.cloud.audit.AuditLog"}
    trace = LogEntry(log_name=APP_LOG, text_payload="Traceback (most recent call last):\n" + "  x\n" * 5000)
    text = stored_entry(trace)["textPayload"]
    assert text.startswith("Traceback") and len(text) < MAX_TEXT + 20 and text.endswith("[truncated]")


# One name in two regions -----------------------------------------------------------------------------------------
REGIONS = ("us-central1", "europe-west1")
TWO_REGIONS = ("--project", PROJECT, "--region", REGIONS[0], "--region", REGIONS[1])


def _in(region: str, logged: dict[str, Any]) -> dict[str, Any]:
    logged["resource"]["labels"]["location"] = region
    logged["insertId"] += f"-{region}"
    return logged


def _auth_in_two_regions(tmp_path: Path, killed_in: str) -> World:
    """The incident's world with `auth` deployed in europe-west1 too (the same service, a name is unique only
    within a region); only the `auth` of `killed_in` logs Cloud Run killing it for memory."""
    kills = [_in(killed_in, entry("auth", minutes, log=SYSTEM_LOG, textPayload=MEMORY)) for minutes in (2, 9, 20)]
    world = World.from_folder(world_folder(tmp_path, kills))
    europe = run_v2.Service(world.services[f"projects/{PROJECT}/locations/us-central1/services/auth"])
    europe.name = f"projects/{PROJECT}/locations/europe-west1/services/auth"
    world.add_service(europe)
    return world


def _region_by_region(data: dict[str, Any], service: str) -> dict[str, tuple[list[str], Any]]:
    """Each region's `service` judged on its own, as the snapshot reads back region by region (load_by_region: an
    audit's and the history's reading): the rules found, and its logs."""
    from driftcheck.kinds.logs import logs_of
    from driftcheck.ruleset.evaluate import evaluate
    from driftcheck.ruleset.load import load_ruleset
    from driftcheck.sources.snapshot_file import load_by_region

    ruleset = load_ruleset()
    judged = {}
    for region, inventory in load_by_region(data, "snapshot").items():
        target = inventory.services[service]
        rules = [f.rule for f in evaluate(target, [], inventory, ruleset).findings]
        judged[region] = (rules, logs_of(target, inventory))
    return judged


@pytest.mark.parametrize("killed_in", REGIONS)
def test_a_name_in_two_regions_keeps_each_regions_logs_and_findings_apart(tmp_path: Path, killed_in: str) -> None:
    from driftcheck.kinds.logs import ServiceLogs

    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_auth_in_two_regions(tmp_path, killed_in)) as server:
        run = run_cli("snapshot", *TWO_REGIONS, "--endpoint", server.address, "-o", out)
        asked = sorted(r.filter for r in server.log_requests if 'service_name="auth"' in r.filter)
    assert run.code == 0, run.stderr
    assert all(f'resource.labels.location="{r}"' in f for f, r in zip(asked, sorted(REGIONS), strict=True)), asked
    data = json.loads(out.read_text())
    judged = _region_by_region(data, "auth")
    seen = {
        region: ("memory-limit-exceeded" in rules, logs.entries if isinstance(logs, ServiceLogs) else logs)
        for region, (rules, logs) in judged.items()
    }
    # the finding for the killed region's auth only; the other's logs known and quiet, not the other region's
    assert seen == {region: (region == killed_in, 3 if region == killed_in else 0) for region in REGIONS}
    assert {region: getattr(logs, "region", None) for region, (_, logs) in judged.items()} == {r: r for r in REGIONS}
    stored = data["log_entries"]
    whose = {region: f"projects/{PROJECT}/locations/{region}/services/auth" for region in REGIONS}
    assert {region: len(stored[key]) for region, key in whose.items()} == {
        region: 3 if region == killed_in else 0 for region in REGIONS
    }  # each region's sample, none written over the other's


def test_a_snapshot_of_an_earlier_version_keyed_by_short_name_reads_the_same(
    server: FakeGcpServer, tmp_path: Path
) -> None:
    """A snapshot written before the samples were keyed by full name (`"api"`, not `projects/P/locations/R/services/
    api`): of one region, each short key is the sample of the one service of that name."""
    current = snapshot(server, tmp_path / "current.json")
    assert sorted(current["log_entries"]) == [API, AUTH]
    earlier = {**current, "log_entries": {key.rsplit("/", 1)[-1]: v for key, v in current["log_entries"].items()}}
    (tmp_path / "earlier.json").write_text(json.dumps(earlier))
    reports = [
        run_cli("compare", "api", "auth", "--from", tmp_path / name, "--format", "json")
        for name in ("current.json", "earlier.json")
    ]
    assert reports[0].code == reports[1].code == 1, reports[1].stderr
    now, before = (report.json() for report in reports)
    assert [(d["service"], d["known"], d["entries"]) for d in before["logs"]] == [("api", True, 4), ("auth", True, 1)]
    assert before["logs"] == now["logs"]
    assert [f["rule"] for f in before["findings"]] == [f["rule"] for f in now["findings"]]
    assert "memory-limit-exceeded" in [f["rule"] for f in before["findings"]]


@pytest.mark.parametrize("killed_in", [*REGIONS, None])
def test_an_earlier_versions_snapshot_of_two_regions_leaves_unknown_what_it_wrote_over(
    tmp_path: Path, killed_in: str | None
) -> None:
    """An earlier driftcheck kept one sample of `auth` for the `auth` of each region (the last written over the
    other): the one its entries say is theirs gets it; the other's logs are unknown, never quiet, never the other's.
    An empty sample says nothing of whose it is: both unknown."""
    from driftcheck.kinds.logs import ServiceLogs, logs_of
    from driftcheck.model import Unknown
    from driftcheck.sources.snapshot_file import load_by_region

    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_auth_in_two_regions(tmp_path, killed_in or REGIONS[0])) as server:
        assert run_cli("snapshot", *TWO_REGIONS, "--endpoint", server.address, "-o", out).code == 0
    data = json.loads(out.read_text())
    # What an earlier version wrote: each sample under the short name; auth's, the last region's written
    kills = [_in(region, entry("auth", minutes, log=SYSTEM_LOG, textPayload=MEMORY)) for minutes in (2, 9, 20)
             for region in [killed_in] if region]  # fmt: skip
    short = {key.rsplit("/", 1)[-1]: sample for key, sample in data["log_entries"].items()}
    earlier = {**data, "log_entries": {**short, "auth": kills}}
    for region, (rules, logs) in _region_by_region(earlier, "auth").items():
        if region == killed_in:
            assert isinstance(logs, ServiceLogs) and logs.entries == 3 and "memory-limit-exceeded" in rules
        else:
            assert isinstance(logs, Unknown) and "earlier driftcheck" in logs.reason, (region, logs)
            assert "memory-limit-exceeded" not in rules
    inventory = load_by_region(earlier, "snapshot")["us-central1"]  # a name in one region only: that one's sample
    api = logs_of(inventory.services["api"], inventory)
    assert isinstance(api, ServiceLogs) and api.region == "us-central1" and api.entries == 0
