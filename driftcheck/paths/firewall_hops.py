"""Firewall hops to a private IP: egress from the service's range; for a VM, the subnet holding it and ingress."""

from __future__ import annotations

import ipaddress

from driftcheck.kinds.network.firewall import FIREWALL, Firewall
from driftcheck.kinds.network.subnet import SUBNET, Subnet
from driftcheck.model import Inventory
from driftcheck.paths.firewall import egress_verdict, ingress_verdict
from driftcheck.paths.hops import UNKNOWN, VERIFIED, Hop
from driftcheck.paths.landing import Landing
from driftcheck.paths.targets import Target

_FIREWALL_EXPORT = "gcloud compute firewall-rules list --format=json"


def firewall_egress_hop(inventory: Inventory, network: str, landing: Landing, target: Target) -> Hop:
    rules = _rules_of(inventory, network)
    port = f"tcp:{target.port}" if target.port else "tcp"
    label = f"firewall egress {port}"
    if rules is None:
        return Hop("firewall-egress", label, UNKNOWN, "no firewall rules in the evidence", (), _FIREWALL_EXPORT)
    state, detail, fields = egress_verdict(rules, landing.tags, target.address, target.port)
    if target.kind in ("sql", "redis") and state == VERIFIED:
        detail += f"; ingress to {target.destination} is decided in Google's network: this VPC's rules do not apply"
    return Hop("firewall-egress", label, state, detail, fields, _FIREWALL_EXPORT if state == UNKNOWN else None)


def subnet_and_ingress(inventory: Inventory, network: str, landing: Landing, target: Target) -> list[Hop]:
    """A private address not known as a managed service: the subnet of the network that holds it (a VM's), and
    the ingress rules that let the service's range in."""
    subnets: dict[str, Subnet] = inventory.of(SUBNET.name)
    address = ipaddress.ip_address(target.address)
    holding = [
        s
        for s in subnets.values()
        if s.network == network
        and isinstance(s.ip_cidr_range, str)
        and address in ipaddress.ip_network(s.ip_cidr_range)
    ]
    if not holding:
        return [
            Hop(
                "subnet",
                f"subnet of {target.address}",
                UNKNOWN,
                f"no subnet of {network} in the evidence holds {target.address}",
                (),
                f"gcloud compute networks subnets list --network {network} --format=json",
            )
        ]
    subnet = holding[0]
    hops = [
        Hop(
            "subnet",
            f"subnet {subnet.name} ({subnet.ip_cidr_range})",
            VERIFIED,
            f"{target.address} is in subnet {subnet.name} of {network}",
            (subnet.provenance.get("ip_cidr_range", subnet.origin),),
        )
    ]
    rules = _rules_of(inventory, network)
    port = f"tcp:{target.port}" if target.port else "tcp"
    if rules is None:
        return [
            *hops,
            Hop(
                "firewall-ingress",
                f"firewall ingress {port}",
                UNKNOWN,
                "no firewall rules in the evidence",
                (),
                _FIREWALL_EXPORT,
            ),
        ]
    by_tag = landing.tags if landing.subnet is None else ()  # a connector's tags; Direct VPC's do not count
    state, detail, fields = ingress_verdict(rules, landing.ranges, target.port, by_tag)
    export = _FIREWALL_EXPORT if state == UNKNOWN else None
    return [*hops, Hop("firewall-ingress", f"firewall ingress {port}", state, detail, fields, export)]


def _rules_of(inventory: Inventory, network: str) -> list[Firewall] | None:
    """The firewall rules of the network, or None when the evidence holds no firewall export at all."""
    every: dict[str, Firewall] = inventory.of(FIREWALL.name)
    if not every:
        return None
    return [rule for rule in every.values() if rule.network == network]
