"""The audit job: one snapshot of every project in scope, then IaC drift, peer-group and environment parity, and
what changed since the previous snapshot, as one ranked report.

Two halves, so that shards plus `merge` give exactly the unsharded answer: `collect` is the live half (fetch each
project, store its snapshot in history, diff it with the one before); `analyse` is pure and offline: the same
collected snapshots give the same report wherever and however they were collected. Peer groups and environment
pairs may span projects that different shards fetched, which is why analysis waits for the merge.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from typing import Any

from driftcheck.compare.timeline_change import TimelineChange, iso
from driftcheck.errors import DriftcheckError
from driftcheck.jobs.config import Config, EnvironmentPair, Ignore
from driftcheck.jobs.drift import drift, load_declared
from driftcheck.jobs.history.store import Store, entry_name, open_store, scope_of
from driftcheck.jobs.history.timeline import snapshot_changes
from driftcheck.jobs.parity import ENVIRONMENT_RULE, environment_parity, peer_group_parity, region_peer_status
from driftcheck.model import Inventory, Service
from driftcheck.ruleset.findings import Finding, Result, Unverified
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.rank import rank
from driftcheck.sources.asset_inventory import inventory_notes
from driftcheck.sources.snapshot_file import load_by_region


@dataclasses.dataclass(frozen=True)
class Collected:
    """One project's snapshot as the audit took it (scrubbed, as stored), and what changed since the previous one."""

    project: str
    taken: datetime
    data: dict[str, Any]
    previous: datetime | None = None  # when the snapshot it was compared with was taken; None: the first audit
    changes: tuple[TimelineChange, ...] = ()
    stored: str | None = None  # where history keeps it

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "taken": iso(self.taken),
            "previous": iso(self.previous) if self.previous else None,
            "changes": [change.as_dict() for change in self.changes],
            "stored": self.stored,
            "snapshot": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Collected:
        return cls(
            project=raw["project"],
            taken=datetime.fromisoformat(raw["taken"]),
            data=raw["snapshot"],
            previous=datetime.fromisoformat(raw["previous"]) if raw.get("previous") else None,
            changes=tuple(TimelineChange.from_dict(c) for c in raw.get("changes") or ()),
            stored=raw.get("stored"),
        )


@dataclasses.dataclass(frozen=True)
class CollectOptions:
    endpoint: str | None = None
    concurrency: int = 16
    progress: Callable[[str], None] | None = None
    history: str | None = None  # a folder or gs://; None: the user data folder
    store: bool = True  # False: compare with history but store nothing (--no-history stores and compares nothing)
    keep: int | None = None
    keep_days: float | None = None
    # "asset-inventory": read in bulk through Cloud Asset Inventory (sources/live/assets.py), the rest per resource
    source: str = "api"
    parents: tuple[str, ...] = ()  # the organization or folders listed ("organizations/ID"); (): each project's own
    listings: tuple[Any, ...] = ()  # Cloud Asset Inventory listings read already (an organization's discovery)


def collect(
    config: Config,
    projects: Iterable[str],
    options: CollectOptions,
    on_collected: Callable[[Collected], None] | None = None,
) -> list[Collected]:
    """Fetch every project (one concurrent run); store each snapshot and diff it with the previous one as soon as
    it is complete. `on_collected` then gets it too, while the next projects are still being fetched."""
    from driftcheck.jobs.compare_live import (  # lazy: `merge` needs no client
        LiveOptions,
        scrubbed_snapshot,
        take_snapshots,
    )
    from driftcheck.sources.live.scope import Scope

    projects = list(projects)
    if not projects:
        return []
    live = LiveOptions(Scope(projects[0], config.regions), options.endpoint, options.concurrency, options.progress)
    now = datetime.now(UTC)
    store = open_store(options.history) if options.store else None  # once: a gs:// store is a client
    collected: dict[str, Collected] = {}

    def remember(project: str, data: dict[str, Any]) -> None:
        collected[project] = item = _remember(project, scrubbed_snapshot(data), now, store)
        if on_collected is not None:
            on_collected(item)

    if options.source == "asset-inventory":
        from driftcheck.sources.live.assets import take_inventory_snapshots

        # a shard of an organization's or folder's audit: fewer projects than its scope holds (config.projects)
        share = bool(options.parents) and len(projects) < len(config.projects)
        take_inventory_snapshots(projects, config.regions, list(options.parents) or None, endpoint=options.endpoint,
                                 concurrency=options.concurrency, progress=options.progress, on_snapshot=remember,
                                 listings=list(options.listings), share=share)  # fmt: skip
    else:
        take_snapshots([Scope(project, config.regions) for project in projects], live, on_snapshot=remember)
    return [collected[project] for project in projects]


