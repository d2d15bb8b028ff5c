"""Recent logs as rules read them: a rule's `log_match` patterns over the target's log signatures (kinds/logs/).

A pattern is searched (case-insensitive) in each signature's redacted example line; the signatures the peers do
not log come first, then the most frequent. The first found is the rule's item (`scope: logs`): named groups
become item fields, as `status_match`'s do; when the rule's `when` rejects it, the next found is, until one holds
(one finding, quoting that one). Any other rule with `log_match` is corroborated by it: the finding
quotes the signature (`logs of api: 37 × 'connect ETIMEDOUT 10.20.0.3:5432' since 14:02 UTC, to Cloud SQL
staging-shared-postgres`), which ranks it higher (ruleset/rank.py counts confirmations), and a log rule's finding
that quotes the same signature folds into it (ruleset/group.py): one cause, one finding.

An address a signature's lines name is resolved to the dependency the evidence holds at it: a Cloud SQL instance's
private IP, a Memorystore instance's host, else the env var of the service that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from driftcheck.kinds.logs import LogSignature, ServiceLogs, logs_of
from driftcheck.model import Inventory, Service, Unknown

TOP = 5  # signatures per service in a report
_QUOTE = 120  # characters of an example line in a sentence


class LogAddress(TypedDict):
    """An address a signature's lines name."""

    address: str  # ip, or ip:port
    count: int  # how many of its lines name it
    names: str | None  # the dependency the evidence holds at that address: `Cloud SQL staging-shared-postgres`


class LogSignatureSeen(TypedDict):
    """Entries of a service's logs that say the same thing (kinds/logs/)."""

    signature: str  # the normalised text: `connect ETIMEDOUT <ip>:<port>`
    log: Literal["request", "system", "app"]  # Cloud Run's request log, its system log, or the container's own
    count: int
    first: str  # the earliest timestamp, RFC 3339
    last: str  # the latest
    severity: str  # the highest: WARNING, ERROR, CRITICAL...
    example: str  # one line, redacted, query strings dropped
    addresses: list[LogAddress]
    status: int | None  # a request log's HTTP status
    max_latency_s: float | None  # a request log's longest latency, in seconds


class LogsSeen(TypedDict):
    """A service's recent log entries in the evidence, as signatures."""

    entries: int  # how many were read
    first: str | None
    last: str | None
    truncated: bool  # the read stopped at its limit: more entries matched
    source: str  # the file (or snapshot) they came from
    signatures: list[LogSignatureSeen]  # the most frequent first


class LogItem(TypedDict):
    """A log rule's one item: the signature its `log_match` found. Each named group of the pattern is a key too."""

    quote: str  # the words the pattern found
    signature: str  # the normalised text
    log: Literal["request", "system", "app"]
    count: int  # entries of that signature
    matched: int  # entries of every signature the patterns found
    first: str
    last: str
    since: str  # when it began, for a sentence: `14:02 UTC`
    severity: str
    example: str  # one line, redacted
    status: int | None  # a request log's HTTP status
    max_latency_s: float | None
    address: str | None  # the first address its lines name
    destination: str | None  # that address as a dependency: `Cloud SQL staging-shared-postgres (10.20.0.3:5432)`
    in_peers: int  # how many compared peers log it too
    peers_logged: int  # how many compared peers' logs are in the evidence
    logged: str  # for a sentence: `37 × 'connect ETIMEDOUT 10.20.0.3:5432' since 14:02 UTC`


@dataclass(frozen=True)
class LogMatch:
    item: dict[str, Any]  # a LogItem and the pattern's groups
    groups: dict[str, str]  # what the pattern's named groups captured
    service: str

    @property
    def status_item(self) -> dict[str, Any]:
        """A status rule's item (ruleset/status.py's StatusItem) when the logs, not the status, said it."""
        stated = {"quote": self.item["quote"], "reason": None, "message": self.item["example"], "stated_in": "logs"}
        return {**stated, **self.groups}

    @property
    def signature(self) -> str:
        return f"{self.item['log']} {self.item['signature']}"

    def confirmation(self) -> str:
        item = self.item
        to = f", to {item['destination']}" if item["destination"] else ""
        peers = "; no compared peer logs it" if item["peers_logged"] and not item["in_peers"] else ""
        return f"logs of {self.service}: {item['logged']}{to}{peers}"


