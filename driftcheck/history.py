"""Snapshot history: a store of driftcheck snapshots, and the timeline of one service's changes across them.

A store is a local folder (by default the platform's user data folder) or `gs://bucket/prefix`. Each snapshot is
one JSON object named `YYYYMMDDTHHMMSS.ffffffZ--SCOPE.json`: the UTC timestamp first, so names sort in time order
in a folder listing and in a bucket listing alike, without reading any object. google-cloud-storage is imported
only when a gs:// store is used, so a local history never loads google.*.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from itertools import pairwise
from pathlib import Path
from typing import Any

from driftcheck.compare import Change, compare_services
from driftcheck.errors import DriftcheckError, InputError
from driftcheck.model import Redacted, Service, Unknown, subject_of
from driftcheck.redact import MASK, redact_text
from driftcheck.sources.gcs import SCHEME, is_gcs, normalized
from driftcheck.sources.snapshot_file import load_by_region

STAMP = "%Y%m%dT%H%M%S.%fZ"
_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}\.\d{6}Z)--(?P<scope>[A-Za-z0-9._+-]+)\.json$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
# Bookkeeping that changes on every deploy or reconcile: not a change of configuration.
BOOKKEEPING = ("metadata", "metadata.*", "status", "status.*")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stored snapshot: its name in the store, when it was taken (UTC) and the scope it covers."""

    name: str
    taken: datetime
    scope: str
    store: Store = dataclasses.field(compare=False, repr=False)

    def load(self) -> dict[str, Any]:
        return self.store.load(self)

    @property
    def project(self) -> str:
        return self.scope.split("_", 1)[0]  # project ids have no "_": scope_of joins project and regions with it


@dataclasses.dataclass(frozen=True)
class TimelineChange:
    """One change between two consecutive snapshots; `before`/`after` are when each was taken."""

    before: datetime
    after: datetime
    path: str
    kind: str  # changed | added | removed | appeared | disappeared
    old: Any
    new: Any
    service: str | None = None  # project/region/service, when the change is one of many services'

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TimelineChange:
        """The inverse of as_dict (an audit partial carries its changes so)."""
        return cls(
            before=datetime.fromisoformat(raw["before"]),
            after=datetime.fromisoformat(raw["after"]),
            path=raw["path"],
            kind=raw["kind"],
            old=raw["from"],
            new=raw["to"],
            service=raw.get("service"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"service": self.service} if self.service is not None else {}),
            "before": iso(self.before),
            "after": iso(self.after),
            "path": self.path,
            "kind": self.kind,
            "from": self.old,
            "to": self.new,
        }


class Store:
    """Shared logic; subclasses only list, read, write and delete names."""

    location: str

    def _names(self) -> list[str]:
        raise NotImplementedError

    def _read(self, name: str) -> str:
        raise NotImplementedError

    def _write(self, name: str, text: str) -> None:
        raise NotImplementedError

    def _delete(self, name: str) -> None:
        raise NotImplementedError

    def entries(self, scope: str | None = None) -> list[Entry]:
        """Every snapshot (of one scope, if given), oldest first. Temporary and foreign files are skipped."""
        found = [entry for entry in map(self._entry, self._names()) if entry and scope in (None, entry.scope)]
        return sorted(found, key=lambda entry: (entry.taken, entry.name))

    def load(self, entry: Entry) -> dict[str, Any]:
        try:
            data = json.loads(self._read(entry.name))
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed snapshot: {exc}", file=f"{self.location}/{entry.name}") from None
        if not isinstance(data, dict):
            raise InputError("not a driftcheck snapshot", file=f"{self.location}/{entry.name}")
        return data

    def save(self, data: dict[str, Any], now: datetime | None = None) -> Entry:
        taken = (now or datetime.now(UTC)).astimezone(UTC)
        name = entry_name(data, taken)
        self._write(name, json.dumps(data, indent=1, sort_keys=True) + "\n")
        return Entry(name, taken, scope_of(data), self)

    def prune(
        self, keep: int | None = None, days: float | None = None, now: datetime | None = None, scope: str | None = None
    ) -> list[Entry]:
        """Delete all but the newest `keep` and those older than `days` (of one scope, if given); the newest snapshot
        is always kept."""
        entries = self.entries(scope)
        doomed = entries[: -keep or None] if keep else []
        if days is not None:
            cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
            doomed += [entry for entry in entries[:-1] if entry.taken < cutoff and entry not in doomed]
        for entry in doomed:
            self._delete(entry.name)
        return doomed

    def _entry(self, name: str) -> Entry | None:
        match = _NAME.match(name)
        if not match:
            return None
        taken = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
        return Entry(name, taken, match["scope"], self)


