"""Recent Cloud Run log entries, as signatures: what a service logged, grouped by what it says.

Evidence: `gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name="api" AND
severity>=WARNING' --freshness=1h --limit=500 --format=json > api.logs.json`: a JSON list of LogEntry objects (the
Cloud Logging API's JSON: `logName`, `resource` {type cloud_run_revision, labels {service_name, revision_name,
location, project_id}}, `timestamp`, `severity`, `textPayload` | `jsonPayload` | `protoPayload`, `httpRequest`
{requestMethod, requestUrl, status, latency}...). Recognised by content, one entry at a time: a long file is decoded
item by item (sources/json_stream.py), and one file may hold several services' entries. An empty list (`[]`, what
gcloud writes when nothing matched) names no service, so it says nothing of any.

Snapshot (what a live run stores, sources/live/logs.py, and `driftcheck snapshot -o FILE` writes):

    "log_entries": {
        "projects/P/locations/us-central1/services/api": [{LogEntry JSON, as gcloud writes it}, ...],  # [] if none
        "projects/P/locations/europe-west1/services/api": {"error": "PERMISSION_DENIED: ...; needs
                                                          logging.logEntries.list (roles/logging.viewer)"}
    }

keyed by the service's full name, as the API names it: a service name is unique only within one region of one
project (`api` in us-central1 and `api` in europe-west1 are two services, each with its own sample); a list may
also come as {"entries": [...], "truncated": true}. A snapshot of an earlier driftcheck keyed a sample by the short
name alone (`"api"`): it is read as the sample of the snapshot's one service of that name (`upgraded`), and when
the snapshot has several (one per region: one region's sample was written over the other's), their logs are
unknown, never another region's. A read that failed is unknown, never "no logs". A service with no entries in the
evidence has unknown logs (nobody exported them), never quiet ones.

Exported entries are grouped the same way, by the service, region and project their resource names
(`resource.labels.service_name`, `location`, `project_id`): an export of `api` in two regions is the logs of two
services, and a service's are those of its own region (and project); an export that does not say whose they are
(two regions' groups, and a service whose region is unknown) leaves its logs unknown.

Signatures, not lines: each entry's message (a request log's `HTTP 504 GET /path`, a platform entry's text, the
container's text or structured `message`; of a Python traceback its last line, of any other stack its first) is
redacted (driftcheck/redact.py, and a URL's query string dropped), then normalised: addresses, numbers, hex and
UUIDs, timestamps, e-mail addresses become placeholders and the words stay. Entries with the same normalised text
and log (request, system, app) are one signature: its count, first and last time, highest severity, one redacted
example, the addresses its lines named (resolved to a known dependency by ruleset/logs.py). At most
`MAX_SIGNATURES` per service; entries beyond are counted in `unsorted`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, register
from driftcheck.kinds.service.common import own_name
from driftcheck.model import Inventory, Service, Unknown, subject_of
from driftcheck.redact import redact_text

KIND = "Cloud Run log entries (gcloud logging read 'resource.type=\"cloud_run_revision\" ...' --format=json)"
NAME = "log_entries"
SNAPSHOT_KEY = "log_entries"
EXPORT_HINT = (
    'gcloud logging read \'resource.type="cloud_run_revision" AND resource.labels.service_name="{service}" AND '
    "severity>=WARNING' --freshness=1h --limit=500 --format=json > {service}.logs.json"
)
MAX_SIGNATURES = 200  # per service: a 100 MB export of one noisy service stays a small digest
MAX_EXAMPLE = 300  # characters of a signature's example line
MAX_ADDRESSES = 5  # per signature
MAX_REVISIONS = 20  # per service, each with a digest of its own entries (a revision compare reads one)
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
RESOURCE_TYPE = "cloud_run_revision"

_QUERY = re.compile(r"(?<=[\w/])\?[^\s\"'#<>]*")  # a URL's (or a path's) query string: where keys and tokens ride
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
)
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"
_ADDRESS = re.compile(rf"(?P<ip>{_IPV4})(?::(?P<port>\d{{1,5}})\b)?")
_PORT_AFTER = re.compile(r"\bport\s+(?P<port>\d{1,5})\b", re.I)  # psycopg2: host "10.20.0.3" ... on port 5432?
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b|\b0x[0-9a-fA-F]+\b")
_NUMBER = re.compile(r"(?<![\w<])\d+(?:\.\d+)?(?![\w>])")
_SPACE = re.compile(r"\s+")
_TRACEBACK = "Traceback (most recent call last)"
_KEY = re.compile(r"^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$")
_MESSAGE_KEYS = ("message", "msg", "error", "err", "exception", "stack_trace", "stackTrace", "textPayload")


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


def matches(data: Any) -> bool:
    """One LogEntry of a Cloud Run revision: a log name, and a `cloud_run_revision` resource."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("logName"), str)
        and isinstance(data.get("resource"), dict)
        and data["resource"].get("type") == RESOURCE_TYPE
    )


