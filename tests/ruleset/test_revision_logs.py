"""Logs in a revision compare (`driftcheck compare api@latest api@last-ready`): the compared services are named for
their revisions (`auth@latest (auth-00002-new)`), their logs are their service's (`auth`), and each reads the entries
its own revision logged when the entries name their revisions (kinds/logs/lookup.py `logs_of`)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

from conftest import INCIDENT

from driftcheck.kinds.logs import MAX_REVISIONS, ServiceLogs, logs_of
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.ruleset.evaluate import evaluate
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.evidence import load_evidence

NEW, OLD = "auth-00002-new", "auth-00001-old"
MEMORY = "Memory limit of 512 MiB exceeded with 540 MiB used. Consider increasing the memory limit."
SYSTEM = "projects/netra-staging/logs/run.googleapis.com%2Fvarlog%2Fsystem"
STDERR = "projects/netra-staging/logs/run.googleapis.com%2Fstderr"


def _entry(index: int, revision: str | None, text: str, log: str = STDERR, severity: str = "ERROR") -> dict[str, Any]:
    labels = {"service_name": "auth", "location": "us-central1", "project_id": "netra-staging"}
    if revision is not None:
        labels["revision_name"] = revision
    return {
        "insertId": f"{revision}-{index}",
        "logName": log,
        "resource": {"type": "cloud_run_revision", "labels": labels},
        "timestamp": f"2026-11-28T23:0{index % 10}:00.000Z",
        "severity": severity,
        "textPayload": text,
    }


def _evidence(tmp_path: Path, entries: list[dict[str, Any]]) -> Inventory:
    """The incident's auth, and a log export of two of its revisions."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(INCIDENT / "auth.yaml", folder / "auth.yaml")
    (folder / "auth.logs.json").write_text(json.dumps(entries))
    return load_evidence([folder])


def _revision(service: Service, shown: str, revision: str) -> Service:
    """auth as a revision compare names one of its revisions (jobs/compare_live.py)."""
    metadata = dataclasses.replace(service.metadata, revision_of=service.name, revision=revision)
    return dataclasses.replace(service, name=f"{shown} ({revision})", metadata=metadata)


def _two_revisions() -> list[dict[str, Any]]:
    failing = [_entry(i, NEW, MEMORY, SYSTEM) for i in range(5)]
    ordinary = [_entry(i, OLD, "cache miss for key 1234", severity="WARNING") for i in range(3)]
    return failing + ordinary


def test_each_revision_reads_its_own_entries_and_the_new_one_s_cause_ranks_first(tmp_path: Path) -> None:
    inventory = _evidence(tmp_path, _two_revisions())
    auth = inventory.services["auth"]
    latest, ready = _revision(auth, "auth@latest", NEW), _revision(auth, "auth@last-ready", OLD)

    result = evaluate(latest, [ready], inventory, load_ruleset(None))

    first = result.findings[0]
    assert first.rule == "memory-limit-exceeded"
    said = " ".join(first.confirmations)
    assert f"logs of auth@latest ({NEW}): 5 × 'Memory limit of 512 MiB" in said
    assert "no compared peer logs it" in said  # the last ready revision did not: only the new one fails
    digests = {d.service: d for d in result.logs}
    assert digests[f"auth@latest ({NEW})"].known and digests[f"auth@latest ({NEW})"].entries == 5
    assert digests[f"auth@last-ready ({OLD})"].known and digests[f"auth@last-ready ({OLD})"].entries == 3
    assert [s.signature for s in digests[f"auth@last-ready ({OLD})"].signatures] == ["cache miss for key <n>"]


def test_a_revision_that_logged_nothing_is_quiet_unless_the_read_was_cut(tmp_path: Path) -> None:
    inventory = _evidence(tmp_path, _two_revisions())
    quiet = _revision(inventory.services["auth"], "auth@auth-00003-xyz", "auth-00003-xyz")
    logs = logs_of(quiet, inventory)
    assert isinstance(logs, ServiceLogs) and logs.entries == 0  # every revision's entries were read: none of it

    found: ServiceLogs = inventory.of("log_entries")["projects/netra-staging/locations/us-central1/services/auth"]
    found.truncated = True  # as a live read stopped at its limit stores it
    cut = logs_of(quiet, inventory)
    assert isinstance(cut, Unknown) and "name no entry of auth-00003-xyz" in cut.reason


def test_entries_that_name_no_revision_are_the_whole_service_s(tmp_path: Path) -> None:
    inventory = _evidence(tmp_path, [_entry(i, None, MEMORY, SYSTEM) for i in range(4)])
    latest = _revision(inventory.services["auth"], "auth@latest", NEW)
    logs = logs_of(latest, inventory)
    assert isinstance(logs, ServiceLogs) and logs.entries == 4


def test_a_plain_compare_reads_every_revision_s_entries(tmp_path: Path) -> None:
    inventory = _evidence(tmp_path, _two_revisions())
    logs = logs_of(inventory.services["auth"], inventory)
    assert isinstance(logs, ServiceLogs) and logs.entries == 8 and logs.revisions == {NEW: 5, OLD: 3}


def test_revisions_beyond_the_bound_are_counted_not_told_apart(tmp_path: Path) -> None:
    entries = [_entry(0, f"auth-{n:05d}-abc", f"error {n}") for n in range(MAX_REVISIONS + 1)]
    inventory = _evidence(tmp_path, entries)
    auth = inventory.services["auth"]
    first = logs_of(_revision(auth, "auth@latest", "auth-00000-abc"), inventory)
    assert isinstance(first, ServiceLogs) and first.entries == 1
    last = logs_of(_revision(auth, "auth@latest", f"auth-{MAX_REVISIONS:05d}-abc"), inventory)
    assert isinstance(last, Unknown) and "not told apart" in last.reason
