"""The recent log entries of the compared services, read live: one bounded Cloud Logging query per service.

Each service gets one `ListLogEntries` call (google.cloud.logging_v2, over gRPC) on its project, newest first:

    resource.type="cloud_run_revision" AND resource.labels.service_name="api"
    AND resource.labels.location="us-central1" AND timestamp>="2024-05-01T11:00:00Z"
    AND (severity>=WARNING OR (logName="projects/P/logs/run.googleapis.com%2Frequests" AND httpRequest.status>=500))

That is every entry at WARNING or above (the container's own, and Cloud Run's platform entries in
`run.googleapis.com%2Fvarlog%2Fsystem`: "Memory limit of 512 MiB exceeded with 540 MiB used", a failed start
probe, a crash), and every request log entry answered 5xx whatever its severity, over `--since` (default 1 hour).
At most `MAX_ENTRIES` (500) entries are kept per service, read in pages of at most 500 and at most `MAX_PAGES`
(2) pages (the API may answer a short page before the end); a read cut short says so (`truncated`). The sample
is stored in the LogEntry JSON shape `gcloud logging read --format=json` writes (camelCase: logName, resource,
timestamp, severity, textPayload or jsonPayload, httpRequest...), the entries of the service's latest created
revision (its status says which: the failing one of a failed deploy) first, each group newest first; every
string redacted (driftcheck/redact.py) and cut to `MAX_TEXT` characters before it is stored or shown. Each sample
is stored under the service's full name (`projects/P/locations/R/services/api`), never its short name: a snapshot
of two regions holds the `api` of each, and each service reads its own back (kinds/logs/).

A denied read is unknown, never "no logs": it is stored as {"error": "PERMISSION_DENIED: ...; needs
logging.logEntries.list (roles/logging.viewer)"}.

Nothing here imports google at module level: the CLI parses `--since` with it on an offline path too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.logs import LOGS, parse_key
from driftcheck.kinds.registry import LiveRead
from driftcheck.redact import redact_tree

# The read of one service's entries. Kept here rather than in the log kind's `live_reads`, as TROUBLESHOOT is: it is
# made in a round of its own (LiveFetcher.log_entries, asked for by --since / --no-logs), not per reference.
LOG_ENTRIES = LiveRead("entries", "logging.logEntries.list", "roles/logging.viewer")
DEFAULT_SINCE = timedelta(hours=1)
MAX_ENTRIES = 500  # per service
MAX_PAGES = 2  # per service: the API may end a page early, with a token for more
MAX_TEXT = 4096  # characters of one string of an entry (a stack trace): the start says what failed
REQUESTS_LOG = "run.googleapis.com%2Frequests"  # Cloud Run's request log (its system log: ...%2Fvarlog%2Fsystem)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class LogQuery:
    """What to read of each compared service's logs: over the last `since`, at most `limit` entries."""

    since: timedelta = DEFAULT_SINCE
    limit: int = MAX_ENTRIES


