"""Snapshot history: snapshots stored around a change made to the fake world, the timeline `history` prints, retention,
a store in Cloud Storage (gcp-storage-emulator), and the errors a user can meet."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli
from fakegcp import FakeGcpServer, World
from google.cloud import run_v2

from driftcheck.errors import InputError
from driftcheck.jobs.history.store import LocalStore, default_location, open_store
from driftcheck.jobs.history.timeline import timeline

WORLD = FIXTURES / "incident-live"
SCOPE = ("--project", "netra-staging", "--region", "us-central1")
AUTH = "projects/netra-staging/locations/us-central1/services/auth"
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def _snapshot(server: FakeGcpServer, history: Path, *extra: str, process: bool = False) -> None:
    """`process`: in a process of its own, as the next snapshot is, with its own fingerprint key for credentials."""
    run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "--history", history, *extra, process=process)
    assert run.code == 0, run.stderr
    assert "stored " in run.stderr


def _history(*args: str | Path) -> Any:
    run = run_cli("history", *args)
    assert run.code == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def snapshot_data() -> dict[str, Any]:
    """One real snapshot of the fake world, as `snapshot -o` writes it, for the library tests to vary."""
    from driftcheck.jobs.compare_live import LiveOptions, scrubbed_snapshot, take_snapshot
    from driftcheck.sources.live.scope import Scope

    with FakeGcpServer(World.from_folder(WORLD)) as server:
        data = take_snapshot(LiveOptions(Scope("netra-staging", ("us-central1",)), server.address))
    return scrubbed_snapshot(data)


def _with_auth(data: dict[str, Any], change: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    change(next(s for s in changed["services"] if s["name"] == AUTH))
    return changed


# Through the CLI, against a world that changes between two snapshots --------------------------------------------
def test_two_snapshots_around_a_change_report_exactly_that_change(tmp_path: Path) -> None:
    world = World.from_folder(WORLD)
    with FakeGcpServer(world) as server:
        _snapshot(server, tmp_path, process=True)
        auth = run_v2.Service(world.services[AUTH])
        auth.template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.ALL_TRAFFIC
        world.add_service(auth)
        _snapshot(server, tmp_path)
    vpc = _history("auth", "--path", "vpc.*", "--history", tmp_path, "--format", "json").json()
    everything = _history("auth", "--history", tmp_path, "--format", "json").json()
    first, second = LocalStore(tmp_path).entries()
    assert [(c["path"], c["from"], c["to"]) for c in vpc] == [("vpc.egress", "private_ranges_only", "all_traffic")]
    assert everything == vpc  # nothing else: not the status, not the per-run fingerprints of redacted passwords
    assert (vpc[0]["before"], vpc[0]["after"]) == (_iso(first.taken), _iso(second.taken))
    assert vpc[0]["before"] < vpc[0]["after"]


def test_table_shows_when_what_and_from_to(tmp_path: Path) -> None:
    world = World.from_folder(WORLD)
    with FakeGcpServer(world) as server:
        _snapshot(server, tmp_path, process=True)
        del world.services["projects/netra-staging/locations/us-central1/services/api"]
        _snapshot(server, tmp_path)
    table = _history("api", "--history", tmp_path).stdout
    assert "1 changes across 2 snapshots" in table
    assert "service: present → absent" in table


def test_snapshot_keeps_the_newest_n_and_still_writes_the_file(tmp_path: Path) -> None:
    history, out = tmp_path / "history", tmp_path / "snap.json"
    with FakeGcpServer(World.from_folder(WORLD)) as server:
        for _ in range(3):
            _snapshot(server, history, "--keep", "2", "-o", out)
    assert len(LocalStore(history).entries()) == 2
    assert json.loads(out.read_text())["driftcheck_snapshot"] == 1


def test_history_of_an_unknown_service_says_so(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    LocalStore(tmp_path).save(snapshot_data, now=T0)
    run = run_cli("history", "billing", "--history", tmp_path)
    assert run.code == 2
    assert run.stderr.strip() == "driftcheck: error: no service 'billing' in any of the 1 snapshots in history"


def test_no_history_is_a_one_line_error(tmp_path: Path) -> None:
    run = run_cli("history", "auth", "--history", tmp_path / "empty")
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "no snapshot history in" in run.stderr


def test_snapshot_needs_an_output_or_a_history(tmp_path: Path) -> None:
    run = run_cli("snapshot", *SCOPE)
    assert run.code == 2 and "-o FILE, --history" in run.stderr
    run = run_cli("snapshot", *SCOPE, "-o", tmp_path / "snap.json", "--keep", "3")
    assert run.code == 2 and "add --history" in run.stderr


def test_history_of_a_local_store_loads_no_google_module(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    from test_offline_imports import _loaded

    LocalStore(tmp_path).save(snapshot_data, now=T0)
    LocalStore(tmp_path).save(snapshot_data, now=T0 + timedelta(days=1))
    loaded, printed = _loaded('runpy.run_module("driftcheck", run_name="__main__")', "history", "auth",
                              "--history", str(tmp_path))
    assert "0 changes across 2 snapshots" in printed  # the timeline really ran
    assert loaded == []


# The library, with an injected clock ------------------------------------------------------------------------------
def test_timeline_reports_each_change_with_both_timestamps(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    moved = _with_auth(snapshot_data, lambda s: s["template"]["vpcAccess"].update(connector="projects/netra-staging/"
                                                                              "locations/us-central1/connectors/other"))
    gone = {**moved, "services": [s for s in moved["services"] if s["name"] != AUTH]}
    for day, data in enumerate([snapshot_data, snapshot_data, moved, gone, moved]):
        store.save(data, now=T0 + timedelta(days=day))
    changes = [c.as_dict() for c in timeline(store.entries(), "auth", "vpc.connector")]
    day = [_iso(T0 + timedelta(days=n)) for n in range(5)]
    assert [(c["before"], c["after"], c["path"], c["from"], c["to"]) for c in changes] == [
        (day[1], day[2], "vpc.connector", "projects/netra-staging/locations/us-central1/connectors/staging-connector",
         "projects/netra-staging/locations/us-central1/connectors/other"),
        (day[2], day[3], "service", "present", "absent"),
        (day[3], day[4], "service", "absent", "present"),
    ]


def test_a_value_that_could_not_be_read_is_never_a_change(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    unread = _with_auth(snapshot_data, lambda s: s["template"].pop("serviceAccount"))  # unknown: no project number
    for day, data in enumerate([snapshot_data, unread, snapshot_data]):
        store.save(data, now=T0 + timedelta(days=day))
    assert timeline(store.entries(), "auth", "service_account") == []
    assert timeline(store.entries(), "auth") == []


def test_entries_are_oldest_first_and_load_back(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    for day in (3, 1, 2):
        store.save({**snapshot_data, "created": f"day {day}"}, now=T0 + timedelta(days=day))
    (tmp_path / "notes.txt").write_text("not a snapshot")
    entries = store.entries()
    assert [e.taken for e in entries] == [T0 + timedelta(days=d) for d in (1, 2, 3)]
    assert [e.load()["created"] for e in entries] == ["day 1", "day 2", "day 3"]
    assert {e.scope for e in entries} == {"netra-staging_us-central1"}


def test_retention_by_count_and_by_age(tmp_path: Path, snapshot_data: dict[str, Any]) -> None:
    store = LocalStore(tmp_path)
    for day in range(6):
        store.save(snapshot_data, now=T0 + timedelta(days=day))
    assert len(store.prune(keep=4)) == 2
    assert [e.taken for e in store.entries()] == [T0 + timedelta(days=d) for d in (2, 3, 4, 5)]
    store.prune(days=1.5, now=T0 + timedelta(days=5))
    assert [e.taken for e in store.entries()] == [T0 + timedelta(days=d) for d in (4, 5)]
    store.prune(days=1, now=T0 + timedelta(days=100))
    assert [e.taken for e in store.entries()] == [T0 + timedelta(days=5)]  # the newest always stays


def test_default_location_is_the_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert open_store().location == str(tmp_path / "driftcheck" / "history")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_location() == Path.home() / ".local" / "share" / "driftcheck" / "history"


def test_timeline_with_no_snapshot_of_the_service_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no service 'auth' in any of the 0 snapshots"):
        timeline([], "auth")


# Cloud Storage, through gcp-storage-emulator ----------------------------------------------------------------------
@pytest.fixture
def bucket(gcs_bucket: str) -> str:
    return f"gs://{gcs_bucket}/staging/history"


def test_gcs_store_lists_loads_and_prunes(bucket: str, snapshot_data: dict[str, Any]) -> None:
    store = open_store(bucket)
    moved = _with_auth(snapshot_data, lambda s: s["template"]["vpcAccess"].update(egress="ALL_TRAFFIC"))
    for day, data in enumerate([snapshot_data, snapshot_data, moved]):
        store.save(data, now=T0 + timedelta(days=day))
    entries = open_store(bucket).entries()
    assert [e.taken for e in entries] == [T0 + timedelta(days=d) for d in range(3)]
    assert entries[-1].load()["services"] == moved["services"]
    assert [(c.path, c.old, c.new) for c in timeline(entries, "auth", "vpc")] == [
        ("vpc.egress", "private_ranges_only", "all_traffic")
    ]
    assert len(store.prune(keep=1)) == 2
    assert [e.taken for e in open_store(bucket).entries()] == [T0 + timedelta(days=2)]


def test_gcs_history_through_the_cli(bucket: str, snapshot_data: dict[str, Any]) -> None:
    open_store(bucket).save(snapshot_data, now=T0)
    open_store(bucket).save(_with_auth(snapshot_data, lambda s: s.update(ingress="INGRESS_TRAFFIC_INTERNAL_ONLY")),
                            now=T0 + timedelta(hours=1))
    changes = _history("auth", "--history", bucket, "--format", "json").json()
    assert [(c["path"], c["from"], c["to"], c["after"]) for c in changes] == [
        ("ingress", "all", "internal", "2026-11-01T03:00:00.000000Z")
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
