"""Fetch services and everything they reference, in a bounded number of concurrent rounds of API calls.

Round 1: the named services (or the region's list). Round 2: revisions, when asked for. Then every
secret (versions, IAM policy), Cloud SQL instance, connector and runtime service account the services reference,
their projects' IAM policies and the services' own, each project's Pub/Sub subscriptions (a listing, of which
those pushing to the services are kept), the Memorystore instances their env names (a listing per region, kept by
host), and the networks, subnets, routers and firewall rules of Direct VPC, all at once. What those resources name
on the services' paths (a connector's network, then the routers and firewall rules of that network: the kinds'
`references_in`) is read in at most `PATH_ROUNDS` more rounds, each with what the one before read, until nothing
new is named.
A failed call is evidence, not an exception: the resource becomes unknown with the API's own words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from google.api_core import exceptions

from driftcheck.errors import InputError
from driftcheck.kinds.access import AccessCheck
from driftcheck.kinds.registry import LIST, Kind, with_snapshot
from driftcheck.kinds.service import cloudrun_v2
from driftcheck.kinds.service_keys import parse_key, service_key
from driftcheck.kinds.troubleshooter import TROUBLESHOOT, TROUBLESHOOTER, principal_of
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, Service
from driftcheck.sources.live import logs
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, ApiClients, call_retry
from driftcheck.sources.live.logs import LogQuery
from driftcheck.sources.live.reads import READS, SERVICE, ApiReads
from driftcheck.sources.live.results import Failure, failure, kinds_by_name, rest, revision_as_service, snapshot_parts
from driftcheck.sources.snapshot_file import ReadBack, load_references

T = TypeVar("T")
Progress = Callable[[str], None]

# Rounds after the first read of references: connector -> its subnet -> that subnet's network -> nothing new.
PATH_ROUNDS = 3
Calls = dict[tuple[str, str, str], Callable[[], Any]]  # (kind, part, key or parent listed) -> the call
SERVICE_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$")


class LiveFetcher(ApiReads):
    """One project and region, read in rounds; each read a round makes is an `ApiReads` method (reads.py)."""

    def __init__(
        self,
        clients: ApiClients,
        project: str,
        region: str,
        *,
        concurrency: int = 16,
        progress: Progress | None = None,
        pool: ThreadPoolExecutor | None = None,
        answers: Mapping[tuple[str, str, str], Any] | None = None,
    ) -> None:
        """`pool`: one bounded pool shared by the fetchers of many projects, so --concurrency bounds the whole run.
        `answers`: what a bulk read (Cloud Asset Inventory, sources/live/assets.py) answered already, by (kind, part,
        key) as `_calls` names a read: such a read makes no API call, in any round."""
        self.answers = answers or {}
        self.clients = clients
        self.project = project
        self.region = region
        self.owns_pool = pool is None
        self.pool = pool or ThreadPoolExecutor(max_workers=max(1, concurrency))
        self.progress = progress or (lambda _: None)
        self._read_back: ReadBack = {}  # each answer as read into the model, once for every round (`_inventory`)

    def close(self) -> None:
        if self.owns_pool:
            self.pool.shutdown(wait=False, cancel_futures=True)

    # Round 1 ---------------------------------------------------------------------------------------------
    def services(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The named services as v2 REST JSON. A name that does not exist is the user's input error."""
        results = self._parallel(names, lambda name: self._get_service(self._service_path(name)))
        for name, result in results.items():
            if isinstance(result, Failure):
                raise InputError(f"service {name!r} in {self.project}/{self.region}: {result.reason()}")
        return results  # type: ignore[return-value]

    def list_services(self) -> list[dict[str, Any]]:
        parent = f"projects/{self.project}/locations/{self.region}"
        pager = self.clients.services.list_services(parent=parent, retry=call_retry(), timeout=CALL_TIMEOUT_S)
        return [rest(service) for service in pager]  # the pager follows next_page_token to the end

    def try_list_services(self) -> list[dict[str, Any]] | Failure:
        """The listing, or why it failed: an audit of many projects goes on past one it may not read."""
        return self._call(SERVICE.live_read("list"), self.list_services)

    def revisions(self, wanted: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
        """Several revisions in one concurrent round, in the order asked."""
        results = self._parallel(range(len(wanted)), lambda index: self.revision(*wanted[index]))
        return [results[index] for index in range(len(wanted))]

    def revision(self, service: dict[str, Any], which: str) -> dict[str, Any]:
        """`latest`, `last-ready` or a revision name, as a Service-shaped dict the v2 parser reads."""
        name = {"latest": service.get("latestCreatedRevision"), "last-ready": service.get("latestReadyRevision")}.get(
            which, f"{service['name']}/revisions/{which}"
        )
        if not name:
            raise InputError(f"service {last_segment(service['name'])!r} has no {which} revision")
        try:
            revision = rest(self.clients.revisions.get_revision(name=name, retry=call_retry(), timeout=CALL_TIMEOUT_S))
        except exceptions.GoogleAPICallError as exc:
            raise InputError(
                f"revision {last_segment(name)}: {failure(exc, SERVICE.live_read('revision')).reason()}"
            ) from None
        return revision_as_service(service, revision)

    # Last round ------------------------------------------------------------------------------------------
    def referenced(self, services: list[Service]) -> dict[str, Any]:
        """Everything the services reference and what is on their paths, fetched concurrently, in snapshot shape."""
        return self.gather(self.submit_referenced(services), services)

    def gather(self, futures: dict[tuple[str, str, str], Future[Any]], services: list[Service]) -> dict[str, Any]:
        """Wait for the calls `submit_referenced(services)` queued; then read what their results name on the
        services' paths, in at most PATH_ROUNDS more concurrent rounds; every result in snapshot shape, each
        listing kept to what relates to the services."""
        results = self._wait(futures)
        settled = self._settled(results, services)  # kept for the next round, and the last one for the answer
        # What a service names itself was asked for in the first round: later rounds ask only the kinds that follow
        # paths (an audit of thousands of projects spent most of its CPU asking the others again, for nothing new)
        following = [kind for kind in with_snapshot() if kind.follows_paths]
        for _ in range(PATH_ROUNDS):
            calls = self._calls(services, settled[1], done=set(results), asked=following)
            if not calls:
                break
            results.update(self._wait(self._submit(calls)))
            settled = self._settled(results, services)
        return snapshot_parts(settled[0])

    def submit_referenced(self, services: list[Service]) -> dict[tuple[str, str, str], Future[Any]]:
        """Queue the calls for everything the services reference, without waiting: several projects queued one
        after another on a shared pool finish in that order, so the first can be analysed while the rest fetch.
        `gather(futures, services)` then reads what the results name on the services' paths."""
        return self._submit(self._calls(services, Inventory(), done=set()))

    def _submit(self, calls: Calls) -> dict[tuple[str, str, str], Future[Any]]:
        """Each call on the pool, in order; one the bulk read answered is done already (no thread, no wait: an
        audit whose inventory answers every read spends no pool round trip on it)."""
        futures: dict[tuple[str, str, str], Future[Any]] = {}
        for key, call in calls.items():
            if key in self.answers:
                answered: Future[Any] = Future()
                answered.set_result(self.answers[key])
                futures[key] = answered
            else:
                futures[key] = self.pool.submit(call)
        return futures

    def _calls(
        self,
        services: list[Service],
        inventory: Inventory,
        *,
        done: set[tuple[str, str, str]],
        asked: Iterable[Kind] | None = None,
    ) -> Calls:
        """The calls for what the services reference, and what `inventory` (read so far) puts on their paths, that
        are not `done` yet: a get per resource, one paged listing per parent. `asked`: the kinds asked (all)."""
        calls: Calls = {}
        for kind in with_snapshot() if asked is None else asked:
            keys: list[str] | None = None  # only asked of a kind read by key (a listed kind's are not used)
            for read in kind.live_reads:
                make = READS[kind.name, read.part]
                if read.part == LIST:  # one paged listing per parent, of which what relates to the services is kept
                    parents = sorted({p for service in services for p in kind.listed_in(service, inventory)})
                    calls.update({(kind.name, LIST, p): functools.partial(make, self, p) for p in parents})
                    continue
                if keys is None:
                    keys = sorted({key for service in services for key in kind.referenced(service, inventory)})
                calls.update({(kind.name, read.part, key): functools.partial(make, self, key) for key in keys})
        return {key: self._answered(key, call) for key, call in calls.items() if key not in done}

    def _answered(self, key: tuple[str, str, str], call: Callable[[], Any]) -> Callable[[], Any]:
        return functools.partial(_given, self.answers[key]) if key in self.answers else call

    def _wait(self, futures: dict[tuple[str, str, str], Future[Any]]) -> dict[tuple[str, str, str], Any]:
        results = {}
        for key, future in futures.items():
            results[key] = future.result()
            self.progress(str(key))
        return results

    def _settled(
        self, results: dict[tuple[str, str, str], Any], services: list[Service]
    ) -> tuple[dict[tuple[str, str, str], Any], Inventory]:
        """The results with each listing kept to what its kind relates to the services, and the inventory they make.
        What one listing keeps may depend on another's (a Memorystore instance's network decides which firewall
        rules are on the path): kept again until nothing changes."""
        listings = {key: r for key, r in results.items() if key[1] == LIST and not isinstance(r, Failure)}
        kept: dict[tuple[str, str, str], Any] = {key: {} for key in listings}
        named = kinds_by_name()
        for _ in range(len(listings) + 1):
            inventory = self._inventory({**results, **kept})
            keep = {name: named[name].listed_for(services, inventory) for name, _, _ in listings}
            again = {key: {k: r for k, r in listed.items() if keep[key[0]](r)} for key, listed in listings.items()}
            if again == kept:
                break
            kept = again
        return {**results, **kept}, inventory

    def _inventory(self, results: dict[tuple[str, str, str], Any]) -> Inventory:
        inventory = Inventory()
        parts = {**snapshot_parts(results), "scope": {"project": self.project}}
        load_references(parts, inventory, "live", self._read_back)
        return inventory

    # With --troubleshoot-iam: one more round, once the last has read what the checks derive from ---------------
    def troubleshoot(self, checks: Iterable[AccessCheck]) -> dict[str, Any]:
        """Policy Troubleshooter's answer to each access check, concurrently, in snapshot shape: {snapshot key:
        {"MEMBER PERMISSION RESOURCE": the v3 answer, or {"error": reason}}}. A member it cannot be asked about (a
        group, allUsers) is not asked: the local answer stands for it."""
        asked = {check.key: check for check in checks if principal_of(check.member)}
        results = self._parallel(sorted(asked), lambda key: self._troubleshoot(asked[key]))
        stored = {key: {"error": r.reason()} if isinstance(r, Failure) else r for key, r in results.items()}
        return {str(TROUBLESHOOTER.snapshot_key): stored}

    def _troubleshoot(self, check: AccessCheck) -> dict[str, Any] | Failure:
        from google.cloud import policytroubleshooter_iam_v3 as v3

        access = v3.AccessTuple(
            principal=principal_of(check.member), full_resource_name=check.resource, permission=check.permission
        )
        request = v3.TroubleshootIamPolicyRequest(access_tuple=access)
        return self._call(
            TROUBLESHOOT,
            lambda: rest(
                self.clients.troubleshooter.troubleshoot_iam_policy(
                    request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            ),
        )

    # Unless --no-logs: one bounded query per service, once the services are known --------------------------------
    def log_entries(self, raw_services: Iterable[dict[str, Any]], query: LogQuery) -> logs.LogRead:
        """Each service's recent warnings, errors and failed requests (sources/live/logs.py), concurrently: by the
        service's full name (`api` in two regions is two services, each with its own sample), its sample of
        LogEntry JSON, or {"error": reason}; and which samples were cut at the limit."""
        services = {self._whose(raw): raw for raw in raw_services}
        start = logs.start_of(query)
        results = self._parallel(sorted(services), lambda key: self._log_sample(key, services[key], start, query))
        stored = {key: {"error": r.reason()} if isinstance(r, Failure) else r.stored() for key, r in results.items()}
        cut = (key for key, r in results.items() if isinstance(r, logs.Sample) and r.truncated)
        return logs.LogRead(stored, tuple(sorted(cut)), start, query.limit)

    def _whose(self, service: dict[str, Any]) -> str:
        """The service's full name, as its sample is keyed (one named short is of the fetcher's project and region)."""
        path = SERVICE_NAME.match(str(service["name"]))
        return path[0] if path else service_key(self.project, self.region, str(service["name"]))

    def _log_sample(self, key: str, service: dict[str, Any], start: str, query: LogQuery) -> logs.Sample | Failure:
        named_project, named_region, name = parse_key(key)
        project, region = named_project or self.project, named_region or self.region
        request = {
            "resource_names": [f"projects/{project}"],
            "filter": logs.log_filter(project, region, name, start),
            "order_by": "timestamp desc",
            "page_size": query.limit,
        }
        return self._call(
            logs.LOG_ENTRIES,
            lambda: logs.sample(
                self.clients.logging.entries.list_log_entries(
                    request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S
                ),
                service.get("latestCreatedRevision"),
                query.limit,
            ),
        )

    def _parallel(self, keys: Iterable[Any], work: Callable[[Any], T]) -> dict[Any, T]:
        keys = list(keys)
        futures = {key: self.pool.submit(work, key) for key in keys}
        results = {}
        for key, future in futures.items():
            results[key] = future.result()
            self.progress(str(key))
        return results


def _given(answer: T) -> T:
    return answer


def parse_services(raw: list[dict[str, Any]]) -> list[Service]:
    return [cloudrun_v2.parse_service(item, f"live:{item['name']}") for item in raw]
