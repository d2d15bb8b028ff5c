"""Where snapshots are kept: a local folder (by default the platform's user data folder) or `gs://bucket/prefix`.

Each snapshot is one JSON object named `YYYYMMDDTHHMMSS.ffffffZ--SCOPE.json`: the UTC timestamp first, so names sort
in time order in a folder listing and in a bucket listing alike, without reading any object. google-cloud-storage is
imported only when a gs:// store is used, so a local history never loads google.*.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftcheck.errors import DriftcheckError, InputError
from driftcheck.sources.gcs import SCHEME, is_gcs, normalized
from driftcheck.sources.live import storage

STAMP = "%Y%m%dT%H%M%S.%fZ"

_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}\.\d{6}Z)--(?P<scope>[A-Za-z0-9._+-]+)\.json$")

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


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
    """Snapshots as objects under gs://bucket/prefix/, through sources/live/storage.py."""

    def __init__(self, url: str) -> None:
        bucket, _, prefix = normalized(url).removeprefix(SCHEME).partition("/")
        if not bucket:
            raise InputError("expected gs://BUCKET[/PREFIX]", file=url)
        self.location = f"{SCHEME}{bucket}" + (f"/{prefix.strip('/')}" if prefix.strip("/") else "")
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.bucket = storage.open_bucket(bucket)

    def _names(self) -> list[str]:
        names = (name[len(self.prefix) :] for name in storage.names(self.bucket, self.prefix))
        return [name for name in names if "/" not in name]

    def _read(self, name: str) -> str:
        return storage.read_text(self.bucket, self.prefix + name)

    def _write(self, name: str, text: str) -> None:
        # Atomic, and only if absent: a concurrent writer that picked the same name cannot replace a stored snapshot.
        storage.write_text(self.bucket, self.prefix + name, text, if_absent=True)

    def _delete(self, name: str) -> None:
        storage.delete(self.bucket, self.prefix + name)


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
