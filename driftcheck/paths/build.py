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
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from driftcheck.compare.diff import source_of
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.firewall import FIREWALL, Firewall
from driftcheck.kinds.network.path import connector_subnet
from driftcheck.kinds.network.router import ROUTER, Router
from driftcheck.kinds.network.subnet import SUBNET, Subnet
from driftcheck.kinds.network.vpc import NETWORK, Network
from driftcheck.kinds.redis import REDIS, MemorystoreRedis, host_in
from driftcheck.model import Connector, Inventory, Service, SqlInstance, Unknown, secret_reference
from driftcheck.paths.firewall import egress_verdict, ingress_verdict
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop, NetworkPath, line_of, summarize

# RFC 1918 addresses in env values, as ruleset/context/env.py reads them (a range is not an address)
_PRIVATE_ADDRESS = re.compile(
    r"(?<![\d.])(?:10(?:\.\d{1,3}){3}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|192\.168(?:\.\d{1,3}){2})(?![\d./])"
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,;'\"]+")
_CONNECTION_NAME = re.compile(r"\b[a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*\b")
_GOOGLE_HOSTS = ("googleapis.com", "run.app", "pkg.dev", "gcr.io")
_INTERNAL_SUFFIXES = (".internal",)
_METADATA = "metadata.google.internal"
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "sqlserver": 1433}
_CONNECTOR_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)$")
# The network tags every Serverless VPC Access connector's instances carry (what an egress rule can target).
_CONNECTOR_TAG = "vpc-connector"


@dataclass(frozen=True)
class _Landing:
    """Where the service's VPC path lands: the connector or Direct VPC hop, and what it tells of the network."""

    hop: Hop
    network: str | Unknown
    region: str | Unknown
    ranges: tuple[str, ...]
    subnet: str | None  # a Direct VPC subnet, REGION/NAME
    tags: tuple[str, ...]  # the network tags its traffic carries (firewall targets)
    evidence: tuple[str, ...]  # the fields that say which network
    export: str | None = None  # the gcloud command that exports what says the network, when it is not known


@dataclass(frozen=True)
class _Target:
    kind: str
    destination: str
    address: str
    port: int | None
    named_by: tuple[str, ...]
    network: str | Unknown | None = None
    network_field: str | None = None  # file:field of the dependency's network
    behind_psa: bool = False  # reached through private services access (Cloud SQL; Memorystore in that mode)
    project: str | None = None  # the dependency's network's project
    unknown_mode: str | None = None  # why how it is reached is not known (a Memorystore instance's connect mode)
    describe: str | None = None  # the gcloud command that exports the dependency


def paths_of(service: Service, inventory: Inventory) -> tuple[NetworkPath, ...]:
    """Every path the evidence lets driftcheck draw for the service, private dependencies first."""
    env = _env(service)
    targets = [*_private_targets(service, inventory, env), *_public_targets(service, env)]
    landing = _landing(service, inventory) if service.vpc.path != "none" else None
    return tuple(_path(service, inventory, target, landing) for target in targets)


# --- what the service reaches ------------------------------------------------------------------------------------


def _env(service: Service) -> list[tuple[str, str]]:
    return [
        (name, var.value)
        for container in service.containers.values()
        if not isinstance(container.env, Unknown)
        for name, var in container.env.items()
        if isinstance(var.value, str) and var.value
    ]


def _named(env: list[tuple[str, str]], text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for name, value in env if text in value))


def _port_after(env: list[tuple[str, str]], address: str) -> int | None:
    for _, value in env:
        found = re.search(rf"(?<![\d.]){re.escape(address)}:(\d{{1,5}})\b", value)
        if found and 0 < int(found[1]) < 65536:
            return int(found[1])
    return None


