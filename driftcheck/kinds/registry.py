"""The resource kinds every stage reads: one `Kind` per resource type, each declared in its own module.

A kind says, in one place, everything a stage needs to know about it:
- `model`: its canonical dataclass; `Inventory.of(kind.name)` holds its resources by `key`, as references name them;
- `readers`: the evidence documents it reads (content detection of gcloud and API exports, then parsing);
- `snapshot_key` and `from_snapshot`: where a driftcheck snapshot stores the API's answer, and how it reads back;
- `references`: which resources of the kind a service points at (what the live fetcher reads; rules see each
  under `refs.resources.<kind name>` as `{key, resource}`);
- `references_in`: which resources of the kind are on a service's path though only other resources name them (a
  connector's network, the routers and firewall rules of that network), given the inventory read so far. Rules see
  them with `references`; the live fetch asks again after each round with what that round read, so a later round
  reads what an earlier one found (connector, then its network, routers and firewalls), until nothing new is named
  (at most `PATH_ROUNDS` more rounds, sources/live/fetch.py);
- `live_reads`: each API read of one resource, with the permission and the role it needs;
- `listed_in` and `listed_for`: for a kind no service names (a push subscription names the service, not the
  reverse; a firewall rule names its network), the live read is a listing (part `list`): one paged call per parent
  `listed_in` names (a project, a region), of which only the resources `listed_for` relates to the services are
  stored; both are given the inventory read so far, as `references_in` is (the firewall rules of the networks on
  the services' paths); a listing that fails is stored under the parent's key as an error, so what it would have
  held is unknown, never absent (rules see it as an unknown entry keyed by the parent);
- `terraform_types`: the Terraform resource types that declare it;
- `absent_on`: the error codes of a read that say the resource does not exist (a fact `from_snapshot` reads back
  from the stored error), not that it could not be read.

Stages loop over `kinds()` and never name a kind they do not own; tests/kinds/test_registry.py fails when a
registered kind is not handled by a stage. To add a kind: a module in this package that calls `register(Kind(...))`,
listed in `kinds()` below; see README, "Add a resource kind".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from driftcheck.kinds.document import Document
from driftcheck.model import Inventory, Service, Unknown


class EvidenceReader(Protocol):
    """One shape of evidence file (a module is one): what it is called, whether a document is one, how it loads.

    A reader may also declare `NAMED_BY`, a file-name ending (".project-iam.json"): a document whose content carries
    no resource name (an IAM policy) then goes to the reader its file name names, before the others are tried, and
    never to it otherwise (sources/evidence.py)."""

    KIND: str

    def matches(self, data: Any) -> bool: ...

    def load(self, doc: Document, inventory: Inventory) -> None: ...


@dataclass(frozen=True)
class LiveRead:
    """One API read of one resource. `part` names what it fills in the snapshot: `get` for the resource itself, or a
    named part of it (a secret's `versions` and `iam`); or `list` (LIST), a listing of a parent's resources of the
    kind (see `Kind.listed_in`)."""

    part: str
    permission: str
    role: str

    @property
    def needs(self) -> str:
        """What to grant when the read is denied: it turns "unknown" into a next step."""
        return f"{self.permission} ({self.role})"


LIST = "list"  # the part of a listing read: keyed by the parent listed, it stores each resource kept under its key

# (key, what the snapshot stores for it, origin, the snapshot's project) -> the resource, or None when stored as an
# error (the error itself is read by `snapshot_errors`)
SnapshotReader = Callable[[str, Any, str, "str | Unknown"], Any]


def _named_by_none(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The default `references_in` and `listed_in`: nothing, whatever the inventory holds."""
    return ()


@dataclass(frozen=True)
class Kind:
    name: str  # the registry's key and the Inventory's: "secret"
    title: str  # for people: "Secret Manager secret"
    model: type
    readers: tuple[EvidenceReader, ...]
    key: Callable[[Any], str] = lambda resource: str(resource.name)  # as references name it: the Inventory's key
    snapshot_key: str | None = None  # None for services: a snapshot lists them apart, as the subject
    from_snapshot: SnapshotReader | None = None
    references: Callable[[Service], Iterable[str]] = lambda service: ()
    # The resources of the kind on the service's path that other resources name (the inventory read so far holds
    # them): a connector's network, the routers of that network in the service's region.
    references_in: Callable[[Service, Inventory], Iterable[str]] = _named_by_none
    live_reads: tuple[LiveRead, ...] = ()
    terraform_types: tuple[str, ...] = ()
    absent_on: tuple[str, ...] = ()  # "NOT_FOUND": such a stored error is the resource's absence, not unknown
    # A kind read by listing (a LiveRead of part LIST): the parents whose listing may hold resources related to a
    # service ("projects/P"), and, given the services, whether one listed resource (the API's JSON) relates to them;
    # both given the inventory read so far.
    listed_in: Callable[[Service, Inventory], Iterable[str]] = _named_by_none
    listed_for: Callable[[Sequence[Service], Inventory], Callable[[dict[str, Any]], bool]] = (
        lambda services, inventory: lambda raw: True
    )

    def referenced(self, service: Service, inventory: Inventory) -> tuple[str, ...]:
        """Every resource of the kind on the service's path: those it names, and those the inventory says."""
        return tuple(sorted({*self.references(service), *self.references_in(service, inventory)}))

    @property
    def follows_paths(self) -> bool:
        """Whether what the kind reads may depend on other resources (it declares `references_in` or `listed_in`):
        the live fetch asks only such kinds again after a round; the others' references are the services' own."""
        return self.references_in is not _named_by_none or self.listed_in is not _named_by_none

    def live_read(self, part: str) -> LiveRead:
        return next(read for read in self.live_reads if read.part == part)

    def snapshot_errors(self, key: str, stored: Any) -> dict[str, str]:
        """What could not be read of one stored resource, as "what:key" -> "CODE: message". A kind read in one call
        stores its error whole; one read in parts stores an error per part."""
        if not isinstance(stored, dict):
            return {}
        if len(self.live_reads) <= 1:
            error = stored.get("error")
            if error is None or str(error).startswith(self.absent_on):  # startswith(()) is False
                return {}
            return {f"{self.snapshot_key}:{key}": error}
        return {
            f"{self.name} {part}:{key}": value["error"]
            for part, value in stored.items()
            if isinstance(value, dict) and "error" in value
        }


_REGISTERED: dict[str, Kind] = {}
# kinds() in order, as last computed; None once the registry changes. A live audit asks for the kinds thousands of
# times per project (each round, each result): re-running the imports and the ordering each time was measurable.
_ORDERED: tuple[Kind, ...] | None = None


def register(kind: Kind) -> Kind:
    """Add a kind; registering one name twice is a programming error, not an override."""
    global _ORDERED
    if kind.name in _REGISTERED:
        raise ValueError(f"resource kind {kind.name!r} is registered twice")
    _REGISTERED[kind.name] = kind
    _ORDERED = None
    return kind


def unregister(name: str) -> None:
    """For tests that register a kind of their own."""
    global _ORDERED
    _REGISTERED.pop(name, None)
    _ORDERED = None


def kinds() -> tuple[Kind, ...]:
    """Every kind, built-in ones first, in the order evidence detection tries them (shapes do not overlap, but the
    order is the order of "expected one of" in errors)."""
    global _ORDERED
    if _ORDERED is None:
        _load_built_in()
        built_in = [_REGISTERED[name] for name in _BUILT_IN]
        _ORDERED = (*built_in, *(kind for kind in _REGISTERED.values() if kind.name not in _BUILT_IN))
    return _ORDERED


def _load_built_in() -> None:
    from driftcheck.kinds import (  # noqa: F401  (each registers itself)
        ancestry,
        cloudsql,
        connector,
        logs,
        project_iam,
        redis,
        run_iam,
        secret,
        service,
        service_account,
        subscription,
        troubleshooter,
    )
    from driftcheck.kinds.network import firewall, router, subnet, vpc  # noqa: F401


_BUILT_IN = (
    "service", "sql_instance", "connector", "secret", "project_iam_policy", "service_account",
    "run_service_iam_policy", "pubsub_subscription", "iam_troubleshooter",
    "network", "subnet", "router", "firewall", "redis",
    "project_ancestry", "folder_iam_policy", "organization_iam_policy",
    "log_entries",
)


def kind_named(name: str) -> Kind:
    kinds()  # the built-in kinds registered
    return _REGISTERED[name]


def with_snapshot() -> tuple[Kind, ...]:
    """The kinds a snapshot stores under a key of their own (the resources services reference)."""
    return tuple(kind for kind in kinds() if kind.snapshot_key)
