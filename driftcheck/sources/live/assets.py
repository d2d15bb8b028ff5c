"""Cloud Asset Inventory as a bulk source for an audit (`driftcheck audit --source asset-inventory`).

Instead of one call per resource, one paged `ListAssets` stream per asset type and content type over the whole
scope (`organizations/ID`, `folders/ID`), page_size 1000; or, for each project of `--project` or of a shard's
share of the scope, two listings of every type at once (`projects/P`; see `streams`). All streams run in parallel on
the run's pool, each read page by page (an asset is turned into its API JSON as its page arrives; the pages
themselves are dropped). Resource content: Cloud Run services, Cloud SQL instances, VPC Access connectors, secrets
and their versions (metadata: never a payload), projects (id and number), service accounts, and Compute Engine
networks, subnetworks, routers and firewall rules; IAM-policy content: the policies of
projects, secrets, Cloud Run services, folders and the organization. Every asset carries its ancestors, which
answer each project's folders and organization as well.

What the inventory answered is handed to the per-project fetcher as `answers` (sources/live/fetch.py): the same
snapshot shape, read back by the same code, as a per-resource audit's. What it cannot answer is read per resource,
as before: a listing the inventory refused (PERMISSION_DENIED on the scope, an asset type it does not serve), a
project whose Cloud Run data is not the v2 shape, a resource outside the scope or not in the inventory (the API's
own answer says NOT_FOUND), and the kinds it is not asked for (subscriptions, Redis);
each listing that fell back is said in one note. The inventory lags the APIs by minutes: the snapshot says as of
when (the listing's read time, the oldest and newest asset update times), and the report says it.
"""

from __future__ import annotations

import dataclasses
import queue
import re
import sys
import threading
from collections import ChainMap, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions
from google.protobuf import json_format

from driftcheck.kinds.registry import LIST, LiveRead
from driftcheck.sources import asset_inventory as records
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, call_retry, connect
from driftcheck.sources.live.fetch import Failure, LiveFetcher, Progress, _failure, parse_services
from driftcheck.sources.snapshot_file import fetch_errors

PAGE_SIZE = 1000
ROLE = "roles/cloudasset.viewer"
LIST_RESOURCES = LiveRead("list", "cloudasset.assets.listResource", f"{ROLE} (Cloud Asset Viewer)")
LIST_POLICIES = LiveRead("list", "cloudasset.assets.listIamPolicy", f"{ROLE} (Cloud Asset Viewer)")
RESOURCE, IAM_POLICY = "RESOURCE", "IAM_POLICY"
_SERVICE = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$")
_PROJECT = re.compile(r"^projects/(?P<project>[^/]+)(?:/|$)")
_REGIONAL = re.compile(r"^projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/(?P<collection>[^/]+)/(?P<name>[^/]+)$")
_ANCESTOR = re.compile(r"^(?P<type>projects|folders|organizations)/(?P<id>[^/]+)$")


def asset_client(endpoint: str | None) -> Any:
    """The Asset API client: over plaintext gRPC to `endpoint` (anonymous), or cloudasset.googleapis.com."""
    from google.cloud import asset_v1

    if endpoint:
        import grpc
        from google.cloud.asset_v1.services.asset_service.transports import AssetServiceGrpcTransport

        return asset_v1.AssetServiceClient(transport=AssetServiceGrpcTransport(channel=grpc.insecure_channel(endpoint)))
    from driftcheck.sources.live.clients import _default_credentials

    return asset_v1.AssetServiceClient(credentials=_default_credentials(), transport="grpc")


@dataclasses.dataclass
class Listing:
    """One ListAssets stream: its assets (plain dicts), or why it failed; its read time; how many pages."""

    parent: str
    content: str
    asset_types: tuple[str, ...]
    assets: list[dict[str, Any]] | Failure
    read_time: str | None = None
    pages: int = 0


