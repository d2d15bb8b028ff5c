"""What the VPC firewall does to one flow: the rules that apply, by priority, deny before allow at a tie.

Egress is decided at the source (a connector's instances, or the Direct VPC instances with their network tags):
the implied rule (priority 65535) allows it, so only a deny that comes first breaks it, and an allow at a higher
priority (a lower number) than a deny wins. Ingress matters only for a VM: the implied rule denies it, and a rule
that targets tags or service accounts may or may not apply to the VM (which tags it carries is not in the
evidence), so such a rule makes the answer unknown, never allowed or denied. A connector's traffic is matched by
its network tags (`vpc-connector`, `vpc-connector-REGION-NAME`) as an ingress rule's source tags too; Direct VPC
traffic is not (Google documents network tags in ingress rules as unsupported for it), only by its range. Ingress
to a managed service (Cloud SQL through private services access, Memorystore) is decided in Google's network,
where this VPC's rules do not apply.
"""

from __future__ import annotations

import ipaddress

from driftcheck.kinds.network.firewall import Firewall
from driftcheck.model import Unknown
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED

Verdict = tuple[str, str, tuple[str, ...]]  # state, what decided it, the fields read


def _port_matches(rule: Firewall, port: int | None) -> bool | None:
    """Whether the rule matches TCP to the port; None when it matches some TCP ports but the port is not known."""
    for match in rule.protocols:
        if match.protocol not in ("tcp", "all", "6"):
            continue
        if not match.ports:
            return True
        if port is None:
            return None
        for spec in match.ports:
            low, _, high = spec.partition("-")
            if low.isdigit() and int(low) <= port <= int(high or low):
                return True
    return False


def _ordered(rules: list[Firewall], direction: str) -> list[Firewall]:
    live = [r for r in rules if r.direction == direction and r.disabled is not True]
    return sorted(live, key=lambda r: (r.priority if isinstance(r.priority, int) else 1000, r.action != "deny"))


def _field(rule: Firewall) -> str:
    return rule.provenance.get("action", rule.origin)


def egress_verdict(rules: list[Firewall], tags: tuple[str, ...], address: str, port: int | None) -> Verdict:
    """Egress from the service's instances (which carry `tags`) to address:port."""
    ip = ipaddress.ip_address(address)
    for rule in _ordered(rules, "EGRESS"):
        if rule.target_service_accounts:
            continue  # Cloud Run instances and connectors are not targeted by service account
        if rule.target_tags and not set(rule.target_tags) & set(tags):
            continue
        ranges = rule.destination_ranges or ("0.0.0.0/0",)
        if not any(ip in ipaddress.ip_network(r, strict=False) for r in ranges):
            continue
        matches = _port_matches(rule, port)
        if matches is False:
            continue
        if isinstance(rule.action, Unknown) or isinstance(rule.priority, Unknown) or matches is None:
            return UNKNOWN, f"egress rule {rule.name} may apply, and what it does is not known", (_field(rule),)
        if rule.action == "deny":
            return BROKEN, f"egress rule {rule.name} (priority {rule.priority}) denies it", (_field(rule),)
        return VERIFIED, f"egress rule {rule.name} (priority {rule.priority}) allows it", (_field(rule),)
    return VERIFIED, "no egress rule denies it (the implied rule allows egress)", ()


def ingress_verdict(
    rules: list[Firewall], ranges: tuple[str, ...], port: int | None, source_tags: tuple[str, ...] = ()
) -> Verdict:
    """Ingress to a VM from the service's ranges (a connector's, a subnet's) to the port; `source_tags`: the tags an
    ingress rule's source tags match the service's traffic by (a connector's; none for Direct VPC)."""
    if not ranges:
        return UNKNOWN, "the range the service's traffic leaves from is not known", ()
    sources = [ipaddress.ip_network(r, strict=False) for r in ranges]
    for rule in _ordered(rules, "INGRESS"):
        covered = [
            any(source.subnet_of(ipaddress.ip_network(r, strict=False)) for r in rule.source_ranges)  # type: ignore[arg-type]
            for source in sources
        ]
        overlaps = any(
            source.overlaps(ipaddress.ip_network(r, strict=False)) for r in rule.source_ranges for source in sources
        )
        tagged = bool(set(rule.source_tags) & set(source_tags))  # every instance of the connector carries them
        if not overlaps and not tagged:
            continue
        matches = _port_matches(rule, port)
        if matches is False:
            continue
        targeted = bool(rule.target_tags or rule.target_service_accounts)
        unknown = isinstance(rule.action, Unknown) or isinstance(rule.priority, Unknown)
        if not (all(covered) or tagged) or targeted or matches is None or unknown:
            return (
                UNKNOWN,
                f"ingress rule {rule.name} may apply (it targets {', '.join(rule.target_tags) or 'some instances'}),"
                " and which tags the destination VM carries is not in the evidence",
                (_field(rule),),
            )
        if rule.action == "deny":
            return BROKEN, f"ingress rule {rule.name} (priority {rule.priority}) denies it", (_field(rule),)
        return VERIFIED, f"ingress rule {rule.name} (priority {rule.priority}) allows it", (_field(rule),)
    return BROKEN, f"no ingress rule allows {', '.join(ranges)} in (the implied rule denies ingress)", ()