def load(doc: Document, inventory: Inventory) -> None:
    """Each entry joins its service's signatures: entry by entry, as a long file is decoded. Whose service: the
    name, region and project its resource labels name (a name alone is unique only within one region)."""
    service = service_of(doc.data, doc.label)
    labels = doc.data["resource"].get("labels") or {}
    project, region = (_label(labels, name) for name in ("project_id", "location"))
    found: dict[str, ServiceLogs] = inventory.of(NAME)
    key = service_key(project, region, service)
    logs = found.get(key)
    if logs is None:
        label = doc.url or str(doc.path)
        logs = found[key] = ServiceLogs(service, label, project, region)
    logs.add(doc.data, doc.label)


def _label(labels: Any, name: str) -> str | None:
    value = labels.get(name) if isinstance(labels, dict) else None
    return value if isinstance(value, str) and value else None


def service_key(project: str | None, region: str | None, service: str) -> str:
    """A service's full name (`projects/P/locations/R/services/S`), `-` for a project or region not known."""
    return f"projects/{project or '-'}/locations/{region or '-'}/services/{service}"


def parse_key(key: str) -> tuple[str | None, str | None, str]:
    """(project, region, service) of a key; a snapshot of an earlier driftcheck's short name names neither."""
    match = _KEY.match(key)
    if match is None:
        return None, None, key
    project, region, service = match.groups()
    return (None if project == "-" else project), (None if region == "-" else region), service


def service_of(entry: dict[str, Any], label: str) -> str:
    labels = entry["resource"].get("labels") or {}
    name = labels.get("service_name") if isinstance(labels, dict) else None
    if not isinstance(name, str) or not name:
        raise InputError("a Cloud Run log entry names no service", file=label, where="resource.labels.service_name")
    return name


def parse_entry(entry: dict[str, Any], label: str) -> tuple[str, str, list[str], int | None, float | None]:
    """(log, redacted message line, addresses named, HTTP status, latency in seconds) of one entry."""
    log_name = str(entry.get("logName", ""))
    request = entry.get("httpRequest") if isinstance(entry.get("httpRequest"), dict) else None
    text = _payload_text(entry)
    if log_name.endswith(("%2Frequests", "/requests")) or (request and not text):
        request = request or {}
        status = _status(request.get("status"), label)
        method = str(request.get("requestMethod") or "").upper()
        path = _path_of(str(request.get("requestUrl") or ""))
        line = " ".join(part for part in ("HTTP", str(status) if status else "", method, path) if part)
        line += f": {headline(text)}" if text else ""
        safe = _safe(line)
        return "request", safe, _addresses(_safe(text)) if text else [], status, _latency(request.get("latency"))
    log = "system" if log_name.endswith(("%2Fvarlog%2Fsystem", "/varlog/system")) else "app"
    safe_text = _safe(text[:4000])
    return log, _safe(headline(text)), _addresses(safe_text), None, None


def headline(text: str) -> str:
    """The line that says what happened: a Python traceback's last line, else the first non-blank one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith(_TRACEBACK):
        unindented = [line for line in text.splitlines() if line.strip() and not line[:1].isspace()]
        return unindented[-1].strip() if unindented else lines[-1]
    return lines[0]


def normalise(line: str) -> str:
    """The words of a line, its particulars as placeholders: what lines saying the same thing share."""
    text = _TIME.sub("<time>", line)
    text = _UUID.sub("<uuid>", text)
    text = _EMAIL.sub("<email>", text)
    text = _ADDRESS.sub(lambda m: "<ip>:<port>" if m["port"] else "<ip>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


def _safe(text: str) -> str:
    """Redacted, a URL's query string dropped, on one line."""
    return _SPACE.sub(" ", redact_text(_QUERY.sub("", text))).strip()