def list_assets(client: Any, parent: str, content: str, asset_types: tuple[str, ...]) -> Listing:
    """Every asset of the types and content under `parent`, page by page (page_size 1000)."""
    from google.cloud import asset_v1

    request = asset_v1.ListAssetsRequest(
        parent=parent,
        asset_types=list(asset_types),
        content_type=getattr(asset_v1.ContentType, content),
        page_size=PAGE_SIZE,
    )
    listing = Listing(parent, content, asset_types, [])
    read = LIST_RESOURCES if content == RESOURCE else LIST_POLICIES
    found: list[dict[str, Any]] = []
    try:
        pager = client.list_assets(request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S)
        for page in _prefetched(pager.pages):
            listing.pages += 1
            if page.read_time:
                listing.read_time = _iso(page.read_time)
            found += [_asset(type(asset).pb(asset), content) for asset in page.assets]
    except exceptions.GoogleAPICallError as exc:
        listing.assets = _failure(exc, read)
        return listing
    except exceptions.RetryError as exc:
        cause = exc.cause if isinstance(exc.cause, exceptions.GoogleAPICallError) else None
        listing.assets = _failure(cause, read) if cause else Failure("RETRIES_EXHAUSTED", str(exc), read)
        return listing
    listing.assets = found
    return listing


