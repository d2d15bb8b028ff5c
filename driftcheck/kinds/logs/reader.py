"""The log kind's evidence and snapshot reader: exported LogEntry JSON, and a snapshot's stored samples."""

from __future__ import annotations

from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.logs.entries import resource_label, service_of
from driftcheck.kinds.logs.keys import parse_key, service_key
from driftcheck.kinds.logs.model import ServiceLogs
from driftcheck.model import Inventory, Unknown

KIND = "Cloud Run log entries (gcloud logging read 'resource.type=\"cloud_run_revision\" ...' --format=json)"
NAME = "log_entries"
SNAPSHOT_KEY = "log_entries"
RESOURCE_TYPE = "cloud_run_revision"


def matches(data: Any) -> bool:
    """One LogEntry of a Cloud Run revision: a log name, and a `cloud_run_revision` resource."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("logName"), str)
        and isinstance(data.get("resource"), dict)
        and data["resource"].get("type") == RESOURCE_TYPE
    )


def load(doc: Document, inventory: Inventory) -> None:
    """Each entry joins its service's signatures: entry by entry, as a long file is decoded. Whose service: the
    name, region and project its resource labels name (a name alone is unique only within one region)."""
    service = service_of(doc.data, doc.label)
    labels = doc.data["resource"].get("labels") or {}
    project, region = (resource_label(labels, name) for name in ("project_id", "location"))
    found: dict[str, ServiceLogs] = inventory.of(NAME)
    key = service_key(project, region, service)
    logs = found.get(key)
    if logs is None:
        label = doc.url or str(doc.path)
        logs = found[key] = ServiceLogs(service, label, project, region)
    logs.add(doc.data, doc.label)


def from_entries(key: str, entries: Any, origin: str, project: str | None = None) -> ServiceLogs:
    """A stored sample: a list of LogEntry JSON, or {"entries": [...], "truncated": bool}, of the service its key
    names (`projects/P/locations/R/services/S`; a short name, of `project` in a region not known)."""
    truncated = False
    if isinstance(entries, dict):
        truncated = bool(entries.get("truncated"))
        entries = entries.get("entries")
    if not isinstance(entries, list):
        raise InputError("not a list of log entries", file=origin, where=f"{SNAPSHOT_KEY}.{key}")
    named_project, region, service = parse_key(key)
    logs = ServiceLogs(service, origin, named_project or project, region, truncated=truncated)
    for index, entry in enumerate(entries):
        label = f"{origin}#{SNAPSHOT_KEY}:{key}[{index}]"
        if not matches(entry):
            raise InputError("not a Cloud Run log entry", file=origin, where=f"{SNAPSHOT_KEY}.{key}[{index}]")
        logs.add(entry, label)
    return logs


def from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> ServiceLogs | None:
    """None for a stored error: the registry reads the error, and the service's logs stay unknown."""
    if isinstance(stored, dict) and "error" in stored:
        return None
    return from_entries(key, stored, f"{origin}#{SNAPSHOT_KEY}:{key}", project if isinstance(project, str) else None)