@dataclass(frozen=True)
class SignatureDigest:
    """One signature as a report shows it."""

    signature: str
    log: str
    count: int
    first: str
    last: str
    severity: str
    example: str
    destination: str | None
    in_peers: int | None  # None: no peer's logs are known


@dataclass(frozen=True)
class LogDigest:
    """A compared service's logs as a report shows them: the top signatures, or why they are not known."""

    service: str
    known: bool
    reason: str | None  # why not known
    entries: int
    first: str | None
    last: str | None
    truncated: bool
    signatures: tuple[SignatureDigest, ...]
    more: int  # signatures not shown


class LogEvidence:
    """The target's and its peers' logs, read once per evaluation."""

    def __init__(self, target: Service, baselines: list[Service], inventory: Inventory) -> None:
        self.target = target
        self.logs = logs_of(target, inventory)
        self.peers = {b.name: logs_of(b, inventory) for b in baselines}
        self.names = dependency_names(target, inventory)
        self._ordered: list[LogSignature] | None = None
        self._found: dict[tuple[str, ...], list[LogMatch]] = {}

    @property
    def peers_logged(self) -> int:
        return sum(1 for logs in self.peers.values() if isinstance(logs, ServiceLogs))

    def in_peers(self, key: str) -> int:
        return sum(1 for logs in self.peers.values() if isinstance(logs, ServiceLogs) and key in logs.signatures)

    def ordered(self) -> list[LogSignature]:
        """The target's signatures, those its peers do not log first, then the most frequent."""
        if self._ordered is None:
            logs = self.logs
            ranked = logs.ranked() if isinstance(logs, ServiceLogs) else []
            self._ordered = sorted(ranked, key=lambda s: self.in_peers(_key(s)) > 0)
        return self._ordered

    def found(self, patterns: tuple[str, ...]) -> LogMatch | None:
        """The first signature one of the patterns is found in, as a rule's item."""
        return next(iter(self.every(patterns)), None)

    def every(self, patterns: tuple[str, ...]) -> list[LogMatch]:
        """Each signature one of the patterns is found in, in order, as a rule's item: a rule whose `when` rejects
        the first (a short 504 more frequent than the timed-out ones) asks the next."""
        if patterns not in self._found:
            self._found[patterns] = self._search(patterns)
        return self._found[patterns]

    def _search(self, patterns: tuple[str, ...]) -> list[LogMatch]:
        hits = []
        for signature in self.ordered():
            for pattern in patterns:
                match = re.search(pattern, signature.example, re.I | re.S)
                if match:
                    hits.append((signature, match))
                    break
        matched = sum(s.count for s, _ in hits)
        found = []
        for signature, match in hits:
            groups = {name: value for name, value in match.groupdict().items() if value is not None}
            item = self._item(signature, match.group(0), matched)
            found.append(LogMatch({**item, **groups}, groups, self.target.name))
        return found

    def _item(self, signature: LogSignature, quote: str, matched: int) -> LogItem:
        address = next(iter(signature.addresses), None)
        since = when(signature.first, signature.last)
        return {
            "quote": quote,
            "signature": signature.text,
            "log": _log(signature.log),
            "count": signature.count,
            "matched": matched,
            "first": signature.first,
            "last": signature.last,
            "since": since,
            "severity": signature.severity,
            "example": signature.example,
            "status": signature.status,
            "max_latency_s": signature.max_latency_s,
            "address": address,
            "destination": self.destination(address) if address else None,
            "in_peers": self.in_peers(_key(signature)),
            "peers_logged": self.peers_logged,
            "logged": f"{signature.count} × {_quoted(signature.example)}" + (f" since {since}" if since else ""),
        }

    def destination(self, address: str) -> str:
        name = self.names.get(address.rsplit(":", 1)[0] if address.count(":") == 1 else address)
        return f"{name} ({address})" if name else address

    def seen(self) -> LogsSeen | Unknown:
        """The target's logs as rules see them (`refs.logs`), peers apart (compare `baseline.refs.logs`)."""
        logs = self.logs
        if isinstance(logs, Unknown):
            return logs
        return {
            "entries": logs.entries,
            "first": logs.first,
            "last": logs.last,
            "truncated": logs.truncated,
            "source": logs.origin,
            "signatures": [self._seen(s) for s in logs.ranked()],
        }

    def _seen(self, signature: LogSignature) -> LogSignatureSeen:
        return {
            "signature": signature.text,
            "log": _log(signature.log),
            "count": signature.count,
            "first": signature.first,
            "last": signature.last,
            "severity": signature.severity,
            "example": signature.example,
            "addresses": [
                {"address": a, "count": n, "names": self.names.get(a.split(":")[0])}
                for a, n in signature.addresses.items()
            ],
            "status": signature.status,
            "max_latency_s": signature.max_latency_s,
        }

    def digests(self) -> tuple[LogDigest, ...]:
        """The target's logs, then each peer's, for a report; () when no compared service's logs are in the
        evidence (a report without logs says nothing of them)."""
        every = {self.target.name: self.logs, **self.peers}
        if not any(isinstance(logs, ServiceLogs) for logs in every.values()):
            return ()
        return tuple(self._digest(name, logs) for name, logs in every.items())

    def _digest(self, name: str, logs: ServiceLogs | Unknown) -> LogDigest:
        if isinstance(logs, Unknown):
            return LogDigest(name, False, logs.reason, 0, None, None, False, (), 0)
        target = name == self.target.name
        signatures = self.ordered() if target else logs.ranked()
        shown = tuple(
            SignatureDigest(
                s.text,
                s.log,
                s.count,
                s.first,
                s.last,
                s.severity,
                s.example,
                self.destination(next(iter(s.addresses))) if s.addresses and target else None,
                self.in_peers(_key(s)) if target and self.peers_logged else None,
            )
            for s in signatures[:TOP]
        )
        more = len(signatures) - len(shown)
        return LogDigest(name, True, None, logs.entries, logs.first, logs.last, logs.truncated, shown, more)


