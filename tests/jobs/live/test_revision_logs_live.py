"""Logs in a live revision compare (`api@latest api@last-ready`): one log query for the service, each revision
reading the entries it logged itself, against the fake API in tests/fakegcp."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from fakegcp import FakeGcpServer, World
from google.cloud import run_v2
from test_live_compare import LAST_READY, SCOPE
from test_logs_live import MEMORY, SYSTEM_LOG, entry, world_folder


def test_each_revision_reads_its_own_logs(tmp_path: Path) -> None:
    logs = [entry("api", minutes, log=SYSTEM_LOG, revision="api-00042-fix", textPayload=MEMORY) for minutes in (3, 4)]
    logs += [entry("api", 5, "WARNING", revision="api-00041-bop", textPayload="slow query on orders")]
    world = World.from_folder(world_folder(tmp_path, logs))
    world.add_revision(run_v2.Revision.from_json(LAST_READY.read_text()))
    with FakeGcpServer(world) as server:
        run = run_cli("compare", "api@latest", "api@last-ready", *SCOPE, "--endpoint", server.address, "-f", "json")
        queries = server.counts["ListLogEntries"]
    report = run.json()
    assert queries == 1  # one service, whatever its revisions
    digests = {d["service"]: d for d in report["logs"]}
    latest, ready = digests["api@latest (api-00042-fix)"], digests["api@last-ready (api-00041-bop)"]
    assert latest["known"] and latest["entries"] == 2
    assert [s["example"] for s in latest["signatures"]] == [MEMORY]
    assert ready["known"] and ready["entries"] == 1
    assert [s["example"] for s in ready["signatures"]] == ["slow query on orders"]
    memory = [f for f in report["findings"] if f["rule"] == "memory-limit-exceeded"]
    assert memory and any("no compared peer logs it" in c for c in memory[0]["confirmations"])