def _private_targets(service: Service, inventory: Inventory, env: list[tuple[str, str]]) -> list[_Target]:
    targets: list[_Target] = []
    seen: set[str] = set()
    for instance in sorted(inventory.sql_instances.values(), key=lambda i: i.connection_name):
        target = _sql_target(service, instance, env)
        if target:
            targets.append(target)
            seen.add(target.address)
    instances: dict[str, MemorystoreRedis] = inventory.of(REDIS.name)
    for name, value in env:
        host = host_in(name, value)
        found = instances.get(host) if host else None
        if host and found and host not in seen:
            seen.add(host)
            port = found.port if isinstance(found.port, int) else _port_after(env, host) or 6379
            network = found.authorized_network
            targets.append(
                _Target(
                    kind="redis",
                    destination=f"Memorystore {found.name.rsplit('/', 1)[-1]}",
                    address=host,
                    port=port,
                    named_by=_named(env, host),
                    network=network,
                    network_field=found.provenance.get("authorized_network"),
                    behind_psa=found.connect_mode == "PRIVATE_SERVICE_ACCESS",
                    project=_project_of_path(found.authorized_network_path),
                    unknown_mode=found.connect_mode.reason if isinstance(found.connect_mode, Unknown) else None,
                    describe=f"gcloud redis instances describe {found.name.rsplit('/', 1)[-1]} "
                    f"--region {found.region} --project {found.project} --format=json",
                )
            )
    for address in sorted({a for _, value in env for a in _PRIVATE_ADDRESS.findall(value)} - seen):
        seen.add(address)
        targets.append(_Target("private", address, address, _port_after(env, address), _named(env, address)))
    for host in sorted({h for _, value in env for h in _hosts(value) if h.endswith(_INTERNAL_SUFFIXES)} - seen):
        if host != _METADATA:
            targets.append(_Target("private", host, host, None, _named(env, host)))
    return targets


def _sql_target(service: Service, instance: SqlInstance, env: list[tuple[str, str]]) -> _Target | None:
    """An instance it connects to by private IP: its IP in an env value, or attached while it has only a private
    IP (the Cloud SQL connection then goes to the private IP too)."""
    ip = instance.private_ip
    if not ip:
        return None
    named = _named(env, ip)
    attached = instance.connection_name in service.cloudsql_instances and instance.public_ip is False
    if not named and not attached:
        return None
    engine = instance.engine
    port = _port_after(env, ip) or (_DEFAULT_PORTS.get(engine) if isinstance(engine, str) else None)
    network = compute.name_of(instance.private_network) if instance.private_network else None
    return _Target(
        kind="sql",
        destination=f"Cloud SQL {instance.name}",
        address=ip,
        port=port,
        named_by=(*named, *(("attached",) if attached else ())),
        network=network if network else Unknown(f"Cloud SQL {instance.name} names no private network"),
        network_field=f"{instance.origin}:settings.ipConfiguration.privateNetwork",
        behind_psa=True,
        project=compute.project_of(instance.private_network) if instance.private_network else None,
    )


def _project_of_path(path: str | Unknown) -> str | None:
    return compute.project_of(path) if isinstance(path, str) else None


def _hosts(value: str) -> list[str]:
    hosts = []
    for url in _URL.findall(value):
        try:
            host = urlsplit(url).hostname
        except ValueError:  # a masked password reads as a bad IPv6 literal
            continue
        if host:
            hosts.append(host.lower())
    return hosts


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _public_targets(service: Service, env: list[tuple[str, str]]) -> list[_Target]:
    """With all-traffic egress: each public host its env names (Google's apart), or the internet when it names
    none; and Google APIs when it calls them itself (a googleapis.com host, a secret or Cloud SQL connection name
    its code resolves)."""
    if service.vpc.path == "none" or service.vpc.egress != "all_traffic":
        return []
    hosts = {h for _, value in env for h in _hosts(value)}
    public = sorted(
        h
        for h in hosts
        if not h.endswith(_INTERNAL_SUFFIXES)
        and h != "localhost"
        and not _is_google(h)
        and not (_is_ip(h) and not ipaddress.ip_address(h).is_global)
    )
    targets = [_Target("internet", host, host, None, _named(env, host)) for host in public]
    if not targets:
        targets.append(_Target("internet", "the internet", "0.0.0.0/0", None, ()))
    google = tuple(
        dict.fromkeys(
            name
            for name, value in env
            if any(_is_google(h) for h in _hosts(value)) or secret_reference(value) or _CONNECTION_NAME.search(value)
        )
    )
    if google and service.vpc.path == "direct":
        targets.append(_Target("google-apis", "Google APIs", "*.googleapis.com", 443, google))
    return targets


def _is_google(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in _GOOGLE_HOSTS)


# --- the hops ----------------------------------------------------------------------------------------------------


def _path(service: Service, inventory: Inventory, target: _Target, landing: _Landing | None) -> NetworkPath:
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