def dependency_names(service: Service, inventory: Inventory) -> dict[str, str]:
    """IP -> the dependency the evidence holds there: Cloud SQL private IPs, Memorystore hosts, then the env vars
    of the service whose value is that address."""
    names: dict[str, str] = {}
    for instance in inventory.sql_instances.values():
        if instance.private_ip:
            names.setdefault(instance.private_ip, f"Cloud SQL {instance.name}")
    for instance in inventory.of("redis").values():
        host = getattr(instance, "host", None)
        if isinstance(host, str):
            names.setdefault(host, f"Memorystore Redis {str(instance.name).rsplit('/', 1)[-1]}")
    for container in service.containers.values():
        if isinstance(container.env, Unknown):
            continue
        for var_name, var in container.env.items():
            if isinstance(var.value, str):
                for ip in re.findall(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])", var.value):
                    names.setdefault(ip, f"{var_name} of {service.name}")
    return names


def when(first: str, last: str) -> str:
    """`14:02 UTC`; with the date when the entries span days."""
    try:
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (first, last))
    except ValueError:
        return first
    start, end = (t.astimezone(UTC) if t.utcoffset() is not None else t for t in (start, end))
    same_day = start.date() == end.date()
    return start.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC")


def _key(signature: LogSignature) -> str:
    return f"{signature.log} {signature.text}"


def _log(log: str) -> Literal["request", "system", "app"]:
    return "request" if log == "request" else "system" if log == "system" else "app"


def _quoted(text: str) -> str:
    short = text if len(text) <= _QUOTE else text[: _QUOTE - 1] + "…"
    return f"'{short}'"


def logs_seen(service: Service, inventory: Inventory) -> LogsSeen | Unknown:
    """What `refs.logs` holds: the service's log signatures, or why they are not known."""
    return LogEvidence(service, [], inventory).seen()
