"""Exported log entries are a service's by its name, region and project (kinds/logs/): `gcloud logging read`
without a location filter exports `api` of every region, and a name is unique only within one region."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import INCIDENT, run_cli

from driftcheck.kinds.logs import ServiceLogs, logs_of
from driftcheck.model import Unknown
from driftcheck.sources.evidence import load_evidence

SYSTEM_LOG = "projects/netra-staging/logs/run.googleapis.com%2Fvarlog%2Fsystem"
MEMORY = "Memory limit of 512 MiB exceeded with 540 MiB used. Consider increasing the memory limit"


def _entry(region: str, index: int, text: str, severity: str = "ERROR", project: str = "netra-staging") -> Any:
    labels = {"service_name": "auth", "location": region, "project_id": project, "revision_name": "auth-00017-wuj",
              "configuration_name": "auth"}  # fmt: skip
    resource = {"type": "cloud_run_revision", "labels": labels}
    return {"insertId": f"{region}-{index}", "logName": SYSTEM_LOG, "severity": severity, "textPayload": text,
            "timestamp": f"2026-11-28T23:0{index}:00Z", "resource": resource}  # fmt: skip


def _evidence(tmp_path: Path, region: str | None) -> Path:
    """The incident's `auth` deployed in `region` (None: a YAML that does not say where), and an export of the
    `auth` of two regions: Cloud Run killed the one in europe-west1 for memory; the one in us-central1 warned."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    text = (INCIDENT / "auth.yaml").read_text()
    label = "    cloud.googleapis.com/location: us-central1\n"
    assert label in text
    (folder / "auth.yaml").write_text(
        text.replace(label, f"    cloud.googleapis.com/location: {region}\n" if region else "")
    )
    shutil.copy(INCIDENT / "db-password.json", folder)
    kills = [_entry("europe-west1", i, MEMORY) for i in range(3)]
    warning = [_entry("us-central1", 5, "slow start", "WARNING")]
    (folder / "all.logs.json").write_text(json.dumps([kills[0], *warning, *kills[1:]], indent=1))
    return folder


def _check(folder: Path) -> dict[str, Any]:
    run = run_cli("check", "auth", "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


@pytest.mark.parametrize(("region", "killed"), [("europe-west1", True), ("us-central1", False)])
def test_an_export_of_two_regions_is_each_regions_services_own(tmp_path: Path, region: str, killed: bool) -> None:
    report = _check(_evidence(tmp_path, region))
    rules = [f["rule"] for f in report["findings"]]
    assert ("memory-limit-exceeded" in rules) is killed, rules  # never the other region's kills
    (logs,) = report["logs"]
    assert (logs["known"], logs["entries"]) == (True, 3 if killed else 1)


def _logs_of_auth(folder: Path) -> ServiceLogs | Unknown:
    inventory = load_evidence([folder])
    return logs_of(inventory.services["auth"], inventory)


def test_a_service_whose_region_is_unknown_has_unknown_logs_when_the_export_spans_regions(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, None)
    assert "memory-limit-exceeded" not in [f["rule"] for f in _check(folder)["findings"]]
    logs = _logs_of_auth(folder)
    assert isinstance(logs, Unknown) and "several services named auth" in logs.reason, logs
    assert "europe-west1" in logs.reason and "us-central1" in logs.reason


def test_entries_of_the_same_name_in_another_project_are_not_the_services(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, "europe-west1")
    service = folder / "auth.yaml"  # the project by id (a number the evidence does not relate to an id: unknown)
    service.write_text(service.read_text().replace("namespace: '123456789012'", "namespace: netra-staging"))
    elsewhere = [_entry("europe-west1", i, MEMORY, project="netra-prod") for i in range(3)]
    ours = [_entry("europe-west1", 7, "slow start", "WARNING")]
    (folder / "all.logs.json").write_text(json.dumps([*elsewhere, *ours]))
    assert "memory-limit-exceeded" not in [f["rule"] for f in _check(folder)["findings"]]
    logs = _logs_of_auth(folder)
    assert isinstance(logs, ServiceLogs) and (logs.project, logs.entries) == ("netra-staging", 1)
