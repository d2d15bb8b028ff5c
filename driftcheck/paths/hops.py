"""A network path as data: the hops from a service to one dependency, each verified, broken or unknown.

Small frozen dataclasses, built by paths/build.py and its stages (landing.py, networks.py, firewall_hops.py,
nat.py), shown by the reports (a hop-by-hop line) and seen by rules as `refs.paths[]` (ruleset/context/). A hop
that the evidence cannot decide is `unknown` with the gcloud command whose output would decide it, never `broken`.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftcheck.model import Unknown

VERIFIED, BROKEN, UNKNOWN = "verified", "broken", "unknown"
# "(?)", not a lone "?": that is how a placeholder that failed to render shows (ruleset/cel.render)
MARK = {VERIFIED: "✓", BROKEN: "✗", UNKNOWN: "(?)"}


@dataclass(frozen=True, slots=True)
class Hop:
    """One hop of a network path, and whether the evidence shows traffic passes it."""

    # service | egress | vpc (no VPC path) | connector | direct-vpc | network | peering | nat | google-access |
    # firewall-egress | firewall-ingress | destination | connectivity-test (where a Connectivity Test drops the packet
    # on no hop of these: paths/connectivity.py)
    kind: str
    label: str  # as a report shows it: `connector staging-connector (staging-vpc 10.8.0.0/28)`
    state: str  # verified | broken | unknown
    detail: str  # what the evidence says: why traffic passes, why it does not, or why it cannot be told
    evidence: tuple[str, ...] = ()  # the fields (file:field) the state was read from
    export: str | None = None  # unknown: the gcloud command whose output would decide it


@dataclass(frozen=True, slots=True)
class NetworkPath:
    """How a service reaches one dependency over the network, hop by hop."""

    service: str  # the service's name
    # sql (a Cloud SQL private IP) | redis (Memorystore) | private (another private address or internal host) |
    # internet (a public host, with all-traffic egress) | google-apis (Google APIs, with all-traffic egress)
    kind: str
    destination: str  # what it reaches: `Cloud SQL staging-shared-postgres`, `10.60.0.8`, `api.stripe.com`
    address: str  # the IP or host it connects to
    port: int | None  # the port, where the env value or the resource says it
    named_by: tuple[str, ...]  # the env vars that name it, or `attached` (a Cloud SQL connection)
    hops: tuple[Hop, ...]
    state: str  # broken when a hop is, else unknown when a hop is, else verified
    breaks_at: str | None  # the kind of the first broken hop
    egress: str  # all_traffic | private_ranges_only | none: what the service sends through the VPC
    vpc_path: str  # connector | direct | none
    network: str | Unknown | None  # the network its VPC path lands on; None without one
    region: str | Unknown | None  # the region of its connector, or of its Direct VPC subnet
    source_ranges: tuple[str, ...]  # where its traffic leaves from: the connector's range, the subnet's
    destination_network: str | Unknown | None  # the dependency's network (Cloud SQL, Memorystore); None: not known
    line: str  # the hops on one line, each with ✓, ✗ or ?: what the reports show


def summarize(hops: tuple[Hop, ...]) -> tuple[str, str | None]:
    """A path's state and the kind of its first broken hop."""
    broken = next((hop for hop in hops if hop.state == BROKEN), None)
    if broken is not None:
        return BROKEN, broken.kind
    return (UNKNOWN if any(hop.state == UNKNOWN for hop in hops) else VERIFIED), None


def line_of(service: str, hops: tuple[Hop, ...]) -> str:
    """`api → egress private-ranges-only ✓ → connector staging-connector (staging-vpc 10.8.0.0/28) ✓ → ...`"""
    return " → ".join([service, *(f"{hop.label} {MARK[hop.state]}" for hop in hops)])
