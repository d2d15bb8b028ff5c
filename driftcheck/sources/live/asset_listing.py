"""Cloud Asset Inventory's ListAssets streams: what to list, each read page by page, each asset as its API JSON."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from google.api_core import exceptions
from google.protobuf import json_format

from driftcheck.kinds.registry import LiveRead
from driftcheck.sources import asset_inventory as records
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, call_retry
from driftcheck.sources.live.results import Failure, failure

PAGE_SIZE = 1000
ROLE = "roles/cloudasset.viewer"
LIST_RESOURCES = LiveRead("list", "cloudasset.assets.listResource", f"{ROLE} (Cloud Asset Viewer)")
LIST_POLICIES = LiveRead("list", "cloudasset.assets.listIamPolicy", f"{ROLE} (Cloud Asset Viewer)")
RESOURCE, IAM_POLICY = "RESOURCE", "IAM_POLICY"


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
        listing.assets = failure(exc, read)
        return listing
    except exceptions.RetryError as exc:
        cause = exc.cause if isinstance(exc.cause, exceptions.GoogleAPICallError) else None
        listing.assets = failure(cause, read) if cause else Failure("RETRIES_EXHAUSTED", str(exc), read)
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
ABOVE = (records.FOLDER, records.ORGANIZATION)
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
        *((p, IAM_POLICY, ABOVE) for p in parents or ()),
    ]
    return [*above, *(stream for project in projects for stream in _one_project(project, listed=parents is not None))]


def _one_project(project: str, *, listed: bool) -> list[Stream]:
    """Two listings, every type at once: resources, then IAM policies (the project's own, its secrets' and its
    services'). `listed`: its Cloud Run services were listed under its organization or folder already."""
    resources = tuple(t for t in records.RESOURCE_TYPES if not (listed and t == records.RUN_SERVICE))
    policies = tuple(t for t in records.IAM_TYPES if t not in ABOVE)
    return [(f"projects/{project}", RESOURCE, resources), (f"projects/{project}", IAM_POLICY, policies)]


def read_inventory(
    client: Any, wanted: Iterable[Stream], pool: ThreadPoolExecutor, have: Iterable[Listing] = ()
) -> list[Listing]:
    """Every stream wanted, in parallel on `pool`; those in `have` (read already) are not read again."""
    done = {(listing.parent, listing.content, listing.asset_types): listing for listing in have}
    futures = [pool.submit(list_assets, client, *stream) for stream in wanted if stream not in done]
    return [*done.values(), *(future.result() for future in futures)]