class LocalStore(Store):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def _names(self) -> list[str]:
        return [path.name for path in self.folder.iterdir() if path.is_file()] if self.folder.is_dir() else []

    def _read(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")

    def _write(self, name: str, text: str) -> None:
        from driftcheck.fileio import write_atomic

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DriftcheckError(f"{self.folder}: cannot create the history folder: {exc.strerror}") from None
        write_atomic(self.folder / name, text)  # its temporary name starts with "." and is never listed

    def _delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)


class GcsStore(Store):
    """Snapshots as objects under gs://bucket/prefix/. STORAGE_EMULATOR_HOST is honoured by the client."""

    def __init__(self, url: str) -> None:
        bucket, _, prefix = normalized(url).removeprefix(SCHEME).partition("/")
        if not bucket:
            raise InputError("expected gs://BUCKET[/PREFIX]", file=url)
        self.location = f"{SCHEME}{bucket}" + (f"/{prefix.strip('/')}" if prefix.strip("/") else "")
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        from google.cloud import storage  # type: ignore[attr-defined]  # lazy: see the module docstring

        self.bucket = storage.Client().bucket(bucket)

    def _names(self) -> list[str]:
        blobs = self.bucket.client.list_blobs(self.bucket, prefix=self.prefix)
        return [blob.name[len(self.prefix) :] for blob in blobs if "/" not in blob.name[len(self.prefix) :]]

    def _read(self, name: str) -> str:
        return str(self.bucket.blob(self.prefix + name).download_as_text())

    def _write(self, name: str, text: str) -> None:
        # A single-request upload is atomic in Cloud Storage: the object becomes visible only once complete, so no
        # temporary name is needed. if_generation_match=0 ("only if no such object yet") keeps a concurrent writer
        # that picked the same name from silently replacing a stored snapshot.
        self.bucket.blob(self.prefix + name).upload_from_string(
            text, content_type="application/json", if_generation_match=0
        )

    def _delete(self, name: str) -> None:
        self.bucket.blob(self.prefix + name).delete()


def default_location() -> Path:
    """The platform's user data folder (XDG on Linux), without a dependency for it."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "driftcheck" / "history"


def open_store(location: str | Path | None = None) -> Store:
    if location is None:
        return LocalStore(default_location())
    if is_gcs(str(location)):
        return GcsStore(str(location))
    return LocalStore(Path(location))


def entry_name(data: dict[str, Any], taken: datetime) -> str:
    """The name a snapshot taken at `taken` is stored under: known before it is stored."""
    return f"{taken.astimezone(UTC).strftime(STAMP)}--{scope_of(data)}.json"


def scope_of(data: dict[str, Any]) -> str:
    scope = data.get("scope") or {}
    text = "_".join([str(scope.get("project") or "unknown"), *map(str, scope.get("regions") or ())])
    return _UNSAFE.sub("-", text)


def project_entries(
    entries: list[Entry], service: str, project: str | None, region: str | None = None
) -> list[Entry]:
    """One project's snapshots: the one asked for, or the only one whose newest snapshot has `service`.

    An audit stores every project in one store, and two projects often run a service of the same name: mixing
    their snapshots would report staging-versus-prod differences as changes.
    """
    projects = sorted({entry.project for entry in entries})
    if project is not None:
        return [entry for entry in entries if entry.project == project]
    if len(projects) < 2:
        return entries
    having = [
        p for p in projects if _service(next(e for e in reversed(entries) if e.project == p), service, region)
    ]
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


def _service(
    entry: Entry, name: str, region: str | None = None, data: dict[str, Any] | None = None
) -> Service | None:
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


def iso(moment: datetime) -> str:
    """UTC, to the microsecond, with a Z: the one timestamp form of history, reports and partials."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
