"""VPC firewall rules: `gcloud compute firewall-rules list --format=json > firewall-rules.json`.

One file holds every rule of the project (a JSON list); each loads as a resource of its own, keyed by its name
(unique in a project). `describe` of one rule is read the same way. Ingress rules decide what reaches a Redis or
database port from a service's range; egress rules (a deny of 0.0.0.0/0 at a higher priority than the implied
allow) what leaves it.

A service names no firewall rule: the rules that apply to it are those on a network of its path, which only other
resources say (kinds/network/path.py). So they are `references_in`, and the live read lists the project's rules (one
paged call per project), keeping those on the paths' networks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.path import networks_on_path
from driftcheck.kinds.registry import LIST, Kind, LiveRead, register
from driftcheck.kinds.shape import compile_shape
from driftcheck.model import Inventory, Service, Unknown

KIND = "firewall rule (gcloud compute firewall-rules list --format=json)"
WHAT = "firewall rule"
DIRECTIONS = ("INGRESS", "EGRESS")
_SHAPE = compile_shape(
    {
        "name": str,
        "selfLink": str,
        "network": str,
        "direction": str,
        "disabled": bool,
        "sourceRanges": list,
        "destinationRanges": list,
        "sourceTags": list,
        "sourceTags[]": str,
        "targetTags": list,
        "targetTags[]": str,
        "sourceServiceAccounts": list,
        "sourceServiceAccounts[]": str,
        "targetServiceAccounts": list,
        "targetServiceAccounts[]": str,
        "allowed": list,
        "allowed[]": dict,
        "allowed[].IPProtocol": str,
        "allowed[].ports": list,
        "allowed[].ports[]": str,
        "denied": list,
        "denied[]": dict,
        "denied[].IPProtocol": str,
        "denied[].ports": list,
        "denied[].ports[]": str,
    }
)


@dataclass(frozen=True, slots=True)
class FirewallMatch:
    """What one allowed or denied entry matches: a protocol and its ports."""

    protocol: str  # tcp, udp, icmp, all, or an IP protocol number
    ports: tuple[str, ...]  # "6379", "8000-8999"; () for every port


@dataclass(frozen=True, slots=True)
class Firewall:
    """A VPC firewall rule (gcloud compute firewall-rules list / describe)."""

    name: str
    project: str | Unknown
    network: str | Unknown  # the network's name
    origin: str
    direction: str | Unknown  # INGRESS | EGRESS
    priority: int | Unknown  # 0 (first) to 65535; the API's default is 1000
    action: str | Unknown  # allow | deny
    protocols: tuple[FirewallMatch, ...]  # what it allows (or denies): protocols and their ports
    source_ranges: tuple[str, ...]  # INGRESS: from these CIDRs
    destination_ranges: tuple[str, ...]  # EGRESS: to these CIDRs
    source_tags: tuple[str, ...]
    target_tags: tuple[str, ...]  # applies to instances with these network tags; () with no target: to every one
    target_service_accounts: tuple[str, ...]  # applies to instances running as these accounts
    disabled: bool | Unknown
    provenance: dict[str, str] = field(default_factory=dict)


def matches(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "compute#firewall"


def load(doc: Document, inventory: Inventory) -> None:
    rule = parse_firewall(doc.data, doc.label)
    inventory.of(FIREWALL.name)[rule.name] = rule


def parse_firewall(data: Any, origin: str) -> Firewall:
    """The Compute API's JSON (and gcloud's); Terraform's attributes are rewritten to it first."""
    data = compute.checked(data, _SHAPE, WHAT, origin)
    name = compute.required(data, "name", WHAT, origin)
    direction, network, priority = data.get("direction"), data.get("network"), data.get("priority")
    if direction is not None and direction not in DIRECTIONS:
        raise InputError(f"{direction!r:.40} is not one of: {', '.join(DIRECTIONS)}", file=origin, where="direction")
    allowed, denied = data.get("allowed"), data.get("denied")
    if allowed and denied:
        raise InputError("a firewall rule either allows or denies, not both", file=origin, where="denied")
    action: str | Unknown = "deny" if denied else "allow" if allowed else Unknown("no allowed or denied field")
    entries = denied or allowed or ()
    key = "denied" if denied else "allowed"
    disabled = data.get("disabled")
    return Firewall(
        name=name,
        project=compute.project_of(str(data.get("selfLink") or network or "")) or Unknown("no selfLink field"),
        network=compute.name_of(network) if network else Unknown("no network field"),
        origin=origin,
        direction=str(direction) if direction else Unknown("no direction field"),
        priority=compute.whole_number(priority, 0, 65535, origin, "priority")
        if priority is not None
        else Unknown("no priority field"),
        action=action,
        protocols=tuple(_match(raw, origin, f"{key}[{index}]") for index, raw in enumerate(entries)),
        # the API omits an empty list: no sourceRanges is none, not unknown
        source_ranges=compute.ip_ranges(data, "sourceRanges", origin),
        destination_ranges=compute.ip_ranges(data, "destinationRanges", origin),
        source_tags=compute.strings(data, "sourceTags"),
        target_tags=compute.strings(data, "targetTags"),
        target_service_accounts=compute.strings(data, "targetServiceAccounts"),
        disabled=bool(disabled) if disabled is not None else Unknown("no disabled field"),
        provenance={
            "network": f"{origin}:network",
            "direction": f"{origin}:direction",
            "priority": f"{origin}:priority",
            "action": f"{origin}:{key}",
            "protocols": f"{origin}:{key}",
            "source_ranges": f"{origin}:sourceRanges",
            "destination_ranges": f"{origin}:destinationRanges",
            "target_tags": f"{origin}:targetTags",
            "target_service_accounts": f"{origin}:targetServiceAccounts",
            "disabled": f"{origin}:disabled",
        },
    )


def _match(raw: dict[str, Any], origin: str, at: str) -> FirewallMatch:
    protocol = compute.required(raw, "IPProtocol", "firewall entry", origin, at)
    return FirewallMatch(protocol=protocol.lower(), ports=tuple(str(p) for p in raw.get("ports") or ()))


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> Firewall | None:
    return None if "error" in stored else parse_firewall(stored, f"{origin}#firewall:{key}")


def _on_path(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The rules of the networks on its path (kinds/network/path.py)."""
    names = {name for _, name in networks_on_path(service, inventory)}
    rules: dict[str, Firewall] = inventory.of(FIREWALL.name)
    return tuple(sorted(key for key, rule in rules.items() if rule.network in names))


def _listed_in(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """Each project of a network on its path (firewall rules are global): `projects/P`."""
    return tuple(sorted({f"projects/{project}" for project, _ in networks_on_path(service, inventory) if project}))


def _on_paths(services: Sequence[Service], inventory: Inventory) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed rule (the API's JSON) is on a network of a service's path."""
    wanted = {network for service in services for network in networks_on_path(service, inventory)}

    def kept(raw: dict[str, Any]) -> bool:
        network = str(raw.get("network") or "")
        return (compute.project_of(network) or "", compute.name_of(network)) in wanted

    return kept


FIREWALL = register(
    Kind(
        name="firewall",
        title="firewall rule",
        model=Firewall,
        readers=(sys.modules[__name__],),
        key=lambda rule: str(rule.name),
        snapshot_key="firewalls",
        from_snapshot=_from_snapshot,
        # no references: see the module's docstring
        references_in=_on_path,
        live_reads=(LiveRead(LIST, "compute.firewalls.list", "roles/compute.networkViewer"),),
        listed_in=_listed_in,
        listed_for=_on_paths,
        terraform_types=("google_compute_firewall",),
    )
)
