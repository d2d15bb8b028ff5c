"""The compare job against the live APIs: fetch in at most three rounds, then the same rules as offline.

Kept apart from pipeline.py so an offline run never imports the Google clients.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import Inventory, Service
from driftcheck.ruleset.evaluate import evaluate
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import RuleSet
from driftcheck.sources import cloudrun_v2
from driftcheck.sources.common import add_service
from driftcheck.sources.live.clients import connect
from driftcheck.sources.live.fetch import LiveFetcher, Progress, parse_services
from driftcheck.sources.live.scope import Scope
from driftcheck.sources.snapshot_file import fetch_errors, load_references

REVISION_SELECTORS = ("latest", "last-ready")


@dataclasses.dataclass(frozen=True)
class LiveOptions:
    scope: Scope
    endpoint: str | None = None
    concurrency: int = 16
    progress: Progress | None = None


def compare_live(target: str, baselines: list[str], options: LiveOptions, ruleset: RuleSet) -> Result:
    fetcher = LiveFetcher(
        connect(options.endpoint),
        options.scope.project,
        options.scope.region,
        concurrency=options.concurrency,
        progress=options.progress,
    )
    try:
        return _compare(fetcher, target, baselines, ruleset)
    finally:
        fetcher.close()


def _compare(fetcher: LiveFetcher, target: str, baselines: list[str], ruleset: RuleSet) -> Result:
    specs = [target, *baselines]
    raw = fetcher.services(sorted({spec.split("@", 1)[0] for spec in specs}))  # round 1
    notes: list[str] = []
    if not baselines:
        target, baselines, note = _default_baselines(fetcher, target, raw)
        specs = [target, *baselines]
        notes.append(note)
    services = _services(fetcher, specs, raw)  # round 2, only for revisions
    inventory = Inventory()
    for service in services:
        add_service(inventory, service)
    load_references(fetcher.referenced(services), inventory, "live")  # last round
    notes += [f"could not read {resource} ({reason})" for resource, reason in sorted(inventory.errors.items())]
    result = evaluate(services[0], services[1:], inventory, ruleset)
    return dataclasses.replace(result, notes=tuple(notes))


def _default_baselines(fetcher: LiveFetcher, target: str, raw: dict[str, dict[str, Any]]) -> tuple[str, list[str], str]:
    """No baseline named: a failed deploy is compared with its last ready revision, otherwise with its peers."""
    name = target.split("@", 1)[0]
    service = raw[name]
    created, ready = service.get("latestCreatedRevision"), service.get("latestReadyRevision")
    if "@" not in target and created and ready and created != ready:
        return (
            f"{name}@latest",
            [f"{name}@last-ready"],
            f"no baseline given: compared {name}'s latest revision with its last ready one",
        )
    peers = [item for item in fetcher.list_services() if item["name"] != service["name"]]
    if not peers:
        raise InputError(f"no baseline given and {name} has no peer in {fetcher.project}/{fetcher.region}")
    for item in peers:
        raw[item["name"].rsplit("/", 1)[-1]] = item
    names = sorted(item["name"].rsplit("/", 1)[-1] for item in peers)
    return target, names, f"no baseline given: compared with the other {len(names)} services of {fetcher.region}"


def _services(fetcher: LiveFetcher, specs: list[str], raw: dict[str, dict[str, Any]]) -> list[Service]:
    wanted = [(raw[name], selector) for name, _, selector in (spec.partition("@") for spec in specs) if selector]
    revisions = iter(fetcher.revisions(wanted))
    services = []
    for spec in specs:
        name, _, selector = spec.partition("@")
        body = next(revisions) if selector else raw[name]
        service = parse_services([body])[0]
        if selector:  # name it as asked, with the revision it resolved to
            revision = body["template"]["revision"]
            shown = f"{spec} ({revision})" if selector in REVISION_SELECTORS else spec
            service = dataclasses.replace(service, name=shown)
        services.append(service)
    return services


def take_snapshot(options: LiveOptions) -> dict[str, Any]:
    """Every service of the scope's regions and what they reference, in two concurrent rounds."""
    from datetime import UTC, datetime

    from driftcheck import __version__
    from driftcheck.sources.snapshot_file import FORMAT_VERSION, MARKER

    scope = options.scope
    fetchers = [
        LiveFetcher(
            connect(options.endpoint), scope.project, region, concurrency=options.concurrency, progress=options.progress
        )
        for region in scope.regions
    ]
    try:
        listed = fetchers[0].run_parallel(fetchers, lambda fetcher: fetcher.list_services())  # round 1
        raw_services = [service for fetcher in fetchers for service in listed[fetcher]]
        parts = fetchers[0].referenced(parse_services(raw_services))  # round 2
    finally:
        for fetcher in fetchers:
            fetcher.close()
    return {
        MARKER: FORMAT_VERSION,
        "tool": {"name": "driftcheck", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scope": {"project": scope.project, "regions": list(scope.regions)},
        "services": raw_services,
        **parts,
        "errors": fetch_errors(parts),
    }


def scrubbed_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as written to a file: no credential in it, changed passwords still told apart within it.

    Only for writing: a run that compares what it fetched compares the values themselves (fingerprinted alike).
    """
    return {**data, "services": [cloudrun_v2.scrubbed(service) for service in data["services"]]}