def _remember(project: str, data: dict[str, Any], now: datetime, store: Store | None) -> Collected:
    if store is None:
        return Collected(project, now, data)
    earlier = store.entries(scope_of(data))
    previous = earlier[-1] if earlier else None
    listing_failed = any(resource.startswith("services in ") for resource in data.get("errors", {}))
    if listing_failed:  # a snapshot missing a region's services would read as all of them removed, then re-added
        return Collected(project, now, data)
    changes = snapshot_changes(previous.taken, previous.load(), now, data) if previous else []
    # Stored only once the report is out (store_snapshots): a run that fails before then, or a retried task,
    # compares with the same previous snapshot again instead of losing tonight's changes.
    return Collected(project, now, data, previous.taken if previous else None, tuple(changes), entry_name(data, now))


def store_snapshots(collected: Iterable[Collected], options: CollectOptions) -> list[str]:
    """Store what collect compared, under the names it announced; apply retention. Where each went."""
    stored = [c for c in collected if c.stored]
    if not stored:
        return []
    store = open_store(options.history)
    for item in stored:
        entry = store.save(item.data, item.taken)
        # per scope: the store holds every project's snapshots, and `keep` must not delete another project's latest
        store.prune(keep=options.keep, days=options.keep_days, now=item.taken, scope=entry.scope)
    return [f"{store.location}/{c.stored}" for c in stored]


def analyse(
    config: Config,
    collected: Iterable[Collected],
    ruleset: RuleSet,
    today: date,
    drift_checks: Mapping[str, Checks] | None = None,
) -> Result:
    """The report over collected snapshots; pure: no network beyond the Terraform states the config names.
    `drift_checks`: check_drift's results computed already (while fetching), by project."""
    order = {project: i for i, project in enumerate(config.projects)}
    collected = sorted(collected, key=lambda c: (order.get(c.project, len(order)), c.project))
    parsed = {c.project: _inventories(c) for c in collected}
    inventories = {(project, region): inv for project, regions in parsed.items() for region, inv in regions.items()}
    audit = Checks()
    for c in collected:
        audit.unread.update({f"{c.project}: {resource}": why for resource, why in c.data.get("errors", {}).items()})
        ready = (drift_checks or {}).get(c.project)
        audit.extend(ready if ready is not None else check_drift(config, c, ruleset, _copies(parsed[c.project])))
    services = [s for inventory in inventories.values() for s in inventory.services.values()]
    for group in config.peer_groups:
        matched = sum(1 for service in services if group.includes(service))
        if matched < 2:  # a misspelt member or project would otherwise pass as a group that agrees
            audit.notes.append(f"peer group {group.name} matches {matched} service{'' if matched == 1 else 's'}: "
                               "nothing to compare")  # fmt: skip
        parity = peer_group_parity(group, services, ruleset)
        audit.findings += parity.findings
        audit.unverified += parity.unverified
    for pair in config.environment_pairs:
        audit.add_environment_pair(pair, services, ruleset)
    for inventory in inventories.values() if config.region_peers else ():
        region = region_peer_status(inventory, ruleset)
        audit.findings += region.findings
        audit.unverified += region.unverified
    findings, ignore_notes = _apply_ignores(audit.findings, config, today)
    count = len(services)
    return Result(
        target=f"audit of {', '.join(c.project for c in collected) or 'no project'} ({', '.join(config.regions)})",
        baselines=(),
        status={"known": False, "reason": f"audit of {count} services in {len(collected)} projects"},
        findings=tuple(rank(findings, [r.id for r in ruleset.rules])),
        unverified=tuple(audit.unverified),
        notes=(
            *audit.notes,
            *ignore_notes,
            *_first_audit_notes(collected),
            *dict.fromkeys(note for c in collected for note in inventory_notes(c.data)),  # as of when, what fell back
            *_unread_notes(audit.unread),
        ),
        unread=audit.unread,
        changes=tuple(change for c in collected for change in c.changes),
    )


def check_drift(
    config: Config, collected: Collected, ruleset: RuleSet, inventories: dict[str, Inventory] | None = None
) -> Checks:
    """One project's Terraform drift, on inventories of its own (drift aliases project numbers in them; pass
    copies when the caller has parsed the snapshot already). It needs nothing of the other projects, so an audit
    runs it as soon as the project's snapshot is in."""
    checks = Checks()
    location = config.terraform_state.get(collected.project)
    if location is not None:
        live = inventories or _inventories(collected)
        unlisted = {r for r in live if f"services in {r}" in (collected.data.get("errors") or {})}
        # a region whose services could not be listed is unknown, not empty: its declared services are not missing
        live = {region: inventory for region, inventory in live.items() if region not in unlisted}
        checks.add_drift(location, live, collected.project, ruleset)
    return checks


