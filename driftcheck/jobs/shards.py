"""Scale-out: a Cloud Run Job's tasks each audit a share of the projects and write a partial; `merge` joins them.

A partial holds what its task collected (the scrubbed snapshots and the changes since the previous ones), not
a report: peer groups and environment pairs may span projects of different tasks, so the one analysis runs at
the merge, over everything, and gives exactly what one unsharded audit gives.

A partial is a JSON object: `driftcheck_audit_partial` (the format version, 1), `tool`, `shard` ("I/N"), `config`
(the configuration file the task ran with, or "command line"), `projects` (the task's share) and `collected`. An
audit without a configuration file (`--organization`, `--folder`, or a one-off `--project`) also writes `scope`:
what that configuration would have said, so `merge` can rebuild it without a file: `projects` (every project the
shards were cut from, in the audit's order, not only this task's share), `regions`, `parents` ("organizations/ID",
"folders/ID"; [] for --project), `source` ("api" or "asset-inventory") and `region_peers` (each region's services
compared as peers, as an unsharded one-off audit does). Partials written before `scope` existed still merge with
--config; the key is optional, so the format version stays 1.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from driftcheck import __version__
from driftcheck.errors import InputError
from driftcheck.jobs.audit import Collected
from driftcheck.jobs.config import Config
from driftcheck.sources.gcs import SCHEME, is_gcs, normalized, read_object
from driftcheck.sources.live import storage

TASK_INDEX, TASK_COUNT = "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"
MARKER = "driftcheck_audit_partial"
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Shard:
    """Task `index` of `count` (counting from 0, as CLOUD_RUN_TASK_INDEX does) audits every count-th project."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str, where: str = "--shard") -> Shard:
        index, _, count = text.partition("/")
        if not (index.strip().isdecimal() and count.strip().isdecimal()) or not 0 <= int(index) < int(count):
            raise InputError(f"{where}: expected I/N with 0 <= I < N (I counts from 0), got {text!r}")
        return cls(int(index), int(count))

    @classmethod
    def from_environment(cls) -> Shard | None:
        """A Cloud Run Job task knows its place; a job of one task is no shard."""
        index, count = os.environ.get(TASK_INDEX), os.environ.get(TASK_COUNT)
        if not index or not count or count == "1":
            return None
        return cls.parse(f"{index}/{count}", where=f"{TASK_INDEX}/{TASK_COUNT}")

    def projects(self, projects: Iterable[str]) -> tuple[str, ...]:
        return tuple(project for i, project in enumerate(projects) if i % self.count == self.index)


@dataclasses.dataclass(frozen=True)
class AuditScope:
    """What an audit without a configuration file audited: enough to rebuild its Config at the merge."""

    projects: tuple[str, ...]  # all of them, in the order the shards were cut from
    regions: tuple[str, ...]
    parents: tuple[str, ...] = ()  # "organizations/ID", "folders/ID"
    source: str = "api"  # or "asset-inventory"
    region_peers: bool = True

    @classmethod
    def of(cls, config: Config, parents: Iterable[str] = (), source: str = "api") -> AuditScope:
        return cls(tuple(config.projects), tuple(config.regions), tuple(parents), source, config.region_peers)

    def config(self, source: str) -> Config:
        """The Config the audit ran with (`source`: the partials' configuration, "command line")."""
        return Config(source=source, projects=self.projects, regions=self.regions, region_peers=self.region_peers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "projects": list(self.projects),
            "regions": list(self.regions),
            "parents": list(self.parents),
            "source": self.source,
            "region_peers": self.region_peers,
        }

    @classmethod
    def from_dict(cls, raw: Any, origin: str) -> AuditScope:
        if not isinstance(raw, dict):
            raise InputError("expected a JSON object", file=origin, where="scope")
        lists = {}
        for key in ("projects", "regions", "parents"):
            value = raw.get(key)
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                raise InputError("expected a list of non-empty strings", file=origin, where=f"scope.{key}")
            lists[key] = tuple(value)
        if raw.get("source") not in ("api", "asset-inventory"):
            raise InputError('expected "api" or "asset-inventory"', file=origin, where="scope.source")
        if not isinstance(raw.get("region_peers"), bool):
            raise InputError("expected true or false", file=origin, where="scope.region_peers")
        return cls(lists["projects"], lists["regions"], lists["parents"], raw["source"], raw["region_peers"])


