"""The compare job against the live APIs: fetch in bounded rounds (sources/live/fetch.py), then the rules of offline.

Kept apart from jobs/compare.py so an offline run never imports the Google clients.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.service import cloudrun_v2
from driftcheck.kinds.service.common import add_service
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.redact import redact_text
from driftcheck.ruleset.evaluate import NO_PEER_NOTE, evaluate
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import RuleSet
from driftcheck.sources import targets
from driftcheck.sources.evidence import resolve_service
from driftcheck.sources.live.clients import connect
from driftcheck.sources.live.fetch import LiveFetcher, Progress, parse_services
from driftcheck.sources.live.logs import LogQuery
from driftcheck.sources.live.results import Failure
from driftcheck.sources.live.scope import Scope
from driftcheck.sources.snapshot_file import fetch_errors, load_references

REVISION_SELECTORS = ("latest", "last-ready")


@dataclasses.dataclass(frozen=True)
class LiveOptions:
    scope: Scope
    endpoint: str | None = None
    concurrency: int = 16
    progress: Progress | None = None
    troubleshoot_iam: bool = False  # ask Policy Troubleshooter about each access check of the compared services
    logs: LogQuery | None = None  # read each compared service's recent log entries (sources/live/logs.py); None: not
    connectivity_test: bool = False  # create, read and delete Connectivity Tests for the unsettled paths (WRITES)


def compare_live(
    target: str, baselines: list[str], options: LiveOptions, ruleset: RuleSet, *, alone: bool = False
) -> Result:
    """TARGET and BASELINE are services of the scope (`SERVICE@REVISION` a revision), or files read offline (a
    plan's `plan.json#ADDRESS`, a service.yaml, a snapshot's `FILE#SERVICE`) compared with the live ones."""
    for spec in [target, *baselines]:  # a file that is not there: said before any connection
        if targets.names_a_file(spec):
            targets.check_exists(spec)
    fetcher = LiveFetcher(
        connect(options.endpoint),
        options.scope.project,
        options.scope.region,
        concurrency=options.concurrency,
        progress=options.progress,
    )
    try:
        result, services = _compare(fetcher, target, baselines, ruleset, alone, options.troubleshoot_iam, options.logs)
        if options.connectivity_test:  # the one step that writes: only when asked, once the paths are drawn
            result = connectivity_tests(fetcher, result, services, options.endpoint)
        return result
    finally:
        fetcher.close()


def _compare(
    fetcher: LiveFetcher,
    target: str,
    baselines: list[str],
    ruleset: RuleSet,
    alone: bool,
    troubleshoot: bool = False,
    logs: LogQuery | None = None,
) -> tuple[Result, list[Service]]:
    """The result, and the live services compared (a file's are not: nothing of them runs yet)."""
    specs = [target, *baselines]
    files = Inventory()  # a file TARGET/BASELINE (plan.json#ADDRESS, service.yaml) is read offline, before any call
    local = {spec: targets.pick(spec, files) for spec in dict.fromkeys(specs) if targets.names_a_file(spec)}
    raw = fetcher.services(sorted({spec.split("@", 1)[0] for spec in specs if spec not in local}))  # round 1
    notes: list[str] = []
    if not baselines and not alone:
        target, baselines, note = _default_baselines(fetcher, target, raw, local)
        specs = [target, *baselines]
        notes.append(note)
    if alone:
        specs = [target]
    if len(specs) == 1:
        notes.append(NO_PEER_NOTE)
    named = [spec for spec in specs if spec not in local]  # the live ones
    inventory = Inventory()
    live = _services(fetcher, named, raw)  # round 2, only for revisions
    for service in live:
        add_service(inventory, service)
    for body in raw.values():  # a deterministic URL names the project's number, as a snapshot's services do
        cloudrun_v2.learn_project_number(body, parse_services([body])[0], inventory)
    by_spec = dict(zip(named, live, strict=True))
    by_spec.update({spec: resolve_service(service, inventory.project_aliases) for spec, service in local.items()})
    services = [by_spec[spec] for spec in specs]
    # last round; read back as a snapshot of the fetcher's project is, so live and its snapshot read the same. A
    # file's service of this project is read with the live ones: what it names that exists (a secret, an instance)
    # is read live. One of another project is not: its unqualified names (a secret's) would name this project's.
    elsewhere = [by_spec[spec] for spec in local if _of_another_project(by_spec[spec], fetcher.project)]
    read_live = [s for s in services if all(s is not other for other in elsewhere)]
    notes += [
        f"{s.name} of project {s.project} is read from a file: what it references is read from the files, "
        f"not from {fetcher.project}"
        for s in elsewhere
    ]
    scope = {"scope": {"project": fetcher.project}}
    load_references({**fetcher.referenced(read_live), **scope}, inventory, "live")
    inventory.adopt(files)  # what only the files declare (a planned secret); what is live wins, as offline
    if logs is not None:  # one query per compared live service, in one more concurrent round (a file's never ran)
        compared = dict.fromkeys(spec.split("@", 1)[0] for spec in named)  # a service once, whatever its revisions
        read = fetcher.log_entries([raw[name] for name in compared], logs)
        load_references({**read.snapshot(), **scope}, inventory, "live")
        inventory.errors.update(read.errors())  # unknown, never "no logs" (the log kind, once registered, says so too)
        notes += read.notes()
    if troubleshoot:  # one more, only when asked: the checks derive from what the last round read
        notes += troubleshoot_iam(fetcher, services, inventory)
    notes += [f"could not read {resource} ({reason})" for resource, reason in sorted(inventory.errors.items())]
    result = evaluate(services[0], services[1:], inventory, ruleset)
    return dataclasses.replace(result, notes=tuple(notes)), live


def _of_another_project(service: Service, project: str) -> bool:
    """A project the service names, and not this one (one it leaves unknown is the provider's: taken as this)."""
    return isinstance(service.project, str) and service.project != project


def connectivity_tests(fetcher: LiveFetcher, result: Result, services: list[Service], endpoint: str | None) -> Result:
    """--connectivity-test: one Connectivity Test per path the evidence leaves broken or unknown and one test can
    settle (paths/connectivity.py), at most MAX_TESTS, run concurrently on the fetcher's pool, each deleted once read
    (sources/live/reachability.py); the paths as their answers settle them, and notes for what they did not."""
    from driftcheck.paths import connectivity
    from driftcheck.sources.live import reachability

    revisions = {service.name: _revision_uri(service, fetcher) for service in services}
    probes = [probe for probe in connectivity.probes_of(result.paths) if revisions.get(probe.service)]
    tested = probes[: connectivity.MAX_TESTS]
    if not tested:
        return result
    asked = [reachability.Probe(p.key, revisions[p.service] or "", p.address, p.port) for p in tested]
    client = reachability.reachability_client(endpoint)
    try:
        answers = reachability.run_tests(client, fetcher.project, asked, fetcher.pool, fetcher.progress)
    finally:
        client.transport.close()
    paths = tuple(
        connectivity.settle(path, answers[connectivity.key_of(path)]) if connectivity.key_of(path) in answers else path
        for path in result.paths
    )
    left = sum(1 for answer in answers.values() if answer.get("delete_error"))
    ran = f"--connectivity-test: asked {len(tested)} Connectivity Test{'s' * (len(tested) != 1)} in {fetcher.project}; "
    ran += f"{left} could not be deleted (below)" if left else "none left behind"
    notes = [ran, *connectivity.notes_of(tested, answers, len(probes) - len(tested), reachability.ROLE)]
    return dataclasses.replace(result, paths=paths, notes=(*result.notes, *notes))


def _revision_uri(service: Service, fetcher: LiveFetcher) -> str | None:
    """The revision a Connectivity Test starts from: the one compared (a named revision's, else the latest created:
    the service's template is that revision's)."""
    status = service.status if not isinstance(service.status, Unknown) else None
    revision = service.metadata.revision or (status.latest_created_revision if status else None)
    if not revision:
        return None
    region = service.region if isinstance(service.region, str) else fetcher.region
    return f"projects/{fetcher.project}/locations/{region}/revisions/{revision}"


def troubleshoot_iam(fetcher: LiveFetcher, services: list[Service], inventory: Inventory) -> list[str]:
    """Policy Troubleshooter's answer to every access check of the services (kinds/access/ `checks_for`), into the
    inventory, where the resolver reads them before the local policies. A call that fails leaves the local answer in
    place: it is said in one note per reason, and kept out of `inventory.errors` (nothing became unknown)."""
    from driftcheck.kinds.access import checks_for
    from driftcheck.kinds.troubleshooter import TROUBLESHOOTER

    checks = list(dict.fromkeys(check for service in services for check in checks_for(service, inventory)))
    load_references(fetcher.troubleshoot(checks), inventory, "live")
    prefix = f"{TROUBLESHOOTER.snapshot_key}:"
    failed = {key: inventory.errors.pop(key) for key in sorted(inventory.errors) if key.startswith(prefix)}
    reasons: dict[str, int] = {}
    for reason in failed.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    return [
        f"could not ask Policy Troubleshooter about {count} access check{'s' * (count != 1)} ({reason}): "
        "the IAM policies in the evidence answer them"
        for reason, count in reasons.items()
    ]


def _default_baselines(
    fetcher: LiveFetcher, target: str, raw: dict[str, dict[str, Any]], local: dict[str, Service]
) -> tuple[str, list[str], str]:
    """No baseline named: a failed deploy is compared with its last ready revision, otherwise with its peers (a
    file's service, with every service of the region: the one it would replace too, as offline)."""
    name = target.split("@", 1)[0]
    service = raw.get(name)
    if service is not None:
        created, ready = service.get("latestCreatedRevision"), service.get("latestReadyRevision")
        if "@" not in target and created and ready and created != ready:
            return (
                f"{name}@latest",
                [f"{name}@last-ready"],
                f"no baseline given: compared {name}'s latest revision with its last ready one",
            )
    shown = local[target].name if target in local else name
    peers = [item for item in fetcher.list_services() if service is None or item["name"] != service["name"]]
    if not peers:
        return target, [], f"no baseline given, and {shown} has no peer in {fetcher.project}/{fetcher.region}"
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
            metadata = dataclasses.replace(service.metadata, revision_of=service.name, revision=revision)
            service = dataclasses.replace(service, name=shown, metadata=metadata)
        services.append(service)
    return services


def take_snapshot(options: LiveOptions) -> dict[str, Any]:
    """Every service of the scope's regions and what they reference, in concurrent rounds: the listing, then the
    references and, a round later each, what those name on the services' paths (sources/live/fetch.py)."""
    data = take_snapshots([options.scope], options)[options.scope.project]
    listing = [reason for resource, reason in data["errors"].items() if resource.startswith("services in ")]
    if listing:  # a one-project snapshot that cannot list its services holds nothing worth writing
        raise InputError(f"cannot list the services of {options.scope.project}: {listing[0]}")
    return data


def take_snapshots(
    scopes: list[Scope],
    options: LiveOptions,
    on_snapshot: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """One snapshot per project, fetched together on one pool of --concurrency workers: every listing in one
    round, then every project's references queued in project order. Projects therefore complete one after
    another, and `on_snapshot(project, data)` runs for each while the pool goes on fetching the next ones:
    an audit analyses as it fetches. A listing that fails is recorded in that snapshot's errors."""
    clients = connect(options.endpoint)
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="driftcheck")
    fetchers = {
        (scope.project, region): LiveFetcher(clients, scope.project, region, progress=options.progress, pool=pool)
        for scope in scopes
        for region in scope.regions
    }
    switch = sys.getswitchinterval()
    # The callback is CPU work holding the GIL; the pool's threads need it briefly for each response. Hand it over
    # every 0.5 ms instead of 5 ms, or each response waits behind the analysis and the fetch slows to its pace.
    sys.setswitchinterval(min(switch, 0.0005))
    try:
        listed = dict(zip(fetchers, pool.map(lambda f: f.try_list_services(), fetchers.values()), strict=True))
        queued = {scope.project: _queue_references(scope, fetchers, listed) for scope in scopes}
        snapshots = {}
        for scope in scopes:
            data = _project_snapshot(scope, queued[scope.project], listed, options.troubleshoot_iam, options.logs)
            snapshots[scope.project] = data
            if on_snapshot is not None:
                on_snapshot(scope.project, data)
        return snapshots
    finally:
        sys.setswitchinterval(switch)
        pool.shutdown(wait=False, cancel_futures=True)


@dataclasses.dataclass(frozen=True)
class _Queued:
    """One project's services, and the calls for what they reference, queued on the shared pool."""

    fetcher: LiveFetcher
    futures: dict[tuple[str, str, str], Future[Any]]  # (kind, part, resource)
    raw_services: list[dict[str, Any]]
    services: list[Service]  # parsed: what the later rounds read is on their paths


def _queue_references(
    scope: Scope, fetchers: dict[tuple[str, str], LiveFetcher], listed: dict[tuple[str, str], Any]
) -> _Queued:
    keys = [(scope.project, region) for region in scope.regions]
    raw_services = [s for key in keys if not isinstance(listed[key], Failure) for s in listed[key]]
    fetcher = fetchers[keys[0]]
    services = parse_services(raw_services)
    return _Queued(fetcher, fetcher.submit_referenced(services), raw_services, services)


def _project_snapshot(
    scope: Scope,
    queued: _Queued,
    listed: dict[tuple[str, str], Any],
    troubleshoot: bool = False,
    logs: LogQuery | None = None,
) -> dict[str, Any]:
    from datetime import UTC, datetime

    from driftcheck import __version__
    from driftcheck.sources.snapshot_file import FORMAT_VERSION, MARKER

    parts = queued.fetcher.gather(queued.futures, queued.services)
    listing_errors = {
        f"services in {region}": listed[(scope.project, region)].reason()
        for region in scope.regions
        if isinstance(listed[(scope.project, region)], Failure)
    }
    data = {
        MARKER: FORMAT_VERSION,
        "tool": {"name": "driftcheck", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scope": {"project": scope.project, "regions": list(scope.regions)},
        "services": queued.raw_services,
        **parts,
    }
    if troubleshoot:  # one more round, as a compare asks it: the answers are stored, a failed call as its error
        data.update(_troubleshoot_snapshot(queued.fetcher, data))
    log_errors: dict[str, str] = {}
    if logs is not None:  # each service's recent log entries, one query each; a failed one stored as its error
        read = queued.fetcher.log_entries(queued.raw_services, logs)
        data.update(read.snapshot())
        log_errors = read.errors()
    return {**data, "errors": {**listing_errors, **fetch_errors(data), **log_errors}}


def _troubleshoot_snapshot(fetcher: LiveFetcher, data: dict[str, Any]) -> dict[str, Any]:
    """Policy Troubleshooter's answer to every access check of the snapshot's services, read back from the snapshot
    as a compare of it would read them (kinds/access/checks.py `checks_for`), in snapshot shape."""
    from driftcheck.kinds.access import checks_for
    from driftcheck.sources.snapshot_file import load_by_region

    checks = [
        check
        for inventory in load_by_region(data, "live").values()
        for service in inventory.services.values()
        for check in checks_for(service, inventory)
    ]
    return fetcher.troubleshoot(list(dict.fromkeys(checks)))


def scrubbed_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as written to a file: no credential in it, changed passwords still told apart within it.

    Only for writing: a run that compares what it fetched compares the values themselves (fingerprinted alike).
    """
    scrubbed = {key: value if key == "services" else _redacted_errors(value, key) for key, value in data.items()}
    return {**scrubbed, "services": [cloudrun_v2.scrubbed(service) for service in data["services"]]}


def _redacted_errors(value: Any, key: str = "") -> Any:
    """An API's error message may quote a value it was given, a credential included: every error text (in
    `errors` and in a failed reference's `error`) is kept redacted, as every output is."""
    if isinstance(value, str):
        return redact_text(value) if key in ("error", "errors") else value
    if isinstance(value, dict):
        return {k: _redacted_errors(v, "errors" if key == "errors" else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted_errors(item, key) for item in value]
    return value
