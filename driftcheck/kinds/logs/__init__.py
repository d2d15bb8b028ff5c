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

One job per module: `entries` reads one LogEntry (its message line, normalised text, addresses, status, latency),
`model` groups them into signatures (`ServiceLogs`), `keys` names whose they are (`service_key`, `upgraded`),
`reader` reads exports and snapshots, `lookup` finds a service's own (`logs_of`); this module registers the kind.
"""

from __future__ import annotations

from driftcheck.kinds.logs import reader
from driftcheck.kinds.logs.entries import normalise
from driftcheck.kinds.logs.keys import parse_key, service_key, upgraded
from driftcheck.kinds.logs.lookup import logs_of, own_key
from driftcheck.kinds.logs.model import MAX_REVISIONS, LogSignature, ServiceLogs
from driftcheck.kinds.logs.reader import NAME, SNAPSHOT_KEY, from_snapshot
from driftcheck.kinds.registry import Kind, register

LOGS = register(
    Kind(
        name=NAME,
        title="Cloud Run log entries",
        model=ServiceLogs,
        readers=(reader,),
        key=lambda logs: str(logs.key),
        snapshot_key=SNAPSHOT_KEY,
        from_snapshot=from_snapshot,
        # A service's logs are keyed by its full name. The live read (sources/live/logs.py) is declared here as
        # LiveRead("entries", "logging.logEntries.list", "roles/logging.viewer") once the fetcher makes it.
        references=own_key,
    )
)


__all__ = [
    "LOGS",
    "MAX_REVISIONS",
    "SNAPSHOT_KEY",
    "LogSignature",
    "ServiceLogs",
    "logs_of",
    "normalise",
    "parse_key",
    "service_key",
    "upgraded",
]