@dataclasses.dataclass(frozen=True)
class Partial:
    shard: Shard
    config: str  # the configuration file the task ran with
    projects: tuple[str, ...]
    collected: tuple[Collected, ...]
    origin: str
    scope: AuditScope | None = None  # an audit without a configuration file: what it audited


def partial_name(shard: Shard) -> str:
    return f"part-{shard.index}-of-{shard.count}.json"


def write_partial(
    location: str, shard: Shard, config: str, collected: list[Collected], scope: AuditScope | None = None
) -> str:
    """Write to a file, or into a folder or gs://bucket/prefix/ (ending in "/") as part-I-of-N.json. `scope`: the
    audit ran without a configuration file, and this is what it audited (the merge rebuilds its Config from it)."""
    document: dict[str, Any] = {
        MARKER: FORMAT_VERSION,
        "tool": {"name": "driftcheck", "version": __version__},
        "shard": str(shard),
        "config": config,
        "projects": [c.project for c in collected],
        "collected": [c.as_dict() for c in collected],
    }
    if scope is not None:
        document["scope"] = scope.as_dict()
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if is_gcs(location):
        url = normalized(location)
        url = url + partial_name(shard) if url.endswith("/") else url
        _upload(url, text)
        return url
    path = Path(location)
    if location.endswith(("/", os.sep)) or path.is_dir():
        path = path / partial_name(shard)
    from driftcheck.fileio import write_atomic

    try:  # as the history store does: a missing folder must not fail the task after its snapshots are stored
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the partial's folder: {exc.strerror}", file=str(path.parent)) from None
    write_atomic(path, text)
    return str(path)


def read_partials(locations: list[str]) -> tuple[list[Partial], dict[str, str]]:
    """Every partial found, and the shards that are missing (as unread resources: the merge is incomplete)."""
    partials = [_parse(text, origin) for location in locations for origin, text in _texts(location)]
    if not partials:
        raise InputError(f"no partial audit report (part-*.json) in {', '.join(locations)}")
    counts = {p.shard.count for p in partials}
    if len(counts) > 1:
        raise InputError(f"the partials come from audits of different shard counts ({sorted(counts)}); merge one run")
    seen: dict[int, str] = {}
    for partial in partials:
        if partial.shard.index in seen:
            raise InputError(f"shard {partial.shard} is given twice: {seen[partial.shard.index]} and {partial.origin}")
        seen[partial.shard.index] = partial.origin
    count = counts.pop()
    missing = {f"shard {i}/{count}": "no partial report found" for i in range(count) if i not in seen}
    return sorted(partials, key=lambda p: p.shard.index), missing


def stale_partials(collected: list[Collected], spread: timedelta = timedelta(hours=1)) -> list[str]:
    """Tasks of one run finish within minutes; partials hours apart mean a task failed and an old part remained."""
    if not collected:
        return []
    oldest = min(collected, key=lambda c: c.taken)
    newest = max(collected, key=lambda c: c.taken)
    if newest.taken - oldest.taken <= spread:
        return []
    return [
        f"the partials were taken from {oldest.taken:%Y-%m-%d %H:%M} to {newest.taken:%Y-%m-%d %H:%M} UTC: "
        f"{oldest.project}'s may be left from an earlier run"
    ]


def _parse(text: str, origin: str) -> Partial:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg}, line {exc.lineno})", file=origin) from None
    if not isinstance(raw, dict) or raw.get(MARKER) != FORMAT_VERSION:
        raise InputError(f"not a driftcheck partial audit report ({MARKER}: {FORMAT_VERSION})", file=origin)
    try:
        partial = Partial(
            shard=Shard.parse(str(raw["shard"]), where=f"{origin}: shard"),
            config=str(raw["config"]),
            projects=tuple(raw["projects"]),
            collected=tuple(Collected.from_dict(c) for c in raw["collected"]),
            origin=origin,
            scope=AuditScope.from_dict(raw["scope"], origin) if raw.get("scope") is not None else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"incomplete partial report ({type(exc).__name__}: {exc})", file=origin) from None
    for i, item in enumerate(partial.collected):
        _check_collected(item, origin, f"collected[{i}]")
    return partial