def _payload_text(entry: dict[str, Any]) -> str:
    text = entry.get("textPayload")
    if isinstance(text, str):
        return text
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        for key in _MESSAGE_KEYS:
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                return value
        return ""
    proto = entry.get("protoPayload")
    if isinstance(proto, dict):
        status = proto.get("status")
        message = status.get("message") if isinstance(status, dict) else None
        return str(message or proto.get("methodName") or "")
    return ""


def _addresses(text: str) -> list[str]:
    """The IPv4 addresses a message names, with the port beside it (or `port N` later in the message)."""
    later = _PORT_AFTER.search(text)
    found = []
    for match in _ADDRESS.finditer(text):
        port = match["port"] or (later["port"] if later and later.start() > match.end() else None)
        found.append(f"{match['ip']}:{port}" if port else match["ip"])
    return list(dict.fromkeys(found))


def _path_of(url: str) -> str:
    """A request URL's path, without scheme, host or query string: what requests to one route share."""
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    except ValueError:  # a malformed host ("[..."): its path is still after the first single slash
        path = "/" + url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    return path or "/"


def _status(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InputError(f"not an HTTP status: {value!r:.20}", file=label, where="httpRequest.status")
    return int(value)


def _latency(value: Any) -> float | None:
    """`30.001234s` (the API's Duration) or {"seconds": 30, "nanos": ...}."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return round(float(value[:-1]), 3)
        except ValueError:
            return None
    if isinstance(value, dict):
        return round(float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9, 3)
    return None


def from_entries(key: str, entries: Any, origin: str, project: str | None = None) -> ServiceLogs:
    """A stored sample: a list of LogEntry JSON, or {"entries": [...], "truncated": bool}, of the service its key
    names (`projects/P/locations/R/services/S`; a short name, of `project` in a region not known)."""
    truncated = False
    if isinstance(entries, dict):
        truncated = bool(entries.get("truncated"))
        entries = entries.get("entries")
    if not isinstance(entries, list):
        raise InputError("not a list of log entries", file=origin, where=f"{SNAPSHOT_KEY}.{key}")
    named_project, region, service = parse_key(key)
    logs = ServiceLogs(service, origin, named_project or project, region, truncated=truncated)
    for index, entry in enumerate(entries):
        label = f"{origin}#{SNAPSHOT_KEY}:{key}[{index}]"
        if not matches(entry):
            raise InputError("not a Cloud Run log entry", file=origin, where=f"{SNAPSHOT_KEY}.{key}[{index}]")
        logs.add(entry, label)
    return logs


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> ServiceLogs | None:
    """None for a stored error: the registry reads the error, and the service's logs stay unknown."""
    if isinstance(stored, dict) and "error" in stored:
        return None
    return from_entries(key, stored, f"{origin}#{SNAPSHOT_KEY}:{key}", project if isinstance(project, str) else None)


def upgraded(stored: dict[str, Any], services: list[str], project: str | None, regions: list[str]) -> dict[str, Any]:
    """The samples of a snapshot by the full names of their services. A snapshot of an earlier driftcheck keyed a
    sample by the service's short name: it is the sample of the snapshot's one service of that name (`services`,
    their full names), or, with no such service, of that name in the snapshot's one region (`project`, `regions`:
    its scope). Of a name with a service in several regions one sample was kept, written over the others: it is
    that of the region its entries name, and the others' logs are unknown; when its entries name no region (none
    matched), every one of them is unknown: quiet in one region is not quiet in the other."""
    if all("/" in key for key in stored):  # the current shape: nothing to do
        return stored
    by_name: dict[str, list[str]] = {}
    for name in services:
        by_name.setdefault(parse_key(name)[2], []).append(name)
    result: dict[str, Any] = {}
    for key, sample in stored.items():
        owners = [key] if "/" in key else by_name.get(key, [])
        if not owners and project and len(regions) == 1:
            owners = [service_key(project, regions[0], key)]
        if len(owners) <= 1:
            result[owners[0] if owners else key] = sample
            continue
        named = _regions_named(sample)
        kept = [owner for owner in owners if len(named) == 1 and parse_key(owner)[1] in named]
        where = ", ".join(sorted(str(parse_key(owner)[1]) for owner in owners))
        lost = {
            "error": f"a snapshot of an earlier driftcheck kept one log sample of the services named {key} "
            f"({where}), not whose: those of this one are not known"
        }
        result.update({owner: sample if owner in kept else lost for owner in owners})
    return result


def _regions_named(sample: Any) -> set[str]:
    entries = sample.get("entries") if isinstance(sample, dict) else sample
    if not isinstance(entries, list) or (isinstance(sample, dict) and "error" in sample):
        return set()
    return {
        location
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(location := _label((entry.get("resource") or {}).get("labels"), "location"), str)
    }


def logs_of(service: Service, inventory: Inventory) -> ServiceLogs | Unknown:
    """The service's logs in the evidence; unknown (with why, and what to export) when there are none. Logs are
    keyed by the service's own name, region and project: entries of the same service name in another region (or
    project) are not its own, and when the evidence does not say which of several are (its region unknown, or
    entries that name none) they are unknown. A revision of a revision compare (`api@latest (api-00042-fix)`)
    reads its service's, those of its revision when the entries say which revision logged them."""
    name = own_name(service)
    found = _own_logs(service, name, inventory)
    if isinstance(found, ServiceLogs):
        revision = service.metadata.revision if service.metadata.revision_of else None
        own = found.of_revision(revision) if revision else None
        return found if own is None else own
    if found is not None:
        return found
    read = (inventory.errors.get(f"{SNAPSHOT_KEY}:{key}") for key in _keys_of(service, name, inventory))
    error = next((reason for reason in read if reason), None)
    if error:
        return Unknown(f"the logs of {name} could not be read ({error})")
    return Unknown(f"no logs of {name} in the evidence (export: {EXPORT_HINT.format(service=name)})")


def _own_logs(service: Service, name: str, inventory: Inventory) -> ServiceLogs | Unknown | None:
    """Those of the service's own name, region and project; unknown when several groups may be; None: none."""
    stored: dict[str, ServiceLogs] = inventory.of(NAME)
    project, region = _known(service.project), _known(service.region)
    if project and region and (exact := stored.get(service_key(project, region, name))) is not None:
        return exact
    aliases = inventory.project_aliases
    candidates = [logs for logs in stored.values() if logs.service == name and _belongs(logs, project, region, aliases)]
    if len(candidates) > 1:
        whose = ", ".join(sorted(f"{logs.project or '?'}/{logs.region or '?'}" for logs in candidates))
        which = f"and not which are those of {subject_of(service)}"
        return Unknown(f"the evidence holds the logs of several services named {name} ({whose}), {which}")
    return candidates[0] if candidates else None


def _belongs(logs: ServiceLogs, project: str | None, region: str | None, aliases: dict[str, str]) -> bool:
    """Whether the logs may be those of a service of their name in that project and region (None: not known)."""
    if region is not None:
        if logs.region is not None and logs.region != region:
            return False
        if logs.region is None and logs.locations and region not in logs.locations:
            return False
    if project is not None and logs.project is not None:
        mine, theirs = aliases.get(project, project), aliases.get(logs.project, logs.project)
        # a project number and an id the evidence does not relate: not known to differ
        return mine == theirs or mine.isdigit() != theirs.isdigit()
    return True


def _keys_of(service: Service, name: str, inventory: Inventory) -> list[str]:
    """The keys the service's logs (or the error of their read) may be stored under: its full name, with its project
    as the evidence names it or by id, and the short name of a snapshot of an earlier driftcheck."""
    project, region = _known(service.project), _known(service.region)
    projects = [project, inventory.project_aliases.get(project or "")] if project else []
    numbers = [number for number, id_ in inventory.project_aliases.items() if project and id_ == project]
    full = [service_key(p, region, name) for p in dict.fromkeys([*projects, *numbers]) if p] if region else []
    return [*full, name]


def _known(value: str | Unknown) -> str | None:
    return value if isinstance(value, str) and value else None


def _own_key(service: Service) -> tuple[str, ...]:
    """The key of the service's own logs: its full name, as the snapshot and the exports' labels name it."""
    return (service_key(_known(service.project), _known(service.region), own_name(service)),)


LOGS = register(
    Kind(
        name=NAME,
        title="Cloud Run log entries",
        model=ServiceLogs,
        readers=(sys.modules[__name__],),
        key=lambda logs: str(logs.key),
        snapshot_key=SNAPSHOT_KEY,
        from_snapshot=_from_snapshot,
        # A service's logs are keyed by its full name. The live read (sources/live/logs.py) is declared here as
        # LiveRead("entries", "logging.logEntries.list", "roles/logging.viewer") once the fetcher makes it.
        references=_own_key,
    )
)


def signature_counts(logs: ServiceLogs) -> Counter[str]:
    """Each signature's count, keyed by log and normalised text: what two services' logs are compared on."""
    return Counter({key: s.count for key, s in logs.signatures.items()})
