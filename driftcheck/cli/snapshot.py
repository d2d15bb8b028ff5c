"""`driftcheck snapshot` (everything in scope into one file or a history store) and `driftcheck history`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from driftcheck.cli.app import (
    Command,
    ConcurrencyOption,
    EndpointOption,
    HistoryOption,
    NoLogsOption,
    ProjectOption,
    RegionOption,
    SinceOption,
    TroubleshootIamOption,
    app,
    help_text,
)
from driftcheck.cli.output import progress
from driftcheck.errors import DriftcheckError
from driftcheck.escape import printable

SNAPSHOT_HELP = """Fetch every service of the region(s) and what they reference into one snapshot file.

`--from FILE` then accepts the snapshot wherever it accepts an evidence folder. The write is atomic. With
--history the snapshot is also stored in a history store (then -o is optional); `driftcheck history` reads it.
With --troubleshoot-iam it also holds Policy Troubleshooter's answer to each access check of its services, which
a compare of it then weighs as a live compare with the flag does. Unless --no-logs, it holds each service's recent
log entries too (WARNING and above, requests answered 5xx; --since, default 1h; at most 500 a service, redacted).

[bold]Examples[/bold]

  driftcheck snapshot --project netra-staging --region us-central1 \\
      -o staging.json

  driftcheck compare api auth --from staging.json

  driftcheck snapshot --project netra-staging --region us-central1 \\
      --since 30m -o staging.json

  driftcheck snapshot --project netra-staging --region us-central1 \\
      --history gs://acme-audit/history --keep 90
"""


@app.command(cls=Command, help=help_text(SNAPSHOT_HELP))
def snapshot(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Where to write the snapshot.")
    ] = None,
    project: ProjectOption = None,
    region: RegionOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
    troubleshoot_iam: TroubleshootIamOption = False,
    history_location: HistoryOption = None,
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, metavar="N", help="With --history: keep only the newest N.")
    ] = None,
    keep_days: Annotated[
        float | None,
        typer.Option("--keep-days", min=0, metavar="D", help="With --history: drop those older than D days."),
    ] = None,
    since: SinceOption = None,
    no_logs: NoLogsOption = False,
) -> None:
    import json

    from driftcheck.fileio import write_atomic
    from driftcheck.jobs.compare_live import LiveOptions, scrubbed_snapshot, take_snapshot
    from driftcheck.sources.live.logs import log_query
    from driftcheck.sources.live.scope import resolve_scope

    if output is None and history_location is None:
        raise DriftcheckError("give -o FILE, --history DIR|gs://BUCKET/PREFIX, or both")
    if history_location is None and (keep is not None or keep_days is not None):
        raise DriftcheckError("--keep and --keep-days apply to a history store: add --history DIR|gs://BUCKET/PREFIX")
    logs = log_query(since, no_logs)
    with progress("fetching") as on_progress:
        scope = resolve_scope(project, region)
        options = LiveOptions(scope, endpoint, concurrency, on_progress, troubleshoot_iam, logs)
        data = take_snapshot(options)
    scrubbed = scrubbed_snapshot(data)
    errors = len(data["errors"])
    summary = f"{len(data['services'])} services" + (f", {errors} fetch errors" if errors else "")
    if output is not None:
        write_atomic(output, json.dumps(scrubbed, indent=1, sort_keys=True) + "\n")
        typer.echo(printable(f"wrote {output}: {summary}"), err=True)
    if history_location is not None:
        _store_history(history_location, scrubbed, keep, keep_days, summary)


def _store_history(location: str, data: dict[str, Any], keep: int | None, days: float | None, summary: str) -> None:
    from driftcheck.jobs.history.store import open_store

    store = open_store(location)
    entry = store.save(data)
    pruned = store.prune(keep=keep, days=days)
    typer.echo(
        printable(f"stored {store.location}/{entry.name}: {summary}")
        + (f"; removed {len(pruned)} older" if pruned else ""),
        err=True,
    )


HISTORY_HELP = """When did a setting of SERVICE change, and from what to what: the timeline across stored snapshots.

Consecutive snapshots of the history store (`driftcheck snapshot --history`) are compared field by field in the
canonical model; metadata and status bookkeeping are left out. A value a snapshot could not read is never a change.
--path narrows to a canonical path or glob (vpc.connector, vpc.*, containers.*.env.*). When the store holds
several projects (an audit's), the one whose snapshots have SERVICE is used; --project chooses.

[bold]Examples[/bold]

  driftcheck history api --path vpc.connector

  driftcheck history auth --path 'vpc.*' --format json \\
      --history gs://acme-audit/history

  driftcheck history api --project netra-prod --path 'containers.*.env.*'
"""


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("history", cls=Command, help=help_text(HISTORY_HELP))
def history_command(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help="A Cloud Run service name.")],
    path: Annotated[
        str | None, typer.Option("--path", metavar="FIELD", help="A canonical path or glob, e.g. vpc.connector.")
    ] = None,
    history_location: HistoryOption = None,
    output_format: Annotated[
        HistoryFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")
    ] = HistoryFormat.table,
    project: Annotated[
        str | None,
        typer.Option("--project", metavar="PROJECT", help="When the store holds several projects' snapshots."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", metavar="REGION", help="When SERVICE runs in several regions.")
    ] = None,
) -> None:
    from driftcheck.jobs.history.store import open_store
    from driftcheck.jobs.history.timeline import project_entries, timeline

    store = open_store(history_location)
    entries = project_entries(store.entries(), service, project, region)
    if not entries:
        raise DriftcheckError(
            f"no snapshot history{f' of {project}' if project else ''} in {store.location}; store one with "
            "`driftcheck snapshot --history` or `driftcheck audit`"
        )
    changes = [change.as_dict() for change in timeline(entries, service, path, region)]
    if output_format is HistoryFormat.json:
        import json

        sys.stdout.write(json.dumps(changes, indent=2) + "\n")
        return
    sys.stdout.write(_history_table(service, changes, len(entries)))


def _history_table(service: str, changes: list[dict[str, Any]], snapshots: int) -> str:
    import json

    def shown(value: Any) -> str:
        if value is None:  # added or removed: the side that did not have it
            return "(none)"
        return value if isinstance(value, str) else json.dumps(value)

    lines = [f"{service}: {len(changes)} changes across {snapshots} snapshots"]
    lines += [f"{c['before']} → {c['after']}  {c['path']}: {shown(c['from'])} → {shown(c['to'])}" for c in changes]
    return "".join(f"{printable(line)}\n" for line in lines)  # a snapshot's value cannot drive the terminal