def _egress_hop(service: Service, target: _Target) -> Hop:
    egress = service.vpc.egress or "private_ranges_only"  # unset with a VPC path means private ranges only
    label = f"egress {egress.replace('_', '-')}"
    where = (source_of(service, "vpc.egress"),)
    if target.kind in ("internet", "google-apis"):
        return Hop("egress", label, VERIFIED, "every outbound request goes through the VPC", where)
    if target.kind == "private" and not _is_ip(target.address) and egress != "all_traffic":
        return Hop(
            "egress", label, UNKNOWN, f"{target.address} goes through the VPC only if it resolves to a private range"
        )
    return Hop("egress", label, VERIFIED, "private ranges go through the VPC", where)


def _landing(service: Service, inventory: Inventory) -> _Landing:
    if service.vpc.path == "connector":
        return _connector_landing(service, inventory)
    name, interface = sorted(service.vpc.network_interfaces.items())[0]
    network_name = compute.name_of(interface.network) if interface.network else None
    subnet_name = compute.name_of(interface.subnetwork or interface.network or name)
    key = compute.regional_key(service.region, subnet_name)
    subnet: Subnet | None = inventory.of(SUBNET.name).get(key)
    where = source_of(service, "vpc.network_interfaces")
    tags = tuple(interface.tags)
    tagged = f", tags {' '.join(tags)}" if tags else ""
    if subnet is None:
        region = service.region if isinstance(service.region, str) else "REGION"
        return _Landing(
            Hop(
                "direct-vpc",
                f"Direct VPC {network_name or 'network not known'}/{subnet_name}{tagged}",
                UNKNOWN,
                f"subnet {subnet_name} is not in the evidence: its range and network are not known",
                (where,),
                f"gcloud compute networks subnets describe {subnet_name} --region {region} --format=json",
            ),
            network=network_name or Unknown(f"subnet {subnet_name} is not in the evidence"),
            region=service.region,
            ranges=(),
            subnet=key,
            tags=tags,
            evidence=(where,),
        )
    network = network_name or subnet.network
    cidr = subnet.ip_cidr_range if isinstance(subnet.ip_cidr_range, str) else "range not known"
    label = f"Direct VPC {network}/{subnet.name} ({cidr}{tagged})"
    if network_name and isinstance(subnet.network, str) and subnet.network != network_name:
        hop = Hop(
            "direct-vpc",
            label,
            BROKEN,
            f"subnet {subnet.name} belongs to network {subnet.network}, not {network_name}",
            (where, subnet.provenance.get("network", subnet.origin)),
        )
    else:
        hop = Hop("direct-vpc", label, VERIFIED, f"instances take their IPs from subnet {subnet.name}", (where,))
    return _Landing(
        hop,
        network=network,
        region=subnet.region,
        ranges=(cidr,) if isinstance(subnet.ip_cidr_range, str) else (),
        subnet=key,
        tags=tags,
        evidence=(where, subnet.provenance.get("network", subnet.origin)),
    )


