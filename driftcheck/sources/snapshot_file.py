"""driftcheck's own snapshot files (`driftcheck snapshot -o FILE`), and the same shape a live run fetches into.

One format for both, so a live compare and a compare `--from` the snapshot of the same moment read the same
thing. A resource that could not be read is stored as {"error": "CODE: message"} and loads as unknown.

Format 1 throughout; one change kept readable both ways rather than bumped: `log_entries` is keyed by each
service's full name (`projects/P/locations/R/services/api`: a name is unique only within a region) where earlier
versions keyed it by the short name (`api`), writing one region's sample over another's. Such a snapshot still
loads (kinds/logs/keys.py `upgraded`): a short key is the sample of the snapshot's one service of that name, and of a
name in several regions the logs are unknown unless the entries say whose they are. An earlier driftcheck reading
a newer snapshot finds no logs of any service: unknown, not quiet. `run_service_iam_policies` changed the same way
(kinds/run_iam.py `upgraded`): a short key is the policy of the snapshot's one service of that name, and of a name
in several regions each policy is unknown (the one kept was read in one region for all, and says not whose).
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import logs, run_iam
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import with_snapshot
from driftcheck.kinds.service import cloudrun_v2, common
from driftcheck.model import Inventory, Unknown

KIND = "driftcheck snapshot (driftcheck snapshot -o FILE)"
MARKER = "driftcheck_snapshot"
FORMAT_VERSION = 1


_REGION = re.compile(r"/locations/([^/]+)/")


def matches(data: Any) -> bool:
    return isinstance(data, dict) and MARKER in data


def load(doc: Document, inventory: Inventory) -> None:
    version = doc.data.get(MARKER)
    if version != FORMAT_VERSION:
        raise InputError(
            f"snapshot format {version!r} is not supported (this driftcheck reads {FORMAT_VERSION})",
            file=doc.label,
            where=MARKER,
        )
    load_snapshot(doc.data, inventory, doc.label)


def load_snapshot(data: dict[str, Any], inventory: Inventory, origin: str) -> None:
    data = _upgraded(data)
    for index, raw in enumerate(data.get("services") or ()):
        if not cloudrun_v2.matches(raw):
            raise InputError("not a Cloud Run v2 Service", file=origin, where=f"services[{index}]")
        service = cloudrun_v2.parse_service(raw, f"{origin}#{raw['name']}")
        common.add_service(inventory, service)
        cloudrun_v2.learn_project_number(raw, service, inventory)
    load_references(data, inventory, origin)


def load_by_region(data: dict[str, Any], origin: str) -> dict[str, Inventory]:
    """One inventory per region, as a service name is unique only within a region (`api` in us-central1 and in
    europe-west1 are two services): every region of the snapshot's scope, even one without a service, and any
    region a service is named in."""
    data = _upgraded(data)  # before the services are split by region: a short log key may name a service of each
    raw_services = data.get("services") or ()
    named = {m.group(1) for raw in raw_services if (m := _REGION.search(str(raw.get("name"))))}
    scoped = [str(r) for r in (data.get("scope") or {}).get("regions") or ()]
    inventories = {}
    for region in [*scoped, *sorted(named - set(scoped))]:
        inventory = Inventory()
        here = [raw for raw in raw_services if f"/locations/{region}/" in str(raw.get("name"))]
        load_snapshot({**data, "services": here}, inventory, origin)
        inventories[region] = inventory
    return inventories


_BY_SERVICE = ((logs.SNAPSHOT_KEY, logs.upgraded), (run_iam.SNAPSHOT_KEY, run_iam.upgraded))


def _upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with its log samples and service IAM policies keyed as this version keys them (a snapshot of an
    earlier driftcheck keyed them by short name)."""
    older = [(key, upgrade) for key, upgrade in _BY_SERVICE if _short_keyed(data.get(key))]
    if not older:
        return data
    scope = data.get("scope") or {}
    services = [str(raw.get("name")) for raw in data.get("services") or () if isinstance(raw, dict)]
    project = str(scope["project"]) if scope.get("project") else None
    regions = [str(region) for region in scope.get("regions") or ()]
    return {**data, **{key: upgrade(data[key], services, project, regions) for key, upgrade in older}}


def _short_keyed(stored: Any) -> bool:
    return isinstance(stored, dict) and not all("/" in key for key in stored)


def fetch_errors(data: dict[str, Any]) -> dict[str, str]:
    """Every resource the snapshot could not read, as "what:name" -> "CODE: message"."""
    errors: dict[str, str] = {}
    for kind in with_snapshot():
        for key, stored in (data.get(kind.snapshot_key or "") or {}).items():
            errors.update(kind.snapshot_errors(key, stored))
    return dict(sorted(errors.items()))


ReadBack = dict[tuple[str, str], tuple[Any, Any]]  # (kind, key) -> (what was stored, the resource read from it)


def load_references(data: dict[str, Any], inventory: Inventory, origin: str, read_back: ReadBack | None = None) -> None:
    """The resources the services reference, each kind from its own key; one stored as an error stays out of
    the inventory (unknown, never absent: `fetch_errors` says why). `read_back`: what an earlier call read of the
    very same stored objects, reused (a live fetch loads its answers again after each round), and added to."""
    inventory.errors.update(fetch_errors(data))
    project = (data.get("scope") or {}).get("project") or Unknown("no project in the snapshot scope")
    for kind in with_snapshot():
        read = kind.from_snapshot
        assert read is not None  # with_snapshot: every kind with a key reads it back
        found = inventory.of(kind.name)
        for key, stored in (data.get(kind.snapshot_key or "") or {}).items():
            earlier = read_back.get((kind.name, key)) if read_back is not None else None
            if earlier is not None and earlier[0] is stored:
                resource = earlier[1]
            else:
                resource = read(key, stored, origin, project)
                if read_back is not None:
                    read_back[kind.name, key] = (stored, resource)
            if resource is not None:
                found[kind.key(resource)] = resource
    inventory.project_aliases.update(data.get("project_aliases") or {})
