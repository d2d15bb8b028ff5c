"""The timeline of one service's changes across stored snapshots, and the changes between two snapshots."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from fnmatch import fnmatchcase
from itertools import pairwise
from typing import Any

from driftcheck.compare.diff import Change, compare_services
from driftcheck.compare.timeline_change import TimelineChange
from driftcheck.errors import InputError
from driftcheck.jobs.history.store import Entry
from driftcheck.model import Redacted, Service, Unknown, subject_of
from driftcheck.redact import MASK, redact_text
from driftcheck.sources.snapshot_file import load_by_region

# Bookkeeping that changes on every deploy or reconcile: not a change of configuration.
BOOKKEEPING = ("metadata", "metadata.*", "status", "status.*")


def project_entries(entries: list[Entry], service: str, project: str | None, region: str | None = None) -> list[Entry]:
    """One project's snapshots: the one asked for, or the only one whose newest snapshot has `service`.

    An audit stores every project in one store, and two projects often run a service of the same name: mixing
    their snapshots would report staging-versus-prod differences as changes.
    """
    projects = sorted({entry.project for entry in entries})
    if project is not None:
        return [entry for entry in entries if entry.project == project]
    if len(projects) < 2:
        return entries
    having = [p for p in projects if _service(next(e for e in reversed(entries) if e.project == p), service, region)]
    if len(having) > 1:
        raise InputError(f"{service!r} is in the snapshots of {', '.join(having)}: pass --project")
    return [entry for entry in entries if entry.project == having[0]] if having else entries


def timeline(
    entries: Iterable[Entry], service: str, path: str | None = None, region: str | None = None
) -> list[TimelineChange]:
    """Every change of `service` (under `path`, a canonical path or glob) between consecutive snapshots.

    A value either snapshot could not read is unknown then: compare_services never reports it as a change.
    """
    entries = list(entries)
    loaded = ((entry, entry.load()) for entry in entries)  # one snapshot in memory at a time
    found = [(entry.taken, _service(entry, service, region, data), _regions(data)) for entry, data in loaded]
    if not any(s for _, s, _ in found):
        hint = _closest(service, entries[-1]) if entries else ""
        raise InputError(f"no service {service!r} in any of the {len(entries)} snapshots in history{hint}")
    # A snapshot of other regions (an audit with another region set) did not look where the service runs: it is
    # unknown there, not absent, so it takes no part in the timeline
    where = {s.region for _, s, _ in found if s is not None}
    states = [(taken, s) for taken, s, regions in found if regions is None or where <= regions]
    changes: list[TimelineChange] = []
    for (before, old), (after, new) in pairwise(states):
        changes += _between(before, after, old, new, path)
    return changes


def snapshot_changes(
    before: datetime, old: dict[str, Any], after: datetime, new: dict[str, Any]
) -> list[TimelineChange]:
    """Every service added, removed or changed between two snapshots of one scope, each naming its service."""
    old_services, new_services = _services(old, "before"), _services(new, "after")
    changes: list[TimelineChange] = []
    for key in sorted(old_services.keys() | new_services.keys()):
        older, newer = old_services.get(key), new_services.get(key)
        either = newer or older
        assert either is not None
        subject = subject_of(either)
        changes += [
            dataclasses.replace(change, service=subject) for change in _between(before, after, older, newer, None)
        ]
    return changes


def _services(data: dict[str, Any], origin: str) -> dict[tuple[str, str], Service]:
    """Every service of a snapshot by (region, name): a name is unique only within a region."""
    return {
        (region, name): service
        for region, inventory in load_by_region(data, origin).items()
        for name, service in inventory.services.items()
    }


def _closest(service: str, entry: Entry) -> str:
    """`; did you mean 'auth'?` when the newest snapshot has a service named like the misspelled one, else ''."""
    import difflib

    names = sorted({name for _, name in _services(entry.load(), entry.name)})
    close = difflib.get_close_matches(service, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _regions(data: dict[str, Any]) -> set[str] | None:
    """The regions a snapshot covers; None when it does not say."""
    regions = (data.get("scope") or {}).get("regions")
    return set(map(str, regions)) if regions else None


def _service(entry: Entry, name: str, region: str | None = None, data: dict[str, Any] | None = None) -> Service | None:
    services = _services(entry.load() if data is None else data, entry.name)
    matches = {r: service for (r, n), service in services.items() if n == name and region in (None, r)}
    if len(matches) > 1:
        raise InputError(f"{name!r} runs in {', '.join(sorted(matches))} ({entry.name}): pass --region")
    return next(iter(matches.values()), None)


def _between(
    before: datetime, after: datetime, old: Service | None, new: Service | None, path: str | None
) -> list[TimelineChange]:
    if old is None or new is None:
        if old is new:
            return []
        kind = "appeared" if old is None else "disappeared"
        return [TimelineChange(before, after, "service", kind, _presence(old), _presence(new))]
    found = compare_services(new, old, BOOKKEEPING)
    return [
        TimelineChange(before, after, change.path, change.kind, _blind(change.baseline), _blind(change.target))
        for change in found
        if _selected(change, path) and _blind(change.baseline) != _blind(change.target)
    ]


def _selected(change: Change, pattern: str | None) -> bool:
    """A glob (`vpc.*`), or a path and everything under it (`vpc`, `containers.api`)."""
    return pattern is None or fnmatchcase(change.path, pattern) or change.path.startswith(pattern + ".")


def _blind(value: Any) -> Any:
    """What may be shown, and compared across snapshots. A scrubbed snapshot's credentials load as unknown already;
    an unscrubbed one saved through this API holds fingerprints keyed per process (driftcheck.redact), which differ
    between two runs for the same password: here a credential is always just the mask."""
    if isinstance(value, Redacted):
        return MASK
    if isinstance(value, Unknown):
        return str(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _blind(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_blind(item) for item in value]
    return value


def _presence(service: Service | None) -> str:
    return "absent" if service is None else "present"