def _connector_landing(service: Service, inventory: Inventory) -> _Landing:
    path = service.vpc.connector
    where = source_of(service, "vpc")
    if not isinstance(path, str):
        reason = path.reason if isinstance(path, Unknown) else "no connector"
        return _Landing(
            Hop("connector", "connector (not known)", UNKNOWN, f"its connector is not known ({reason})", (where,)),
            Unknown(reason),
            service.region,
            (),
            None,
            (_CONNECTOR_TAG,),
            (where,),
        )
    connector = _find_connector(path, inventory)
    match = _CONNECTOR_PATH.match(path)
    name = match["name"] if match else compute.name_of(path)
    region = match["region"] if match else service.region
    if connector is None:
        project = match["project"] if match else service.project
        return _Landing(
            Hop(
                "connector",
                f"connector {name}",
                UNKNOWN,
                f"connector {name} is not in the evidence: its network and range are not known",
                (where,),
                f"gcloud compute networks vpc-access connectors describe {name} --region {region} "
                f"--project {project} --format=json",
            ),
            Unknown(f"connector {name} is not in the evidence"),
            region,
            (),
            None,
            (_CONNECTOR_TAG,),
            (where,),
        )
    network, export = connector.network, None
    evidence: tuple[str, ...] = (connector.provenance.get("network", connector.origin),)
    subnet: Subnet | None = connector_subnet(connector, inventory)
    cidr = connector.ip_cidr_range if isinstance(connector.ip_cidr_range, str) else None
    if not isinstance(network, str) and isinstance(connector.subnet, str):  # it names its subnet, not a network
        named = (connector.provenance.get("subnet", connector.origin),)
        if subnet is not None:  # the subnet says which network; its range is the connector's (a /28 of its own)
            network, evidence = subnet.network, (*named, subnet.provenance.get("network", subnet.origin))
            cidr = cidr or (subnet.ip_cidr_range if isinstance(subnet.ip_cidr_range, str) else None)
        else:
            subnet_name, owner = compute.name_of(connector.subnet), compute.project_of(connector.subnet)
            network, evidence = Unknown(f"subnet {subnet_name} of connector {name} is not in the evidence"), named
            export = (
                f"gcloud compute networks subnets describe {subnet_name} --region {connector.region} "
                f"--project {owner} --format=json"
            )
    inside = " ".join(
        part for part in (str(network) if isinstance(network, str) else "network not known", cidr) if part
    )
    label = f"connector {name} ({inside})"
    field = connector.provenance.get("state", connector.origin)
    if connector.state == "READY":
        hop = Hop("connector", label, VERIFIED, f"connector {name} is READY", (field,))
    elif isinstance(connector.state, Unknown):
        hop = Hop("connector", label, UNKNOWN, f"the state of connector {name} is not known", (field,))
    else:
        hop = Hop("connector", label, BROKEN, f"connector {name} is {connector.state}, not READY", (field,))
    tags = (_CONNECTOR_TAG, f"vpc-connector-{connector.region}-{name}")
    return _Landing(hop, network, connector.region, (cidr,) if cidr else (), None, tags, evidence, export)


def _find_connector(path: str, inventory: Inventory) -> Connector | None:
    """As ruleset/context/network.py finds it: by its path, or (a v1 service names its project by number) the only
    one of that region and name."""
    found = inventory.connectors.get(path)
    if found is not None:
        return found
    match = _CONNECTOR_PATH.match(path)
    if match is None:
        same = [c for c in inventory.connectors.values() if compute.name_of(c.name) == path]
        return same[0] if len(same) == 1 else None
    if not match["project"].isdigit():
        return None
    same = [
        c
        for c in inventory.connectors.values()
        if (m := _CONNECTOR_PATH.match(c.name)) and (m["region"], m["name"]) == (match["region"], match["name"])
    ]
    return same[0] if len(same) == 1 else None


def _describe_network(name: str) -> str:
    return f"gcloud compute networks describe {name} --format=json"


def _beyond(service: Service, inventory: Inventory, target: _Target, landing: _Landing) -> list[Hop]:
    network = landing.network
    if isinstance(network, Unknown):
        return [Hop("network", "network (not known)", UNKNOWN, network.reason, landing.evidence, landing.export)]
    networks: dict[str, Network] = inventory.of(NETWORK.name)
    known = networks.get(network)
    if target.kind in ("internet", "google-apis"):
        hops = [Hop("network", network, VERIFIED, "the network its VPC path lands on", landing.evidence)]
        if target.kind == "google-apis":
            return [*hops, _google_access_hop(inventory, landing)]
        return [*hops, _nat_hop(inventory, landing)]
    hops = [_network_hop(network, known, target, landing)]
    if hops[0].state == VERIFIED and target.behind_psa:
        hops.append(_psa_hop(network, known))
    elif hops[0].state == VERIFIED and target.unknown_mode:  # private services access, or direct peering
        detail = f"how {target.destination} is reached (its connect mode) is not known ({target.unknown_mode})"
        hops.append(Hop("peering", "connect mode", UNKNOWN, detail, (), target.describe))
    if _is_ip(target.address):
        hops.append(_firewall_egress_hop(inventory, network, landing, target))
        if target.kind == "private":
            hops += _subnet_and_ingress(inventory, network, landing, target)
    return hops


def _network_hop(network: str, known: Network | None, target: _Target, landing: _Landing) -> Hop:
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


def _psa_hop(network: str, known: Network | None) -> Hop:
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


def _rules_of(inventory: Inventory, network: str) -> list[Firewall] | None:
    """The firewall rules of the network, or None when the evidence holds no firewall export at all."""
    every: dict[str, Firewall] = inventory.of(FIREWALL.name)
    if not every:
        return None
    return [rule for rule in every.values() if rule.network == network]


_FIREWALL_EXPORT = "gcloud compute firewall-rules list --format=json"


