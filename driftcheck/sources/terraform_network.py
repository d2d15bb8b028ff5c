"""Terraform's VPC resources (and Memorystore) into the network kinds: each instance rewritten to the Compute (or
Memorystore) API's JSON and read by the kind's own parser, as terraform_resources does for the other kinds.

A value known only after apply (a plan) is left out before parsing, so no parser validates it, and the field it
feeds is Unknown after. Terraform records no state (READY, ACTIVE) of any of them: each such field is Unknown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from driftcheck.errors import InputError
from driftcheck.kinds import redis
from driftcheck.kinds.network import compute, firewall, router, subnet, vpc
from driftcheck.kinds.shape import UNKNOWN_MARK
from driftcheck.model import Inventory, Unknown

if TYPE_CHECKING:
    from driftcheck.sources.terraform_resources import Instance

AFTER_APPLY = "known after apply"
NO_STATE = "Terraform state does not record it; export the resource with gcloud"


def _attrs(instance: Instance, validated: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The attributes without the validated ones known only after apply; and the canonical fields those feed."""
    attrs = dict(instance.attributes)
    later = []
    for attribute, canonical in validated.items():
        value = attrs.get(attribute)
        if attribute in instance.unknown or (isinstance(value, str) and UNKNOWN_MARK in value):
            attrs[attribute] = None
            later.append(canonical)
    return attrs, later


def _finish(parsed: Any, instance: Instance, label: str, later: list[str], provenance: dict[str, str]) -> Any:
    """Marked strings and left-out fields as Unknown; provenance in Terraform's terms (`label:address.attribute`)."""
    from driftcheck.sources.terraform_resources import resolve_marks  # it imports this module

    if instance.marked:
        parsed = resolve_marks(parsed)
    at = f"{label}:{instance.address}"
    changes: dict[str, Any] = {name: Unknown(AFTER_APPLY) for name in later}
    changes["provenance"] = {canonical: f"{at}.{attribute}" for canonical, attribute in provenance.items()}
    return dataclasses.replace(parsed, **changes)


def _name(attrs: dict[str, Any], instance: Instance, label: str) -> str:
    name = str(attrs.get("name") or "")
    if not name:
        raise InputError("no name attribute", file=label, where=f"{instance.address}.name")
    return name


def _network_link(raw: Any, project: Any) -> str | None:
    """A network attribute (a name, a path or a selfLink) as a path the parsers read the project of."""
    if not raw:
        return None
    text = str(raw)
    return text if "/" in text else f"projects/{project or '-'}/global/networks/{text}"


# --- networks and private services access -------------------------------------------------------------------