def _prefetched(pages: Iterable[Any]) -> Iterator[Any]:
    """The pages in order, the next one read on a thread of its own while the caller converts this one (the
    conversion is the audit's CPU, the read mostly waiting). A read's exception is raised here, where the page it
    did not deliver would have come; a caller that stops early stops the reader."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put((True, page)):
                    return
        except BaseException as exc:  # handed to the caller, raised there
            put((False, exc))
            return
        put((False, None))

    threading.Thread(target=read, name="driftcheck-pages", daemon=True).start()
    try:
        while True:
            more, item = box.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()


def _asset(pb: Any, content: str) -> dict[str, Any]:
    """One asset as `gcloud asset list --format=json` writes it (the fields driftcheck reads)."""
    asset: dict[str, Any] = {"name": pb.name, "assetType": pb.asset_type, "ancestors": list(pb.ancestors)}
    if pb.HasField("update_time"):
        asset["updateTime"] = pb.update_time.ToJsonString()
    if content == RESOURCE:
        asset["resource"] = {"version": pb.resource.version, "data": _struct(pb.resource.data)}
    else:
        asset["iamPolicy"] = json_format.MessageToDict(pb.iam_policy)
    return asset


def _struct(struct: Any) -> dict[str, Any]:
    """A google.protobuf.Struct as JSON, walked directly on the raw message (json_format.MessageToDict is about 3x
    slower on a Cloud Run service's data). A Struct holds every number as a double: 8080 comes back 8080.0, and the
    API's JSON has integers there, so an integral number is an int."""
    return {key: _value(value) for key, value in struct.fields.items()}


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return {key: _value(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or no kind set


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# The streams: what the inventory is asked for
STREAMS = (
    *((RESOURCE, t) for t in records.RESOURCE_TYPES),
    *((IAM_POLICY, t) for t in records.IAM_TYPES),
)
# Above the projects: listed under the organization or folder even when a shard lists its projects one by one
_ABOVE = (records.FOLDER, records.ORGANIZATION)
Stream = tuple[str, str, tuple[str, ...]]  # (parent, content, asset types): one ListAssets listing


def streams(parents: Iterable[str] | None, projects: Iterable[str], share: bool = False) -> list[Stream]:
    """What to list. An organization's or folders' whole scope: one stream per asset type and content under each
    parent (the fewest calls, whatever the number of projects). A shard's `share` of it: the Cloud Run services
    under each parent (discovery read them: every task needs the project list), each of its projects on its own,
    and the folders' and organization's policies under each parent: a task reads its share, not the whole scope.
    No parent (`--project`): each project on its own."""
    if parents is not None and not share:
        return [(p, content, (t,)) for p in parents for content, t in STREAMS]
    above = [
        *((p, RESOURCE, (records.RUN_SERVICE,)) for p in parents or ()),
        *((p, IAM_POLICY, _ABOVE) for p in parents or ()),
    ]
    return [*above, *(stream for project in projects for stream in _one_project(project, listed=parents is not None))]


def _one_project(project: str, *, listed: bool) -> list[Stream]:
    """Two listings, every type at once: resources, then IAM policies (the project's own, its secrets' and its
    services'). `listed`: its Cloud Run services were listed under its organization or folder already."""
    resources = tuple(t for t in records.RESOURCE_TYPES if not (listed and t == records.RUN_SERVICE))
    policies = tuple(t for t in records.IAM_TYPES if t not in _ABOVE)
    return [(f"projects/{project}", RESOURCE, resources), (f"projects/{project}", IAM_POLICY, policies)]


def read_inventory(
    client: Any, wanted: Iterable[Stream], pool: ThreadPoolExecutor, have: Iterable[Listing] = ()
) -> list[Listing]:
    """Every stream wanted, in parallel on `pool`; those in `have` (read already) are not read again."""
    done = {(listing.parent, listing.content, listing.asset_types): listing for listing in have}
    futures = [pool.submit(list_assets, client, *stream) for stream in wanted if stream not in done]
    return [*done.values(), *(future.result() for future in futures)]


@dataclasses.dataclass
class Inventory:
    """The assets of every listing that succeeded, indexed as the per-project fetchers ask for them."""

    listings: list[Listing]
    numbers: dict[str, str] = dataclasses.field(default_factory=dict)  # project number -> id
    numbers_of: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # project id -> its numbers
    by_project: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = dataclasses.field(default_factory=dict)
    above: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # project id -> its ancestors
    ancestor_policies: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # folders/F -> policy
    # (content, asset type) -> the parents whose listing failed, and why
    failed: dict[tuple[str, str], dict[str, Failure]] = dataclasses.field(default_factory=dict)
    # (content, asset type) -> the parents it was listed under, failed or not
    listed: dict[tuple[str, str], set[str]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, listings: list[Listing]) -> Inventory:
        inventory = cls(listings)
        for listing in listings:
            for asset_type in listing.asset_types:
                inventory.listed.setdefault((listing.content, asset_type), set()).add(listing.parent)
            if isinstance(listing.assets, Failure):
                for asset_type in listing.asset_types:
                    inventory.failed.setdefault((listing.content, asset_type), {})[listing.parent] = listing.assets
            elif listing.content == RESOURCE and records.PROJECT in listing.asset_types:
                for asset in (a for a in listing.assets if a["assetType"] == records.PROJECT):
                    data = asset["resource"]["data"]
                    number, ident = str(data.get("projectNumber", "")), data.get("projectId")
                    if number and ident:
                        inventory.numbers[number] = str(ident)
                        inventory.numbers_of.setdefault(str(ident), []).append(number)
        for listing in listings:
            if isinstance(listing.assets, Failure):
                continue
            for asset in listing.assets:
                name = records.relative_name(asset)
                asset_type = asset["assetType"]
                if asset_type in _ABOVE:
                    inventory.ancestor_policies[name] = asset["iamPolicy"]
                    continue
                match = _PROJECT.match(name)
                if match is None:
                    continue
                project = inventory.numbers.get(match["project"], match["project"])
                inventory.by_project.setdefault(project, defaultdict(list))[listing.content, asset_type].append(asset)
                if asset.get("ancestors"):
                    inventory.above.setdefault(project, asset["ancestors"])
        return inventory

    def served(self, content: str, asset_type: str, parent: str, project: str | None = None) -> bool:
        """Whether the type was listed under `parent` or under `projects/PROJECT` (a shard lists its projects one by
        one), and no such listing failed: only then does the inventory's silence mean there is none."""
        where = {parent, f"projects/{project}"}
        failed = self.failed.get((content, asset_type), {})
        return bool(where & self.listed.get((content, asset_type), set())) and not where & failed.keys()

    def assets(self, project: str, content: str, asset_type: str) -> list[dict[str, Any]]:
        return self.by_project.get(project, {}).get((content, asset_type), [])

    def read_times(self) -> tuple[str | None, str | None, str | None]:
        """The newest read time of the listings, the oldest and newest update time of their assets."""
        reads = [listing.read_time for listing in self.listings if listing.read_time]
        updates = [
            str(a["updateTime"])
            for listing in self.listings
            if not isinstance(listing.assets, Failure)
            for a in listing.assets
            if a.get("updateTime")
        ]
        return max(reads, default=None), min(updates, default=None), max(updates, default=None)


def services_of(inventory: Inventory, project: str, regions: Iterable[str]) -> list[dict[str, Any]] | None:
    """The project's Cloud Run services in `regions` as v2 REST JSON, or None when the inventory's data is not the
    v2 shape (the fetcher lists them then)."""
    wanted = set(regions)
    found = []
    for asset in inventory.assets(project, RESOURCE, records.RUN_SERVICE):
        match = _SERVICE.match(records.relative_name(asset))
        if match is None or match["region"] not in wanted:
            continue
        if str(asset["resource"].get("version")) != "v2":
            return None
        found.append({**asset["resource"]["data"], "name": records.relative_name(asset)})
    return sorted(found, key=lambda raw: str(raw["name"]))


def answers_for(
    inventory: Inventory, project: str, region: str, parent: str, scoped: bool
) -> dict[tuple[str, str, str], Any]:
    """What the inventory answers of one project's reads, keyed as LiveFetcher._calls names them. A resource the
    inventory does not hold is not answered (its own API says whether it exists). `scoped`: the parent is an
    organization or folder, whose folders' and organization's policies the listings hold."""
    answers: dict[tuple[str, str, str], Any] = {}

    def served(content: str, asset_type: str) -> bool:
        return inventory.served(content, asset_type, parent, project)

    for asset in inventory.assets(project, RESOURCE, records.SQL_INSTANCE):
        data = asset["resource"]["data"]
        if data.get("connectionName"):
            answers["sql_instance", "get", str(data["connectionName"])] = data
    for asset in inventory.assets(project, RESOURCE, records.CONNECTOR):
        name = records.relative_name(asset)
        for key in _project_spellings(name, project, inventory):
            answers["connector", "get", key] = {**asset["resource"]["data"], "name": name}
    secrets = [records.relative_name(a) for a in inventory.assets(project, RESOURCE, records.SECRET)]
    versions: dict[str, list[dict[str, Any]]] = {name: [] for name in secrets}
    for asset in inventory.assets(project, RESOURCE, records.SECRET_VERSION):
        name = records.relative_name(asset)
        owner = name.rsplit("/versions/", 1)[0]
        data = asset["resource"]["data"]
        version = {"name": name} | {k: data[k] for k in ("state", "createTime", "replicationStatus") if k in data}
        versions.setdefault(owner, []).append(version)
    policies = {records.relative_name(a): a["iamPolicy"] for a in inventory.assets(project, IAM_POLICY, records.SECRET)}
    for name in secrets:
        short = name.rsplit("/", 1)[1]
        keys = {short, *_project_spellings(name, project, inventory)}
        if served(RESOURCE, records.SECRET_VERSION):
            listed = sorted(versions.get(name, []), key=_version_order, reverse=True)
            answers.update({("secret", "versions", key): listed for key in keys})
        if served(IAM_POLICY, records.SECRET):  # a secret with no policy set has no IAM-policy asset
            answers.update({("secret", "iam", key): policies.get(name, {}) for key in keys})
    if served(IAM_POLICY, records.PROJECT) and served(RESOURCE, records.PROJECT):
        held = inventory.assets(project, IAM_POLICY, records.PROJECT)
        if inventory.assets(project, RESOURCE, records.PROJECT):
            answers["project_iam_policy", "get", project] = held[0]["iamPolicy"] if held else {}
    if served(IAM_POLICY, records.RUN_SERVICE):
        run_policies = {
            records.relative_name(a): a["iamPolicy"] for a in inventory.assets(project, IAM_POLICY, records.RUN_SERVICE)
        }
        for asset in inventory.assets(project, RESOURCE, records.RUN_SERVICE):
            name = records.relative_name(asset)
            match = _SERVICE.match(name)
            if match and match["region"] == region:  # the fetcher reads a service's policy in its own region
                answers["run_service_iam_policy", "get", match["service"]] = run_policies.get(name, {})
    if served(RESOURCE, records.NETWORK):  # read by name, in the fetch's project
        for asset in inventory.assets(project, RESOURCE, records.NETWORK):
            data = asset["resource"]["data"]
            answers["network", "get", str(data.get("name") or records.relative_name(asset).rsplit("/", 1)[-1])] = data
    if served(RESOURCE, records.SUBNETWORK):  # by REGION/NAME
        for asset in inventory.assets(project, RESOURCE, records.SUBNETWORK):
            match = _REGIONAL.match(records.relative_name(asset))
            if match and match["collection"] == "subnetworks":
                answers["subnet", "get", f"{match['region']}/{match['name']}"] = asset["resource"]["data"]
    chain = inventory.above.get(project)
    if scoped and chain:
        walked = [_ancestor(entry, project) for entry in chain]
        if all(walked) and walked[0] == {"id": project, "type": "project"}:
            answers["project_ancestry", "get", project] = walked
            for entry in (e for e in walked[1:] if e is not None):
                name = f"{entry['type']}s/{entry['id']}"
                content_type = records.FOLDER if entry["type"] == "folder" else records.ORGANIZATION
                if served(IAM_POLICY, content_type):
                    kind = "folder_iam_policy" if entry["type"] == "folder" else "organization_iam_policy"
                    answers[kind, "get", name] = inventory.ancestor_policies.get(name, {})
    return answers


def shared_answers(
    inventory: Inventory, regions: Iterable[str], parent_of: Callable[[str], str]
) -> dict[tuple[str, str, str], Any]:
    """What the inventory answers of any project's fetch, whichever project asks: service accounts by email (the
    project of the services that run as one may not be its own), and the listings of routers (per region of the
    audit) and firewall rules of every project it holds (a Shared VPC host's too). A listing answers only where the
    inventory listed that type under the project's parent; an account it does not hold is read from the API."""
    answers: dict[tuple[str, str, str], Any] = {}
    for project, held in inventory.by_project.items():
        parent = parent_of(project)
        if inventory.served(RESOURCE, records.SERVICE_ACCOUNT, parent, project):
            for asset in held.get((RESOURCE, records.SERVICE_ACCOUNT), ()):
                data = asset["resource"]["data"]
                if data.get("email"):
                    answers["service_account", "get", str(data["email"])] = data
        if inventory.served(RESOURCE, records.FIREWALL, parent, project):
            rules = held.get((RESOURCE, records.FIREWALL), ())
            answers["firewall", LIST, f"projects/{project}"] = {
                str(a["resource"]["data"].get("name") or records.relative_name(a).rsplit("/", 1)[-1]):
                a["resource"]["data"] for a in rules
            }  # fmt: skip
        if inventory.served(RESOURCE, records.ROUTER, parent, project):
            listed: dict[str, dict[str, Any]] = {region: {} for region in regions}
            for asset in held.get((RESOURCE, records.ROUTER), ()):
                match = _REGIONAL.match(records.relative_name(asset))
                if match and match["collection"] == "routers":
                    listed.setdefault(match["region"], {})[f"{match['region']}/{match['name']}"] = asset["resource"][
                        "data"
                    ]
            answers.update({("router", LIST, f"projects/{project}/regions/{r}"): found for r, found in listed.items()})
    return answers


def _ancestor(entry: str, project: str) -> dict[str, str] | None:
    match = _ANCESTOR.match(entry)
    if match is None:
        return None
    if match["type"] == "projects":
        return {"id": project, "type": "project"}
    return {"id": match["id"], "type": match["type"][:-1]}


def _project_spellings(name: str, project: str, inventory: Inventory) -> set[str]:
    """`projects/ID/...` and `projects/NUMBER/...`: a service may name either."""
    rest = name.split("/", 2)[2] if name.count("/") >= 2 else ""
    numbers = inventory.numbers_of.get(project, ())  # not a scan of every project's number: 2,000 projects x 2,000
    return {name, f"projects/{project}/{rest}", *(f"projects/{n}/{rest}" for n in numbers)}


def _version_order(version: dict[str, Any]) -> tuple[int, str]:
    last = str(version["name"]).rsplit("/", 1)[-1]
    return (int(last), "") if last.isdigit() else (-1, last)


def fallback_notes(inventory: Inventory) -> list[str]:
    """One note per listing the inventory could not serve: what is read per resource instead, and why."""
    notes = []
    for (content, asset_type), parents in sorted(inventory.failed.items()):
        for parent, failure in sorted(parents.items()):
            what = "IAM policies" if content == IAM_POLICY else "resources"
            notes.append(
                f"Cloud Asset Inventory could not list the {what} of type {asset_type} in {parent} "
                f"({failure.reason()}): read per resource instead"
            )
    return notes


def discover(parents: list[str], endpoint: str | None = None) -> tuple[list[str], list[str], list[Listing]]:
    """The projects holding a Cloud Run service under `parents`, the regions they run in, and the listings (a
    bulk read reuses them): one ListAssets stream of Cloud Run services per parent. A denied listing is an input
    error: nothing else lists the projects of an organization or folder."""
    from driftcheck.errors import InputError

    client = asset_client(endpoint)
    with ThreadPoolExecutor(max_workers=max(1, len(parents))) as pool:
        listings = list(pool.map(lambda p: list_assets(client, p, RESOURCE, (records.RUN_SERVICE,)), parents))
    projects: set[str] = set()
    regions: set[str] = set()
    for listing in listings:
        if isinstance(listing.assets, Failure):
            raise InputError(f"cannot list the Cloud Run services of {listing.parent}: {listing.assets.reason()}")
        for asset in listing.assets:
            match = _SERVICE.match(records.relative_name(asset))
            if match:
                projects.add(match["project"])
                regions.add(match["region"])
    return sorted(projects), sorted(regions), listings


def take_inventory_snapshots(
    projects: list[str],
    regions: tuple[str, ...],
    parents: list[str] | None,
    *,
    endpoint: str | None = None,
    concurrency: int = 16,
    progress: Progress | None = None,
    on_snapshot: Callable[[str, dict[str, Any]], None] | None = None,
    listings: list[Listing] | None = None,
    share: bool = False,
) -> dict[str, dict[str, Any]]:
    """One snapshot per project, as compare_live.take_snapshots takes them, with what Cloud Asset Inventory
    answers read from it. `parents`: the organization or folders listed; None: each project is listed on its own
    (`projects/P`). `share`: `projects` are a shard's share of the parents' projects, listed one by one."""
    clients = connect(endpoint)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="driftcheck")
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 0.0005))  # as take_snapshots: analysis between responses must not stall them
    try:
        scoped = parents is not None
        listed_parents = parents if parents is not None else [f"projects/{p}" for p in projects]
        wanted = streams(parents, projects, share)
        inventory = Inventory.of(read_inventory(asset_client(endpoint), wanted, pool, listings or ()))
        read_time, oldest, newest = inventory.read_times()
        notes = fallback_notes(inventory)
        queued = {}

        def parent_of(project: str) -> str:
            return _parent_of(project, listed_parents, inventory) if scoped else f"projects/{project}"

        shared = shared_answers(inventory, regions, parent_of)
        for project in projects:
            queued[project] = _queue(project, regions, parent_of(project), scoped, inventory, shared, clients, pool,
                                     progress)  # fmt: skip
        # Each project's later rounds (what its connectors' networks name) wait on its own first round: walked in
        # threads of their own, so 2,000 projects' rounds overlap instead of queueing one project after another
        walks = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="driftcheck-rounds")
        gathered = {project: walks.submit(q[0].gather, q[1], q[3]) for project, q in queued.items()}
        snapshots = {}
        for project in projects:
            _, _, raw_services, _, listing_errors, own_notes = queued[project]
            parts = gathered[project].result()
            data = _snapshot(project, regions, raw_services, parts)
            data["asset_inventory"] = {
                "read_time": read_time,
                "oldest_update": oldest,
                "newest_update": newest,
                "notes": [*notes, *own_notes],
            }
            data["errors"] = {**listing_errors, **fetch_errors(data)}
            snapshots[project] = data
            if on_snapshot is not None:
                on_snapshot(project, data)
        walks.shutdown()
        return snapshots
    finally:
        sys.setswitchinterval(switch)
        pool.shutdown(wait=False, cancel_futures=True)


