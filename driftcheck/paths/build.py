"""Build a service's network paths from the evidence: pure functions over a Service and the Inventory.

For each dependency it reaches over a private address (the private IP of a Cloud SQL instance it connects to by
private IP, a Memorystore host, any RFC 1918 address or `.internal` host in an env value) the path is: egress
setting → connector (its network and range) or Direct VPC interface (network, subnet, tags) → the network → the
dependency's network (the same one, and private services access where the dependency sits behind it) → the VPC
firewall (egress from the service's range; ingress too for a VM) → the dependency. With all-traffic egress, each
public host in an env value (or, with none named, the internet) is reached through Cloud NAT on a router of that
network and region covering the connector's or subnet's range, and Google APIs through Private Google Access on
the Direct VPC subnet or that NAT.

What the evidence does not hold is an `unknown` hop with the gcloud command to export it, never a `broken` one:
no router of that network and region in the evidence is "could not check NAT", not "no NAT". A firewall export is
taken as the project's whole list (`gcloud compute firewall-rules list`), as the network kinds document.

This module assembles each path; its stages are modules of their own: what the service reaches (targets.py),
where it lands in the VPC (landing.py), and the hops beyond: the network and private services access
(networks.py), the firewall (firewall_hops.py, judged by firewall.py), Cloud NAT and Private Google Access (nat.py).
"""

from __future__ import annotations

from driftcheck.compare.diff import source_of
from driftcheck.kinds.network.vpc import NETWORK, Network
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.paths.firewall_hops import firewall_egress_hop, subnet_and_ingress
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop, NetworkPath, line_of, summarize
from driftcheck.paths.landing import Landing, landing_of
from driftcheck.paths.nat import google_access_hop, nat_hop
from driftcheck.paths.networks import network_hop, psa_hop
from driftcheck.paths.targets import Target, env_of, is_ip, private_targets, public_targets


def paths_of(service: Service, inventory: Inventory) -> tuple[NetworkPath, ...]:
    """Every path the evidence lets driftcheck draw for the service, private dependencies first."""
    env = env_of(service)
    targets = [*private_targets(service, inventory, env), *public_targets(service, env)]
    landing = landing_of(service, inventory) if service.vpc.path != "none" else None
    return tuple(_path(service, inventory, target, landing) for target in targets)


def _path(service: Service, inventory: Inventory, target: Target, landing: Landing | None) -> NetworkPath:
    hops: list[Hop] = []
    if landing is None:
        hops.append(
            Hop(
                "vpc",
                "no VPC access",
                BROKEN,
                "no connector and no Direct VPC egress: a private address is reached only through the VPC",
                (source_of(service, "vpc"),),
            )
        )
    else:
        hops += [_egress_hop(service, target), landing.hop]
        hops += _beyond(service, inventory, target, landing)
    state, breaks_at = summarize(tuple(hops))
    shown = tuple(hops)
    end = target.destination if target.destination == target.address else f"{target.destination} {target.address}"
    end += f":{target.port}" if target.port and target.kind in ("sql", "redis", "private") else ""
    return NetworkPath(
        service=service.name,
        kind=target.kind,
        destination=target.destination,
        address=target.address,
        port=target.port,
        named_by=target.named_by,
        hops=shown,
        state=state,
        breaks_at=breaks_at,
        egress=(service.vpc.egress or "private_ranges_only") if landing else "none",
        vpc_path=service.vpc.path,
        network=landing.network if landing else None,
        region=landing.region if landing else None,
        source_ranges=landing.ranges if landing else (),
        destination_network=target.network,
        line=f"{line_of(service.name, shown)} → {end}",
    )


def _egress_hop(service: Service, target: Target) -> Hop:
    egress = service.vpc.egress or "private_ranges_only"  # unset with a VPC path means private ranges only
    label = f"egress {egress.replace('_', '-')}"
    where = (source_of(service, "vpc.egress"),)
    if target.kind in ("internet", "google-apis"):
        return Hop("egress", label, VERIFIED, "every outbound request goes through the VPC", where)
    if target.kind == "private" and not is_ip(target.address) and egress != "all_traffic":
        return Hop(
            "egress", label, UNKNOWN, f"{target.address} goes through the VPC only if it resolves to a private range"
        )
    return Hop("egress", label, VERIFIED, "private ranges go through the VPC", where)


def _beyond(service: Service, inventory: Inventory, target: Target, landing: Landing) -> list[Hop]:
    network = landing.network
    if isinstance(network, Unknown):
        return [Hop("network", "network (not known)", UNKNOWN, network.reason, landing.evidence, landing.export)]
    networks: dict[str, Network] = inventory.of(NETWORK.name)
    known = networks.get(network)
    if target.kind in ("internet", "google-apis"):
        hops = [Hop("network", network, VERIFIED, "the network its VPC path lands on", landing.evidence)]
        if target.kind == "google-apis":
            return [*hops, google_access_hop(inventory, landing)]
        return [*hops, nat_hop(inventory, landing)]
    hops = [network_hop(network, known, target, landing)]
    if hops[0].state == VERIFIED and target.behind_psa:
        hops.append(psa_hop(network, known))
    elif hops[0].state == VERIFIED and target.unknown_mode:  # private services access, or direct peering
        detail = f"how {target.destination} is reached (its connect mode) is not known ({target.unknown_mode})"
        hops.append(Hop("peering", "connect mode", UNKNOWN, detail, (), target.describe))
    if is_ip(target.address):
        hops.append(firewall_egress_hop(inventory, network, landing, target))
        if target.kind == "private":
            hops += subnet_and_ingress(inventory, network, landing, target)
    return hops
