"""Fix actions on a service's network: its VPC connector or Direct VPC egress network, its egress, its ingress."""

from __future__ import annotations

import json

from driftcheck.ruleset.actions import blocks
from driftcheck.ruleset.fixparts import Args, Flag, Parts, ServiceRef, name_like, on_service
from driftcheck.ruleset.hcl import Block, Setting, literal

_EGRESS = {"all": "all-traffic", "all_traffic": "all-traffic", "private_ranges_only": "private-ranges-only"}
# canonical value -> (gcloud --ingress, Terraform v2 enum suffix); gcloud 528 has no `--ingress none`
_INGRESS = {
    "all": ("all", "ALL"),
    "internal": ("internal", "INTERNAL_ONLY"),
    "internal_and_cloud_lb": ("internal-and-cloud-load-balancing", "INTERNAL_LOAD_BALANCER"),
    "none": (None, "NONE"),
}


def _vpc(ref: ServiceRef, attr: str, value: str, annotation: str) -> Setting:
    if ref.v1:
        return blocks.annotation(annotation, value)
    return Setting((Block("template"), Block("vpc_access")), attr, literal(value))


@on_service
def set_vpc_connector(args: Args, ref: ServiceRef) -> Parts | None:
    connector = name_like(args["connector"])
    if connector is None:
        return None
    setting = _vpc(ref, "connector", connector, "run.googleapis.com/vpc-access-connector")
    # a service on Direct VPC egress takes a connector only once its network is cleared: one path at a time
    clear = (Flag("--clear-network"),) if args.get("instead_of_direct") is True else ()
    return Parts((Flag("--vpc-connector", connector), *clear), (setting,))


@on_service
def set_network(args: Args, ref: ServiceRef) -> Parts | None:
    """Direct VPC egress: --network and --subnet, and --network-tags when `tags` (a list) names some."""
    network, subnet = name_like(args["network"]), name_like(args.get("subnet"))
    given = args.get("tags")
    tags = [str(t) for t in given if name_like(t)] if isinstance(given, list) else []
    if network is None:
        return None
    flags = (Flag("--network", network), *((Flag("--subnet", subnet),) if subnet else ()))
    flags += (Flag("--network-tags", ",".join(tags)),) if tags else ()
    flags += (Flag("--clear-vpc-connector"),) if args.get("instead_of_connector") is True else ()
    if ref.v1:
        interface: dict[str, object] = {"network": network, **({"subnetwork": subnet} if subnet else {})}
        interface.update({"tags": tags} if tags else {})
        return Parts(flags, (blocks.annotation("run.googleapis.com/network-interfaces", json.dumps([interface])),))
    path = (Block("template"), Block("vpc_access"), Block("network_interfaces"))
    listed = "[" + ", ".join(literal(tag) for tag in tags) + "]"
    settings = (
        Setting(path, "network", literal(network)),
        *((Setting(path, "subnetwork", literal(subnet)),) if subnet else ()),
        *((Setting(path, "tags", listed),) if tags else ()),
    )
    return Parts(flags, settings)


@on_service
def set_vpc_egress(args: Args, ref: ServiceRef) -> Parts | None:
    given = str(args["egress"]).lower()
    egress = _EGRESS.get(given) or (given if given in _EGRESS.values() else None)
    if egress is None:
        return None
    value = egress if ref.v1 else egress.replace("-", "_").upper()
    return Parts((Flag("--vpc-egress", egress),), (_vpc(ref, "egress", value, "run.googleapis.com/vpc-access-egress"),))


@on_service
def set_ingress(args: Args, ref: ServiceRef) -> Parts | None:
    given = str(args["ingress"]).lower().replace("-", "_").replace("_load_balancing", "_lb")
    if given not in _INGRESS:
        return None
    flag, enum = _INGRESS[given]
    setting = (
        blocks.annotation("run.googleapis.com/ingress", (flag or "none"), level="service")
        if ref.v1
        else Setting((), "ingress", literal(f"INGRESS_TRAFFIC_{enum}"))
    )
    return Parts(((Flag("--ingress", flag),) if flag else ()), (setting,))