@dataclasses.dataclass
class Checks:
    """What the checks found, gathered in the order they ran (ranking is stable, so that order breaks ties)."""

    findings: list[Finding] = dataclasses.field(default_factory=list)
    unverified: list[Unverified] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    unread: dict[str, str] = dataclasses.field(default_factory=dict)

    def extend(self, other: Checks) -> None:
        self.findings += other.findings
        self.unverified += other.unverified
        self.notes += other.notes
        self.unread.update(other.unread)

    def add_drift(self, location: str, live: dict[str, Inventory], project: str, ruleset: RuleSet) -> None:
        """Region by region: one state may declare a service of the same name in two regions' live inventories."""
        try:
            declared = load_declared(location)
        except DriftcheckError as exc:  # one unreadable state leaves one project's drift unknown, not the audit
            self.unread[f"{project}: terraform state {location}"] = str(exc)
            return
        first = next(iter(live), None)
        for region, inventory in live.items():
            here = {
                name: service
                for name, service in declared.services.items()
                if service.region == region or (not isinstance(service.region, str) and region == first)
            }
            label = f"live {project}/{region}"
            result = drift(dataclasses.replace(declared, services=here), inventory, ruleset,
                           state_label=location, live_label=label)  # fmt: skip
            self.findings += result.findings
            self.unverified += result.unverified
            self.notes += [f"{project}/{region}: {note}" for note in result.notes]

    def add_environment_pair(self, pair: EnvironmentPair, services: list[Service], ruleset: RuleSet) -> None:
        left, right = (_find(services, side.project, side.region, side.service) for side in (pair.left, pair.right))
        if left is None or right is None:
            rule = ruleset.get(ENVIRONMENT_RULE)
            missing = pair.left if left is None else pair.right
            reason = f"environment pair {pair.name}: {missing} is not in this audit's snapshots"
            self.unverified.append(Unverified(ENVIRONMENT_RULE, rule.title if rule else pair.name, reason))
            return
        self.findings += environment_parity(pair, left, right, ruleset=ruleset)


def _inventories(collected: Collected) -> dict[str, Inventory]:
    """The canonical services of one project, one inventory per region. The API may name a project by number;
    the audit asked by id."""
    inventories = load_by_region(collected.data, f"live:{collected.project}")
    for inventory in inventories.values():
        for name, service in inventory.services.items():
            if service.project != collected.project and str(service.project).isdigit():
                inventory.project_aliases.setdefault(str(service.project), collected.project)
                inventory.services[name] = dataclasses.replace(service, project=collected.project)
    return inventories


def _copies(inventories: dict[str, Inventory]) -> dict[str, Inventory]:
    """Inventories drift may change (its aliases and resolved services) without changing the originals; the
    services themselves are immutable and shared."""
    return {region: inventory.copy() for region, inventory in inventories.items()}


def _find(services: list[Service], project: str, region: str, name: str) -> Service | None:
    return next((s for s in services if (s.project, s.region, s.name) == (project, region, name)), None)


def _apply_ignores(findings: list[Finding], config: Config, today: date) -> tuple[list[Finding], list[str]]:
    """Drop what an active ignore covers; say how many each ignore dropped, and which ignores have expired."""
    active = [(i, ignore) for i, ignore in enumerate(config.ignores) if not ignore.expired(today)]
    kept, dropped = [], Counter[int]()
    for finding in findings:
        index = next((i for i, ignore in active if _covers(ignore, finding)), None)
        if index is None:
            kept.append(finding)
        else:
            dropped[index] += 1
    notes = [
        f"{n} finding{'s' if n > 1 else ''} ignored by ignores[{i}]" + _reason(config.ignores[i])
        for i, n in sorted(dropped.items())
    ]
    notes += [
        f"ignores[{i}] expired on {ignore.expires} and applies no more" + _reason(ignore)
        for i, ignore in enumerate(config.ignores)
        if ignore.expired(today)
    ]
    return kept, notes


def _covers(ignore: Ignore, finding: Finding) -> bool:
    subject = finding.subject or ""
    name = subject.rsplit("/", 1)[-1]
    if ignore.rules and finding.rule not in ignore.rules:
        return False
    if ignore.services and not any(fnmatchcase(name, g) or fnmatchcase(subject, g) for g in ignore.services):
        return False
    if ignore.fields:  # every field the finding stands on must be ignored, or it still has something to say
        paths = [e.path for e in finding.evidence]
        return bool(paths) and all(any(fnmatchcase(p, g) for g in ignore.fields) for p in paths)
    return True


def _reason(ignore: Ignore) -> str:
    return f" ({ignore.reason})" if ignore.reason else ""


def _unread_notes(unread: dict[str, str]) -> list[str]:
    """Said in every format: the report is incomplete, and here is what to grant or fix."""
    return [f"could not read {resource} ({reason})" for resource, reason in sorted(unread.items())]


def _first_audit_notes(collected: list[Collected]) -> list[str]:
    first = [c.project for c in collected if c.stored and c.previous is None]
    return [f"first audit of {', '.join(first)}: no earlier snapshot to compare with"] if first else []
