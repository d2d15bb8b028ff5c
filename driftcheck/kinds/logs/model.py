"""The log kind's model: a service's entries as signatures, built entry by entry (ServiceLogs, LogSignature)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from driftcheck.kinds.logs.entries import normalise, parse_entry
from driftcheck.kinds.logs.keys import service_key
from driftcheck.model import Unknown

MAX_SIGNATURES = 200  # per service: a 100 MB export of one noisy service stays a small digest
MAX_EXAMPLE = 300  # characters of a signature's example line
MAX_ADDRESSES = 5  # per signature
MAX_REVISIONS = 20  # per service, each with a digest of its own entries (a revision compare reads one)
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


@dataclass(slots=True)
class LogSignature:
    """Entries that say the same thing: their normalised text, how many, when, how severe, one example."""

    text: str  # normalised: `connect ETIMEDOUT <ip>:<port>`
    log: str  # request (run.googleapis.com/requests), system (Cloud Run's own), app (the container's)
    count: int
    first: str  # the earliest timestamp (RFC 3339, as logged)
    last: str
    severity: str  # the highest severity among them
    example: str  # one real line, redacted, its query strings dropped
    addresses: dict[str, int] = field(default_factory=dict)  # ip or ip:port its lines name -> how many lines
    status: int | None = None  # a request log's HTTP status
    max_latency_s: float | None = None  # a request log's longest latency

    def add(self, when: str, severity: str, addresses: list[str], latency: float | None) -> None:
        self.count += 1
        if when and (not self.first or when < self.first):
            self.first = when
        if when and when > self.last:
            self.last = when
        if SEVERITIES.index(severity) > SEVERITIES.index(self.severity):
            self.severity = severity
        for address in addresses:
            if address in self.addresses or len(self.addresses) < MAX_ADDRESSES:
                self.addresses[address] = self.addresses.get(address, 0) + 1
        if latency is not None and (self.max_latency_s is None or latency > self.max_latency_s):
            self.max_latency_s = latency


@dataclass(frozen=True, slots=True)
class _Seen:
    """One entry, parsed once: what the service's digest and its revision's record."""

    log: str
    line: str
    text: str
    addresses: list[str]
    status: int | None
    latency: float | None
    when: str
    severity: str
    location: Any


@dataclass(slots=True)
class ServiceLogs:
    """One service's recent log entries as signatures. Built entry by entry while evidence loads (then final)."""

    service: str
    origin: str  # the file (or snapshot) they came from
    project: str | None = None  # whose: the project and region the entries (or the snapshot's key) name; None
    region: str | None = None  # when they do not say
    entries: int = 0
    first: str | None = None
    last: str | None = None
    locations: list[str] = field(default_factory=list)  # the regions its entries name
    revisions: dict[str, int] = field(default_factory=dict)  # revision -> entries
    signatures: dict[str, LogSignature] = field(default_factory=dict)  # by log and normalised text
    unsorted: int = 0  # entries beyond MAX_SIGNATURES distinct signatures: counted, not grouped
    truncated: bool = False  # the read stopped at its limit: more matched than these
    by_revision: dict[str, ServiceLogs] = field(default_factory=dict)  # the first MAX_REVISIONS revisions' own

    def add(self, entry: dict[str, Any], label: str) -> None:
        log, line, addresses, status, latency = parse_entry(entry, label)
        when = str(entry.get("timestamp") or entry.get("receiveTimestamp") or "")
        severity = str(entry.get("severity") or "DEFAULT").upper()
        severity = severity if severity in SEVERITIES else "DEFAULT"
        labels = (entry.get("resource") or {}).get("labels") or {}
        location, revision = labels.get("location"), labels.get("revision_name")
        text = normalise(line)
        if status is not None:  # a request's status is what tells its lines apart: 504 is not 401
            text = text.replace("HTTP <n>", f"HTTP {status}", 1)
        seen = _Seen(log, line, text, addresses, status, latency, when, severity, location)
        self._record(seen)
        if isinstance(revision, str):
            self.revisions[revision] = self.revisions.get(revision, 0) + 1
            own = self.by_revision.get(revision)
            if own is None and len(self.by_revision) < MAX_REVISIONS:
                own = self.by_revision[revision] = ServiceLogs(self.service, self.origin, self.project, self.region)
            if own is not None:  # the revision's own digest: what a revision compare reads
                own._record(seen)

    def _record(self, seen: _Seen) -> None:
        self.entries += 1
        when = seen.when
        self.first = when if when and (self.first is None or when < self.first) else self.first
        self.last = when if when and (self.last is None or when > self.last) else self.last
        if isinstance(seen.location, str) and seen.location not in self.locations:
            self.locations.append(seen.location)
        key = f"{seen.log} {seen.text}"
        found = self.signatures.get(key)
        if found is None:
            if len(self.signatures) >= MAX_SIGNATURES:
                self.unsorted += 1
                return
            line = seen.line
            example = line if len(line) <= MAX_EXAMPLE else line[: MAX_EXAMPLE - 1] + "…"
            found = LogSignature(seen.text, seen.log, 0, when, when, seen.severity, example, {}, seen.status)
            self.signatures[key] = found
        found.add(when, seen.severity, seen.addresses, seen.latency)

    def of_revision(self, revision: str) -> ServiceLogs | Unknown | None:
        """The entries of one revision: its own digest when the entries name their revisions (a query by service
        name reads every revision's); None when they do not (the service's are all there is)."""
        if not self.revisions:
            return None
        own = self.by_revision.get(revision)
        if own is not None:
            return dataclasses.replace(own, truncated=self.truncated)
        if revision in self.revisions:  # beyond MAX_REVISIONS: counted, not told apart
            many = f"the logs of {self.service} name more than {MAX_REVISIONS} revisions"
            return Unknown(f"{many}: those of {revision} are not told apart")
        if self.truncated:  # the newest entries read: the revision's may be older
            return Unknown(f"the newest {self.entries} log entries of {self.service} read name no entry of {revision}")
        return ServiceLogs(  # it logged none of them
            self.service, self.origin, self.project, self.region, locations=list(self.locations)
        )

    @property
    def key(self) -> str:
        """Whose they are, as the Inventory keys them: the service's full name (`-` for what the evidence does not
        say), as the snapshot keys its sample."""
        return service_key(self.project, self.region, self.service)

    def ranked(self) -> list[LogSignature]:
        """Most frequent first, then most severe, then the latest."""
        return sorted(self.signatures.values(), key=lambda s: (-s.count, -SEVERITIES.index(s.severity), s.text))


def signature_counts(logs: ServiceLogs) -> Counter[str]:
    """Each signature's count, keyed by log and normalised text: what two services' logs are compared on."""
    return Counter({key: s.count for key, s in logs.signatures.items()})
