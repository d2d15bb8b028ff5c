"""Network hops: whether the landing network reaches the dependency's (same or peered), and private services access."""

from __future__ import annotations

from driftcheck.kinds.network import compute
from driftcheck.kinds.network.vpc import Network
from driftcheck.model import Unknown
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop
from driftcheck.paths.landing import Landing
from driftcheck.paths.targets import Target


def network_hop(network: str, known: Network | None, target: Target, landing: Landing) -> Hop:
    wanted = target.network
    if target.kind == "private" or wanted is None:
        return Hop("network", network, VERIFIED, "the network its VPC path lands on", landing.evidence)
    if isinstance(wanted, Unknown):
        return Hop("network", network, UNKNOWN, f"{target.destination}'s network is not known ({wanted.reason})")
    fields = (*landing.evidence, *((target.network_field,) if target.network_field else ()))
    if wanted == network:
        return Hop("network", network, VERIFIED, f"{target.destination} is on {network} too", fields)
    label = f"{network} (≠ {wanted})"
    if known is None:
        return Hop(
            "network",
            label,
            UNKNOWN,
            f"lands on {network} while {target.destination} is on {wanted}; whether {network} peers with {wanted} "
            "is not in the evidence",
            fields,
            _describe_network(network),
        )
    peerings = known.peerings if isinstance(known.peerings, dict) else {}
    peered = [p for p in peerings.values() if compute.name_of(p.peer_network) == wanted]
    if peered or isinstance(known.peerings, Unknown) or not known.peerings_complete:
        return Hop(
            "network",
            label,
            UNKNOWN,
            f"lands on {network}, which peers with {wanted} ({', '.join(p.name for p in peered) or 'not known'}): "
            "VPC peering is not transitive, so whether its routes reach the private IP behind it is not told",
            (*fields, known.provenance.get("peerings", known.origin)),
        )
    return Hop(
        "network",
        label,
        BROKEN,
        f"lands on {network}, while {target.destination} is reached only from {wanted}, and {network} does not "
        f"peer with {wanted}",
        (*fields, known.provenance.get("peerings", known.origin)),
    )


def psa_hop(network: str, known: Network | None) -> Hop:
    if known is None:
        return Hop(
            "peering",
            "PSA peering",
            UNKNOWN,
            f"whether {network} has private services access is not in the evidence",
            (),
            _describe_network(network),
        )
    field = known.provenance.get("private_services_access", known.origin)
    psa = known.private_services_access
    if psa is True:
        return Hop("peering", "PSA peering", VERIFIED, "an ACTIVE peering to servicenetworking", (field,))
    if isinstance(psa, Unknown):
        return Hop("peering", "PSA peering", UNKNOWN, psa.reason, (field,), _describe_network(network))
    return Hop(
        "peering",
        "PSA peering",
        BROKEN,
        f"{network} has no ACTIVE peering to servicenetworking (private services access)",
        (field,),
    )


def _describe_network(name: str) -> str:
    return f"gcloud compute networks describe {name} --format=json"