def _network(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs, later = _attrs(instance, {"mtu": "mtu"})
    name = _name(attrs, instance, label)
    data = {
        "kind": "compute#network",
        "name": name,
        "selfLink": attrs.get("self_link") or f"projects/{attrs.get('project') or '-'}/global/networks/{name}",
        "autoCreateSubnetworks": attrs.get("auto_create_subnetworks"),
        "routingConfig": {"routingMode": attrs.get("routing_mode") or None},
        "mtu": attrs.get("mtu") or None,  # 0: the provider's "not set"
    }
    parsed: vpc.Network = vpc.parse_network(data, label)
    networks = inventory.of(vpc.NETWORK.name)
    declared = networks.get(parsed.name)  # peerings Terraform declared apart, loaded first
    peerings = declared.peerings if declared and not declared.peerings_complete else {}
    parsed = dataclasses.replace(
        parsed,
        subnetworks=Unknown("Terraform declares subnets apart (google_compute_subnetwork)"),
        peerings=peerings,
        private_services_access=vpc.psa_of(peerings, complete=False),
        peerings_complete=False,
    )
    fields = {"auto_create_subnetworks": "auto_create_subnetworks", "routing_mode": "routing_mode", "mtu": "mtu"}
    finished: vpc.Network = _finish(parsed, instance, label, later, fields)
    if declared and not declared.peerings_complete:
        finished.provenance.update({k: declared.provenance[k] for k in ("peerings",) if k in declared.provenance})
    networks[finished.name] = finished


def _service_networking(instance: Instance, inventory: Inventory, label: str) -> None:
    """A private services access connection: a peering of its network to the service producer's."""
    attrs = instance.attributes
    network = str(attrs.get("network") or "")
    if not network or UNKNOWN_MARK in network:
        # A plan often knows the network only after apply: the peering then belongs to no network we can name,
        # and leaving it out keeps that network's peerings unknown-in-part (a Terraform network is incomplete).
        return
    service = str(attrs.get("service") or "servicenetworking.googleapis.com")
    peering = str(attrs.get("peering") or "")
    name = peering if peering and UNKNOWN_MARK not in peering else service.replace(".", "-")
    psa = service == "servicenetworking.googleapis.com"
    added = vpc.Peering(
        name=name,
        peer_network=f"projects/-/global/networks/{vpc.SERVICE_NETWORKING if psa else service}",
        state=Unknown(NO_STATE),
        private_services_access=psa,
        import_custom_routes=Unknown(NO_STATE),
        export_custom_routes=Unknown(NO_STATE),
    )
    vpc.with_peering(inventory, compute.name_of(network), added, label, f"{label}:{instance.address}.network")


# --- subnets, routers and NAT ---------------------------------------------------------------------------------


def _subnet(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs, later = _attrs(
        instance, {"ip_cidr_range": "ip_cidr_range", "private_ip_google_access": "private_google_access"}
    )
    name = _name(attrs, instance, label)
    project, region = attrs.get("project"), attrs.get("region")
    data = {
        "kind": "compute#subnetwork",
        "name": name,
        "selfLink": attrs.get("self_link") or f"projects/{project or '-'}/regions/{region}/subnetworks/{name}",
        "network": _network_link(attrs.get("network"), project),
        "region": region or None,
        "ipCidrRange": attrs.get("ip_cidr_range") or None,
        "privateIpGoogleAccess": attrs.get("private_ip_google_access"),
        "purpose": attrs.get("purpose") or None,
        "secondaryIpRanges": [
            {"rangeName": r.get("range_name"), "ipCidrRange": r.get("ip_cidr_range")}
            for r in attrs.get("secondary_ip_range") or ()
            if isinstance(r, dict)
        ],
    }
    parsed: subnet.Subnet = subnet.parse_subnet(data, label)
    fields = {
        "network": "network",
        "region": "region",
        "ip_cidr_range": "ip_cidr_range",
        "secondary_ranges": "secondary_ip_range",
        "private_google_access": "private_ip_google_access",
        "purpose": "purpose",
    }
    finished: subnet.Subnet = _finish(parsed, instance, label, later, fields)
    inventory.of(subnet.SUBNET.name)[finished.key] = finished


def _router(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    name = _name(attrs, instance, label)
    project = attrs.get("project")
    data = {
        "kind": "compute#router",
        "name": name,
        "selfLink": f"projects/{project or '-'}/regions/{attrs.get('region')}/routers/{name}",
        "network": _network_link(attrs.get("network"), project),
        "region": attrs.get("region") or None,
    }
    parsed: router.Router = router.parse_router(data, label)
    routers = inventory.of(router.ROUTER.name)
    declared = routers.get(parsed.key)  # NATs Terraform declared apart, loaded first
    parsed = dataclasses.replace(parsed, nats=declared.nats if declared else {}, nats_complete=False)
    finished: router.Router = _finish(parsed, instance, label, [], {"network": "network", "region": "region"})
    if declared:
        finished.provenance.update({k: v for k, v in declared.provenance.items() if k == "nats"})
    routers[finished.key] = finished


def _router_nat(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs, _ = _attrs(instance, {"source_subnetwork_ip_ranges_to_nat": "nats"})
    name = _name(attrs, instance, label)
    owner, region = str(attrs.get("router") or ""), str(attrs.get("region") or "")
    if not owner or not region or UNKNOWN_MARK in owner + region:
        raise InputError("no router and region known", file=label, where=f"{instance.address}.router")
    raw = {
        "name": name,
        "sourceSubnetworkIpRangesToNat": attrs.get("source_subnetwork_ip_ranges_to_nat") or None,
        "natIpAllocateOption": attrs.get("nat_ip_allocate_option") or None,
        "natIps": [str(ip) for ip in attrs.get("nat_ips") or ()],
        "subnetworks": [{"name": s.get("name")} for s in attrs.get("subnetwork") or () if isinstance(s, dict)],
    }
    nat = router.parse_nat(raw, region, label, instance.address)
    if instance.marked:
        from driftcheck.sources.terraform_resources import resolve_marks  # it imports this module

        nat = resolve_marks(nat)
    key = compute.regional_key(compute.region_of(region), compute.name_of(owner))
    router.with_nat(inventory, key, nat, label, f"{label}:{instance.address}")


# --- firewall rules -------------------------------------------------------------------------------------------


def _firewall(instance: Instance, inventory: Inventory, label: str) -> None:
    validated = {"priority": "priority", "direction": "direction", "source_ranges": "source_ranges"}
    attrs, later = _attrs(instance, {**validated, "destination_ranges": "destination_ranges"})
    name = _name(attrs, instance, label)
    project = attrs.get("project")
    data = {
        "kind": "compute#firewall",
        "name": name,
        "selfLink": attrs.get("self_link") or f"projects/{project or '-'}/global/firewalls/{name}",
        "network": _network_link(attrs.get("network"), project),
        "direction": attrs.get("direction") or None,
        "priority": attrs.get("priority"),
        "disabled": attrs.get("disabled"),
        "allowed": _entries(attrs.get("allow")),
        "denied": _entries(attrs.get("deny")),
        **{
            api: [str(v) for v in attrs.get(tf) or ()]
            for api, tf in (
                ("sourceRanges", "source_ranges"),
                ("destinationRanges", "destination_ranges"),
                ("sourceTags", "source_tags"),
                ("targetTags", "target_tags"),
                ("targetServiceAccounts", "target_service_accounts"),
            )
        },
    }
    parsed: firewall.Firewall = firewall.parse_firewall(data, label)
    fields = {
        "network": "network",
        "direction": "direction",
        "priority": "priority",
        "action": "allow" if data["allowed"] else "deny",
        "protocols": "allow" if data["allowed"] else "deny",
        "source_ranges": "source_ranges",
        "destination_ranges": "destination_ranges",
        "target_tags": "target_tags",
        "target_service_accounts": "target_service_accounts",
        "disabled": "disabled",
    }
    finished: firewall.Firewall = _finish(parsed, instance, label, later, fields)
    inventory.of(firewall.FIREWALL.name)[finished.name] = finished


def _entries(raw: Any) -> list[dict[str, Any]]:
    return [
        {"IPProtocol": e.get("protocol"), "ports": [str(p) for p in e.get("ports") or ()]}
        for e in raw or ()
        if isinstance(e, dict)
    ]


# --- Memorystore ----------------------------------------------------------------------------------------------


def _redis(instance: Instance, inventory: Inventory, label: str) -> None:
    validated = {"host": "host", "port": "port", "connect_mode": "connect_mode"}
    attrs, later = _attrs(instance, validated)
    name = _name(attrs, instance, label)
    full = str(attrs.get("id") or "")
    if not full.startswith("projects/") or UNKNOWN_MARK in full:
        full = f"projects/{attrs.get('project')}/locations/{attrs.get('region')}/instances/{name}"
    data = {
        "name": full,
        "host": attrs.get("host") or None,
        "port": attrs.get("port") or None,  # 0: not known yet (a .tf declares no port)
        "authorizedNetwork": attrs.get("authorized_network") or None,
        "connectMode": attrs.get("connect_mode") or None,
        "tier": attrs.get("tier") or None,
        "redisVersion": attrs.get("redis_version") or None,
        "authEnabled": attrs.get("auth_enabled") is True,
        "transitEncryptionMode": attrs.get("transit_encryption_mode") or None,
    }
    parsed: redis.MemorystoreRedis = redis.parse_instance(data, label)
    parsed = dataclasses.replace(parsed, state=Unknown(NO_STATE))
    fields = {
        "host": "host",
        "port": "port",
        "authorized_network": "authorized_network",
        "connect_mode": "connect_mode",
        "auth_enabled": "auth_enabled",
        "transit_encryption_mode": "transit_encryption_mode",
    }
    finished: redis.MemorystoreRedis = _finish(parsed, instance, label, later, fields)
    inventory.of(redis.REDIS.name)[finished.key] = finished


LOADERS: dict[str, Callable[[Instance, Inventory, str], None]] = {
    "google_compute_network": _network,
    "google_service_networking_connection": _service_networking,
    "google_compute_subnetwork": _subnet,
    "google_compute_router": _router,
    "google_compute_router_nat": _router_nat,
    "google_compute_firewall": _firewall,
    "google_redis_instance": _redis,
}
