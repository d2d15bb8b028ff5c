"""Cloud Asset Inventory as a bulk source for an audit (`driftcheck audit --source asset-inventory`).

Instead of one call per resource, one paged `ListAssets` stream per asset type and content type over the whole
scope (`organizations/ID`, `folders/ID`), page_size 1000; or, for each project of `--project` or of a shard's
share of the scope, two listings of every type at once (`projects/P`; see `streams` in asset_listing.py). All
streams run in parallel on the run's pool, each read page by page (an asset is turned into its API JSON as its page
arrives; the pages themselves are dropped). Resource content: Cloud Run services, Cloud SQL instances, VPC Access
connectors, secrets and their versions (metadata: never a payload), projects (id and number), service accounts, and
Compute Engine networks, subnetworks, routers and firewall rules; IAM-policy content: the policies of projects,
secrets, Cloud Run services, folders and the organization. Every asset carries its ancestors, which answer each
project's folders and organization as well.

What the inventory answered is handed to the per-project fetcher as `answers` (sources/live/fetch.py): the same
snapshot shape, read back by the same code, as a per-resource audit's. What it cannot answer is read per resource,
as before: a listing the inventory refused (PERMISSION_DENIED on the scope, an asset type it does not serve), a
project whose Cloud Run data is not the v2 shape, a resource outside the scope or not in the inventory (the API's
own answer says NOT_FOUND), and the kinds it is not asked for (subscriptions, Redis);
each listing that fell back is said in one note. The inventory lags the APIs by minutes: the snapshot says as of
when (the listing's read time, the oldest and newest asset update times), and the report says it.

Here: the projects to audit (`discover`) and the audit's run (`take_inventory_snapshots`); the listings are
asset_listing.py's, the index of their assets and what it answers asset_answers.py's.
"""

from __future__ import annotations

import sys
from collections import ChainMap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from driftcheck.sources import asset_inventory as records
from driftcheck.sources.live.asset_answers import (
    SERVICE,
    Inventory,
    answers_for,
    fallback_notes,
    services_of,
    shared_answers,
)
from driftcheck.sources.live.asset_listing import RESOURCE, Listing, asset_client, list_assets, read_inventory, streams
from driftcheck.sources.live.clients import connect
from driftcheck.sources.live.fetch import LiveFetcher, Progress, parse_services
from driftcheck.sources.live.results import Failure
from driftcheck.sources.snapshot_file import fetch_errors


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
            match = SERVICE.match(records.relative_name(asset))
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
    answers = ChainMap(answers_for(inventory, project, parent, scoped), shared)
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
