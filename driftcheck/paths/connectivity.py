"""What a Connectivity Test can settle on a network path, and how its answer settles the path's hops (pure).

`--connectivity-test` (live compare and check) asks Google's own analysis about each path that the evidence leaves
broken or unknown and that one test can decide: a Cloud Run revision to a private IP address and port (a Cloud SQL
private IP, a Memorystore host, an RFC 1918 address in an env value). The answer (sources/live/reachability.py, as a
plain dict) settles the hops, each citing "Connectivity Test NAME: ..." in its evidence:

- REACHABLE: every broken or unknown hop is verified (a hop the evidence read as broken says what it read, too).
- UNREACHABLE: the hop where the packet is dropped (by the step, then the cause, of the test's trace) is broken, and
  the unknown hops before it are verified (the packet passed them); with no such hop on the path, a hop of its own
  (`connectivity-test`) says where the test drops it.
- AMBIGUOUS, UNDETERMINED, a revision the analysis cannot start from, or no answer (a denied create): nothing changes
  state; the unknown hops say what the test answered, and a note says why nothing was settled.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any

from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop, NetworkPath, line_of, summarize

TESTABLE = ("sql", "redis", "private")  # a private destination; internet and Google APIs are not a single IP:port
MAX_TESTS = 8  # a run creates at most this many tests
# The step of the trace where a packet is dropped (or what dropped it), to the kinds of hop that step is: first match.
_AT_STEP = {
    "APPLY_EGRESS_FIREWALL_RULE": ("firewall-egress",),
    "APPLY_INGRESS_FIREWALL_RULE": ("firewall-ingress", "firewall-egress"),
    "ARRIVE_AT_VPC_CONNECTOR": ("connector",),
    "DIRECT_VPC_EGRESS_CONNECTION": ("direct-vpc",),
    "APPLY_ROUTE": ("peering", "network"),
    "NAT": ("nat",),
    "START_FROM_CLOUD_RUN_REVISION": ("vpc", "egress"),
}
_BY_CAUSE = {
    "FIREWALL_RULE": ("firewall-egress", "firewall-ingress"),
    "VPC_CONNECTOR_NOT_SET": ("vpc",),
    "VPC_CONNECTOR_NOT_RUNNING": ("connector",),
    "VPC_CONNECTOR_SERVERLESS_TRAFFIC_BLOCKED": ("connector", "firewall-egress"),
    "PRIVATE_TRAFFIC_TO_INTERNET": ("egress",),
    "GOOGLE_MANAGED_SERVICE_NO_PEERING": ("peering",),
    "NO_ROUTE": ("peering", "network"),
    "ROUTE_WRONG_NETWORK": ("network", "peering"),
    "CLOUD_NAT_NO_ADDRESSES": ("nat",),
    "CLOUD_SQL_INSTANCE_NOT_RUNNING": ("destination",),
    "REDIS_INSTANCE_NOT_RUNNING": ("destination",),
}
# Causes that say nothing of the path: the analysis could not start from the revision.
_NOT_ANALYSED = ("CLOUD_RUN_REVISION_NOT_READY",)


@dataclass(frozen=True)
class Probe:
    """One path a Connectivity Test can settle: `key` names it in the answers and the notes."""

    key: str  # `api → 10.20.0.3:5432`
    service: str
    address: str
    port: int


def probes_of(paths: tuple[NetworkPath, ...]) -> list[Probe]:
    """The paths a test can settle, once each (two paths of one service to one IP:port are one test), in order."""
    probes: dict[str, Probe] = {}
    for path in paths:
        if path.state == VERIFIED or path.kind not in TESTABLE or not path.port or not _is_ip(path.address):
            continue
        key = f"{path.service} → {path.address}:{path.port}"
        probes.setdefault(key, Probe(key, path.service, path.address, path.port))
    return list(probes.values())


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def key_of(path: NetworkPath) -> str:
    return f"{path.service} → {path.address}:{path.port}"


def settle(path: NetworkPath, answer: dict[str, Any]) -> NetworkPath:
    """The path with its hops as the test's answer settles them (the module's docstring); the same path when the
    answer settles nothing."""
    if answer.get("error"):
        return path
    name = str(answer["test"]).rsplit("/", 1)[-1]
    result, drop = str(answer.get("result") or "UNDETERMINED"), answer.get("drop")
    if result == "REACHABLE":
        hops = tuple(_verified(hop, name) for hop in path.hops)
    elif result == "UNREACHABLE" and drop and drop.get("cause") not in _NOT_ANALYSED:
        hops = _dropped(path.hops, name, drop)
    else:
        said = f"Connectivity Test {name}: {result}" + (f" ({answer['message']})" if answer.get("message") else "")
        said += f", {_where(drop)}" if drop else ""
        hops = tuple(
            dataclasses.replace(hop, detail=f"{hop.detail}; {said}") if hop.state == UNKNOWN else hop
            for hop in path.hops
        )
    return _with_hops(path, hops)


def _verified(hop: Hop, name: str) -> Hop:
    if hop.state == VERIFIED:
        return hop
    cited = f"Connectivity Test {name}: REACHABLE"
    detail = f"{cited}, although the evidence read says: {hop.detail}" if hop.state == BROKEN else cited
    return Hop(hop.kind, hop.label, VERIFIED, detail, (cited, *hop.evidence), None)


def _where(drop: dict[str, Any]) -> str:
    at = f"dropped at {drop.get('at')} ({drop.get('cause')})"
    if drop.get("resource"):
        at += f" by {drop['resource']}"
    return at + (f": {drop['description']}" if drop.get("description") else "")


def _dropped(hops: tuple[Hop, ...], name: str, drop: dict[str, Any]) -> tuple[Hop, ...]:
    cited = f"Connectivity Test {name}: UNREACHABLE, {_where(drop)}"
    kinds = (*_AT_STEP.get(str(drop.get("at")), ()), *_BY_CAUSE.get(str(drop.get("cause")), ()))
    at = next((i for kind in kinds for i, hop in enumerate(hops) if hop.kind == kind), None)
    if at is None:  # no hop of the path is where it drops: said as a hop of its own, before the destination
        return (*hops, Hop("connectivity-test", f"Connectivity Test {name}", BROKEN, cited, (cited,)))
    settled = []
    for index, hop in enumerate(hops):
        if index == at:
            settled.append(Hop(hop.kind, hop.label, BROKEN, cited, (cited, *hop.evidence), None))
        elif index < at and hop.state == UNKNOWN:
            passed = f"Connectivity Test {name}: passed, before the drop at {drop.get('at')}"
            settled.append(Hop(hop.kind, hop.label, VERIFIED, passed, (passed, *hop.evidence), None))
        else:
            settled.append(hop)
    return tuple(settled)


def _with_hops(path: NetworkPath, hops: tuple[Hop, ...]) -> NetworkPath:
    if hops == path.hops:
        return path
    state, breaks_at = summarize(hops)
    end = path.line[len(line_of(path.service, path.hops)) :]  # ` → Cloud SQL x 10.20.0.3:5432`, as built
    return dataclasses.replace(
        path, hops=hops, state=state, breaks_at=breaks_at, line=line_of(path.service, hops) + end
    )


def notes_of(probes: list[Probe], answers: dict[str, dict[str, Any]], skipped: int, role: str) -> list[str]:
    """What the report says of the tests: each one that answered nothing or settled nothing, each left undeleted, and
    the paths not tested for the bound."""
    notes = []
    for probe in probes:
        answer = answers.get(probe.key)
        if answer is None:
            continue
        name = str(answer.get("test", "")).rsplit("/", 1)[-1]
        if answer.get("error"):
            notes.append(f"could not run a Connectivity Test for {probe.key} ({answer['error']}): its path stays as "
                         f"the evidence shows it (a test needs {role})")  # fmt: skip
        elif answer.get("result") != "REACHABLE" and not (
            answer.get("result") == "UNREACHABLE" and (answer.get("drop") or {}).get("cause") not in _NOT_ANALYSED
        ):
            drop = answer.get("drop")
            said = f"Connectivity Test {name} for {probe.key}: {answer.get('result')}"
            notes.append(said + (f", {_where(drop)}" if drop else "") + ": its path stays as the evidence shows it")
        if answer.get("delete_error"):
            notes.append(f"could not delete Connectivity Test {answer['test']} ({answer['delete_error']}): delete it "
                         f"with `gcloud network-management connectivity-tests delete {name}`")  # fmt: skip
    if skipped:
        notes.append(f"{skipped} more path{'s' * (skipped != 1)} not tested: at most {MAX_TESTS} Connectivity Tests "
                     "a run")  # fmt: skip
    return notes