def _firewall_egress_hop(inventory: Inventory, network: str, landing: _Landing, target: _Target) -> Hop:
    rules = _rules_of(inventory, network)
    port = f"tcp:{target.port}" if target.port else "tcp"
    label = f"firewall egress {port}"
    if rules is None:
        return Hop("firewall-egress", label, UNKNOWN, "no firewall rules in the evidence", (), _FIREWALL_EXPORT)
    state, detail, fields = egress_verdict(rules, landing.tags, target.address, target.port)
    if target.kind in ("sql", "redis") and state == VERIFIED:
        detail += f"; ingress to {target.destination} is decided in Google's network: this VPC's rules do not apply"
    return Hop("firewall-egress", label, state, detail, fields, _FIREWALL_EXPORT if state == UNKNOWN else None)


def _subnet_and_ingress(inventory: Inventory, network: str, landing: _Landing, target: _Target) -> list[Hop]:
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


def _routers(inventory: Inventory, network: str, region: str | Unknown) -> list[Router]:
    found: dict[str, Router] = inventory.of(ROUTER.name)
    return [r for r in found.values() if r.network == network and r.region == region]


def _nat_covers(routers: Iterable[Router], subnet: str | None) -> tuple[str | None, bool]:
    """The first NAT that translates the subnet (or, for a connector, every subnet), and whether the answer may
    be incomplete (a router read from Terraform, a NAT whose coverage is not known)."""
    partial = False
    for router in routers:
        partial = partial or not router.nats_complete
        for nat in router.nats.values():
            if nat.all_subnetworks is True or (subnet and subnet in nat.subnetworks):
                return f"{router.name}/{nat.name}", partial
            if isinstance(nat.all_subnetworks, Unknown) or (subnet is None and nat.subnetworks):
                partial = True  # a listed NAT may hold the connector's own subnet, which no export names
    return None, partial


def _nat_hop(inventory: Inventory, landing: _Landing) -> Hop:
    network, region = str(landing.network), landing.region
    routers = _routers(inventory, network, region)
    what = f"subnet {landing.subnet.split('/', 1)[1]}" if landing.subnet else "the connector's range"
    if not routers:
        return Hop(
            "nat",
            "Cloud NAT",
            UNKNOWN,
            f"no Cloud Router of {network} in {region} is in the evidence: whether a NAT serves it is not known",
            (),
            f"gcloud compute routers list --regions {region} --format=json",
        )
    nat, partial = _nat_covers(routers, landing.subnet)
    fields = tuple(r.provenance.get("nats", r.origin) for r in routers)
    if nat:
        return Hop("nat", f"Cloud NAT {nat}", VERIFIED, f"NAT {nat} translates {what}", fields)
    if partial:
        return Hop(
            "nat",
            "Cloud NAT",
            UNKNOWN,
            f"no NAT in the evidence is known to translate {what}",
            fields,
            f"gcloud compute routers list --regions {region} --format=json",
        )
    names = ", ".join(r.name for r in routers)
    return Hop(
        "nat",
        "no Cloud NAT",
        BROKEN,
        f"no NAT on router {names} ({network}, {region}) translates {what}: public endpoints are unreachable",
        fields,
    )


def _google_access_hop(inventory: Inventory, landing: _Landing) -> Hop:
    subnets: dict[str, Subnet] = inventory.of(SUBNET.name)
    subnet = subnets.get(landing.subnet or "")
    if subnet is None:
        return Hop("google-access", "Private Google Access", UNKNOWN, "its subnet is not in the evidence")
    field = subnet.provenance.get("private_google_access", subnet.origin)
    access = subnet.private_google_access
    if access is True:
        return Hop("google-access", "Private Google Access", VERIFIED, f"on for subnet {subnet.name}", (field,))
    nat = _nat_hop(inventory, landing)
    if isinstance(access, Unknown):
        return Hop("google-access", "Private Google Access", UNKNOWN, access.reason, (field,))
    if nat.state == VERIFIED:
        return Hop(
            "google-access", nat.label, VERIFIED, f"Private Google Access is off; {nat.detail}", (field, *nat.evidence)
        )
    state = BROKEN if nat.state == BROKEN else UNKNOWN
    return Hop(
        "google-access",
        "no Private Google Access",
        state,
        f"Private Google Access is off on subnet {subnet.name}, and {nat.detail}",
        (field, *nat.evidence),
        nat.export,
    )