def _parent_of(project: str, parents: list[str], inventory: Inventory) -> str:
    """The listed parent a project is under (its ancestors name it); the first when none does."""
    chain = set(inventory.above.get(project, ()))
    return next((p for p in parents if p in chain), parents[0])


def _queue(
    project: str,
    regions: tuple[str, ...],
    parent: str,
    scoped: bool,
    inventory: Inventory,
    shared: dict[tuple[str, str, str], Any],
    clients: Any,
    pool: ThreadPoolExecutor,
    progress: Progress | None,
) -> tuple[LiveFetcher, Any, list[dict[str, Any]], list[Any], dict[str, str], list[str]]:
    answers = ChainMap(answers_for(inventory, project, regions[0], parent, scoped), shared)
    fetcher = LiveFetcher(clients, project, regions[0], progress=progress, pool=pool, answers=answers)
    notes: list[str] = []
    inventoried = inventory.served(RESOURCE, records.RUN_SERVICE, parent, project)
    raw = services_of(inventory, project, regions) if inventoried else None
    listing_errors: dict[str, str] = {}
    if raw is None:  # listed per region, as a per-resource audit lists them
        if inventoried:
            notes.append(
                f"{project}: Cloud Asset Inventory holds its Cloud Run services in the v1 shape: listed per region"
            )
        raw = []
        for region in regions:
            regional = LiveFetcher(clients, project, region, progress=progress, pool=pool)
            listed = regional.try_list_services()
            if isinstance(listed, Failure):
                listing_errors[f"services in {region}"] = listed.reason()
            else:
                raw += listed
    services = parse_services(raw)
    return fetcher, fetcher.submit_referenced(services), raw, services, listing_errors, notes


def _snapshot(
    project: str, regions: tuple[str, ...], raw: list[dict[str, Any]], parts: dict[str, Any]
) -> dict[str, Any]:
    from driftcheck import __version__
    from driftcheck.sources.snapshot_file import FORMAT_VERSION, MARKER

    return {
        MARKER: FORMAT_VERSION,
        "tool": {"name": "driftcheck", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scope": {"project": project, "regions": list(regions)},
        "services": raw,
        **parts,
    }