def parse_since(text: str) -> timedelta:
    """`30m`, `2h`, `1d` (also `90s`, `1w`): a positive duration; anything else is an input error."""
    match = _DURATION.match(text)
    if not match or int(match[1]) <= 0:
        raise InputError(f"--since {text!r}: give a duration such as 30m, 2h or 1d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def log_query(since: str | None, no_logs: bool) -> LogQuery | None:
    """What `--since` and `--no-logs` ask for: None reads no log entry."""
    if no_logs and since:
        raise InputError("--since and --no-logs: give one or the other")
    if no_logs:
        return None
    return LogQuery(parse_since(since)) if since else LogQuery()


def start_of(query: LogQuery, now: datetime | None = None) -> str:
    """The window's start, as the filter and the API spell a timestamp (RFC 3339, UTC, whole seconds)."""
    start = (now or datetime.now(UTC)) - query.since
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_filter(project: str, region: str, service: str, start: str) -> str:
    """The one query of a service's recent warnings, errors and failed requests (see the module docstring)."""
    requests = f'logName="projects/{project}/logs/{REQUESTS_LOG}"'
    return " AND ".join(
        (
            'resource.type="cloud_run_revision"',
            f'resource.labels.service_name="{_quoted(service)}"',
            f'resource.labels.location="{_quoted(region)}"',
            f'timestamp>="{start}"',
            f"(severity>=WARNING OR ({requests} AND httpRequest.status>=500))",
        )
    )


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class Sample:
    """One service's entries as stored, and whether more matched than were read."""

    entries: list[dict[str, Any]]
    truncated: bool

    def stored(self) -> list[dict[str, Any]] | dict[str, Any]:
        """As the log kind reads it back (kinds/logs/): the list, or, when cut at the limit, {entries, truncated}."""
        return {"entries": self.entries, "truncated": True} if self.truncated else self.entries


def sample(pager: Any, latest_revision: str | None, limit: int) -> Sample:
    """At most `limit` entries from at most MAX_PAGES pages of a ListLogEntries pager (its pages are fetched as
    they are read: no page past the limit is asked for), the latest revision's first."""
    entries: list[dict[str, Any]] = []
    truncated = False
    for number, page in enumerate(pager.pages, start=1):
        room = limit - len(entries)
        entries += [stored_entry(entry) for entry in list(page.entries)[:room]]
        more = bool(page.next_page_token) or len(page.entries) > room
        if more and (len(entries) >= limit or number >= MAX_PAGES):
            truncated = True
            break
    latest = (latest_revision or "").rsplit("/", 1)[-1]
    entries.sort(key=lambda entry: _revision(entry) != latest)  # stable: newest first within each group
    return Sample(entries, truncated)


@dataclass(frozen=True)
class LogRead:
    """What one round of log queries read: by the service's full name (`projects/P/locations/R/services/S`: a name
    is unique only within one region), its sample or {"error": reason}."""

    stored: dict[str, Any]
    truncated: tuple[str, ...]  # the services (full names) of which more entries matched than `limit`
    since: str  # the window's start
    limit: int

    def snapshot(self) -> dict[str, Any]:
        """In snapshot shape: under the log kind's key."""
        return {snapshot_key(): self.stored}

    def errors(self) -> dict[str, str]:
        """Each service whose logs could not be read, as a snapshot's `errors` name it: "KEY:FULL NAME" -> reason."""
        key = snapshot_key()
        return {
            f"{key}:{name}": str(value["error"])
            for name, value in sorted(self.stored.items())
            if isinstance(value, dict) and "error" in value
        }

    def notes(self) -> list[str]:
        """What a report says of the read: each sample cut at the limit (what it holds is the newest)."""
        return [
            f"kept the newest {self.limit} log entries of {_shown(name)} since {self.since} (more matched)"
            for name in self.truncated
        ]


def _shown(name: str) -> str:
    """A service as reports name one of a run that may span regions: project/region/service."""
    project, region, service = parse_key(name)
    return "/".join(part for part in (project, region, service) if part)


def _revision(entry: dict[str, Any]) -> str:
    return str(((entry.get("resource") or {}).get("labels") or {}).get("revision_name", ""))


def stored_entry(entry: Any) -> dict[str, Any]:
    """A proto-plus LogEntry as `gcloud logging read --format=json` writes it, redacted and bounded."""
    stored: dict[str, Any] = _bounded(redact_tree(entry_json(entry)))
    return stored


def entry_json(entry: Any) -> dict[str, Any]:
    """The LogEntry's JSON (camelCase, enum names, RFC 3339 timestamps). A protoPayload of a type this process
    cannot decode (an audit log's) keeps only its @type."""
    from google.protobuf import json_format

    message = type(entry).pb(entry)
    try:
        data: dict[str, Any] = json_format.MessageToDict(message)
    except (TypeError, KeyError):
        copy = type(message)()
        copy.CopyFrom(message)
        type_url = copy.proto_payload.type_url
        copy.ClearField("proto_payload")
        data = json_format.MessageToDict(copy)
        data["protoPayload"] = {"@type": type_url}
    return data


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…[truncated]"
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bounded(item) for item in value]
    return value


def snapshot_key() -> str:
    """Where a snapshot stores the samples: the log kind's key (kinds/logs/)."""
    return str(LOGS.snapshot_key)