def _check_collected(item: Collected, origin: str, where: str) -> None:
    """The shapes the analysis reads, checked here: a damaged partial is bad input, not an internal error."""
    snapshot = item.data
    expected = [
        ("project", item.project, str),
        ("snapshot", snapshot, dict),
        ("snapshot.scope", snapshot.get("scope") if isinstance(snapshot, dict) else None, dict),
        ("snapshot.services", snapshot.get("services", []) if isinstance(snapshot, dict) else None, list),
        ("snapshot.errors", snapshot.get("errors", {}) if isinstance(snapshot, dict) else None, dict),
    ]
    for key, value, kind in expected:
        if not isinstance(value, kind):
            raise InputError(f"expected {'a string' if kind is str else f'a JSON {kind.__name__}'}",
                             file=origin, where=f"{where}.{key}")  # fmt: skip
    if item.taken.tzinfo is None:
        raise InputError("a timestamp without a time zone", file=origin, where=f"{where}.taken")


def merged_scope(partials: list[Partial]) -> AuditScope | None:
    """The scope the partials record when they come from an audit without a configuration file; None when none
    records one. Every partial must record the same: partials of different audits would make a report of neither."""
    first = partials[0]
    if all(partial.scope is None for partial in partials):
        return None
    for partial in partials[1:]:
        if partial.scope == first.scope:
            continue
        if partial.scope is None or first.scope is None:
            which = "records" if partial.scope is not None else "does not record"
            differs = f"it {which} the scope of an audit without a configuration, unlike {first.origin}"
        else:
            fields = [f.name for f in dataclasses.fields(AuditScope)
                      if getattr(partial.scope, f.name) != getattr(first.scope, f.name)]  # fmt: skip
            differs = f"its scope differs from {first.origin}'s in {', '.join(fields)}"
        raise InputError(
            f"{differs}: the partials come from different audits; merge the partials of one run", file=partial.origin
        )
    return first.scope


def check_against(partials: list[Partial], projects: tuple[str, ...], source: str) -> None:
    """Each partial must hold exactly the projects its shard audits under this configuration: a partial of another
    configuration (or of an edited one) would silently leave projects out of the report, or add foreign ones."""
    for partial in partials:
        expected = partial.shard.projects(projects)
        if tuple(partial.projects) != expected or tuple(c.project for c in partial.collected) != expected:
            raise InputError(
                f"shard {partial.shard} of {source} audits {', '.join(expected) or 'no project'}, but this partial "
                f"holds {', '.join(partial.projects) or 'none'}: it comes from another configuration "
                f"(it was written with {partial.config}); merge with the configuration the audit ran with",
                file=partial.origin,
            )


def _texts(location: str) -> list[tuple[str, str]]:
    if is_gcs(location):
        return _download(normalized(location))
    path = Path(location)
    if path.is_dir():
        return [(str(p), p.read_text(encoding="utf-8")) for p in sorted(path.glob("part-*-of-*.json"))]
    try:
        return [(location, path.read_text(encoding="utf-8"))]
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=location) from None


def _download(url: str) -> list[tuple[str, str]]:
    """gs://bucket/prefix/ lists the part-*.json under it; gs://bucket/key reads that one object."""
    bucket_name, _, key = url.removeprefix(SCHEME).partition("/")
    if key and not key.endswith("/"):
        return [(url, read_object(url).decode("utf-8"))]
    bucket = storage.open_bucket(bucket_name)
    names = sorted(name for name in storage.names(bucket, key) if _is_partial_name(name.rsplit("/", 1)[-1]))
    return [(f"{SCHEME}{bucket_name}/{name}", storage.read_text(bucket, name)) for name in names]


def _upload(url: str, text: str) -> None:
    """A task that is retried writes its partial again: the newer one replaces it."""
    bucket_name, _, key = url.removeprefix(SCHEME).partition("/")
    storage.write_text(storage.open_bucket(bucket_name), key, text)


def _is_partial_name(name: str) -> bool:
    return name.startswith("part-") and name.endswith(".json") and "-of-" in name
