"""The command line: parse, build from the registries, call one core function, render, exit.

Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 usage or input error.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from driftcheck import __version__
from driftcheck.errors import DriftcheckError
from driftcheck.report import FORMATS, reporter
from driftcheck.ruleset.findings import SEVERITIES, Result
from driftcheck.ruleset.load import load_ruleset

app = typer.Typer(
    help="Why does one Cloud Run service fail while its peer works? driftcheck compares them and ranks root causes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
rules_app = typer.Typer(help="List and explain the rules driftcheck applies.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

Format = Enum("Format", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]
Severity = Enum("Severity", {name: name for name in (*SEVERITIES, "none")}, type=str)  # type: ignore[misc]

COMPARE_HELP = """Compare a failing TARGET service with healthy BASELINE peers and rank likely root causes.

TARGET and BASELINE are service names found under --from, or paths to single-service files.
Without --from, driftcheck reads the live project (read-only) and SERVICE@latest, SERVICE@last-ready or
SERVICE@REVISION name revisions. With no BASELINE, every other service is a peer (live: a failed deploy is
compared with its last ready revision).

[bold]Examples[/bold]

  driftcheck compare api auth --from incident-evidence/

  driftcheck compare api --from incident-evidence/ --format markdown -o report.md

  driftcheck compare api.yaml auth.json --fail-on critical

  driftcheck compare api auth --project netra-staging --region us-central1

  driftcheck compare api@latest api@last-ready --project netra-staging --region us-central1
"""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"driftcheck {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """driftcheck: side-by-side root-cause analysis for Cloud Run services."""


TargetArgument = Annotated[
    str, typer.Argument(metavar="TARGET", help="The failing service: a name under --from, or a file.")
]
BaselineArgument = Annotated[
    list[str] | None, typer.Argument(metavar="[BASELINE]...", help="Healthy peers: names under --from, or files.")
]
EvidenceOption = Annotated[
    list[Path] | None, typer.Option("--from", metavar="PATH", help="Evidence folder or file (repeatable).")
]
RulesOption = Annotated[
    list[Path] | None, typer.Option("--rules", metavar="DIR", help="Extra rules folder (repeatable).")
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", metavar="FORMAT", help=f"Report format: {', '.join(FORMATS)}.")
]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE.")]
FailOnOption = Annotated[
    Severity,
    typer.Option(
        "--fail-on", metavar="SEVERITY", help=f"Exit 1 on a finding at or above: {', '.join(SEVERITIES)}, none."
    ),
]
ProjectOption = Annotated[str | None, typer.Option("--project", metavar="PROJECT", help="Live run: the project.")]
RegionOption = Annotated[
    list[str] | None, typer.Option("--region", metavar="REGION", help="Live run: the Cloud Run region.")
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        metavar="HOST:PORT",
        envvar="DRIFTCHECK_ENDPOINT",
        help="Send every Google API call to HOST:PORT over plaintext gRPC, anonymously (emulators, proxies, tests).",
    ),
]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Live run: parallel API calls.")]


@app.command(help=COMPARE_HELP)
def compare(
    target: TargetArgument,
    baselines: BaselineArgument = None,
    evidence: EvidenceOption = None,
    rules: RulesOption = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: FailOnOption = "high",  # type: ignore[assignment]
    project: ProjectOption = None,
    region: RegionOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
) -> None:
    ruleset = load_ruleset(rules)
    from driftcheck.pipeline import is_local

    if evidence or (baselines and all(map(is_local, [target, *baselines]))):
        from driftcheck.pipeline import compare as compare_offline

        result = compare_offline(target, baselines or [], evidence or [], ruleset)
    else:  # live: imported only here, so an offline run never loads the Google clients
        from driftcheck.live import LiveOptions, compare_live
        from driftcheck.sources.live.scope import resolve_scope

        with _progress("fetching") as progress:
            options = LiveOptions(resolve_scope(project, region), endpoint, concurrency, progress)
            result = compare_live(target, baselines or [], options, ruleset)
    _emit(result, output_format.value, output, fail_on.value)
    raise typer.Exit(exit_code(result, fail_on.value))


SNAPSHOT_HELP = """Fetch every service of the region(s) and what they reference into one snapshot file.

`--from FILE` then accepts the snapshot wherever it accepts an evidence folder. The write is atomic. With
--history the snapshot is also stored in a history store (then -o is optional); `driftcheck history` reads it.

[bold]Examples[/bold]

  driftcheck snapshot --project netra-staging --region us-central1 -o staging.json

  driftcheck compare api auth --from staging.json

  driftcheck snapshot --project netra-staging --region us-central1 --history gs://acme-audit/history --keep 90
"""
HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history",
        metavar="DIR|gs://BUCKET/PREFIX",
        help="Snapshot history store (default for `history`: the user data folder, ~/.local/share/driftcheck/history).",
    ),
]


@app.command(help=SNAPSHOT_HELP)
def snapshot(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Where to write the snapshot.")
    ] = None,
    project: ProjectOption = None,
    region: RegionOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
    history_location: HistoryOption = None,
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, metavar="N", help="With --history: keep only the newest N.")
    ] = None,
    keep_days: Annotated[
        float | None,
        typer.Option("--keep-days", min=0, metavar="D", help="With --history: drop those older than D days."),
    ] = None,
) -> None:
    import json

    from driftcheck.fileio import write_atomic
    from driftcheck.live import LiveOptions, scrubbed_snapshot, take_snapshot
    from driftcheck.sources.live.scope import resolve_scope

    if output is None and history_location is None:
        raise DriftcheckError("give -o FILE, --history DIR|gs://BUCKET/PREFIX, or both")
    if history_location is None and (keep is not None or keep_days is not None):
        raise DriftcheckError("--keep and --keep-days apply to a history store: add --history DIR|gs://BUCKET/PREFIX")
    with _progress("fetching") as progress:
        data = take_snapshot(LiveOptions(resolve_scope(project, region), endpoint, concurrency, progress))
    scrubbed = scrubbed_snapshot(data)
    errors = len(data["errors"])
    summary = f"{len(data['services'])} services" + (f", {errors} fetch errors" if errors else "")
    if output is not None:
        write_atomic(output, json.dumps(scrubbed, indent=1, sort_keys=True) + "\n")
        typer.echo(f"wrote {output}: {summary}", err=True)
    if history_location is not None:
        _store_history(history_location, scrubbed, keep, keep_days, summary)


def _store_history(location: str, data: dict[str, Any], keep: int | None, days: float | None, summary: str) -> None:
    from driftcheck.history import open_store

    store = open_store(location)
    entry = store.save(data)
    pruned = store.prune(keep=keep, days=days)
    typer.echo(
        f"stored {store.location}/{entry.name}: {summary}" + (f"; removed {len(pruned)} older" if pruned else ""),
        err=True,
    )


HISTORY_HELP = """When did a setting of SERVICE change, and from what to what: the timeline across stored snapshots.

Consecutive snapshots of the history store (`driftcheck snapshot --history`) are compared field by field in the
canonical model; metadata and status bookkeeping are left out. A value a snapshot could not read is never a change.
--path narrows to a canonical path or glob (vpc.connector, vpc.*, containers.*.env.*).

[bold]Examples[/bold]

  driftcheck history api --path vpc.connector

  driftcheck history auth --path 'vpc.*' --history gs://acme-audit/history --format json
"""


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("history", help=HISTORY_HELP)
def history_command(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help="A Cloud Run service name.")],
    path: Annotated[
        str | None, typer.Option("--path", metavar="FIELD", help="A canonical path or glob, e.g. vpc.connector.")
    ] = None,
    history_location: HistoryOption = None,
    output_format: Annotated[
        HistoryFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")
    ] = HistoryFormat.table,
) -> None:
    from driftcheck.history import open_store, timeline

    store = open_store(history_location)
    entries = store.entries()
    if not entries:
        raise DriftcheckError(
            f"no snapshot history in {store.location}; store one with `driftcheck snapshot --history`"
        )
    changes = [change.as_dict() for change in timeline(entries, service, path)]
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
    return "\n".join(lines) + "\n"


DRIFT_HELP = """Compare every service Terraform state manages with its live (or snapshot) counterpart.

Each drifted field is an `iac-drift` finding, as severe as the worst root cause it triggers; services in state but
not live are `iac-missing`, live services no state manages are `unmanaged`. LOCATION is a local
terraform.tfstate or gs://bucket/key (Application Default Credentials; STORAGE_EMULATOR_HOST is honoured).

[bold]Examples[/bold]

  driftcheck drift --state gs://acme-tfstate/staging/default.tfstate --project netra-staging --region us-central1

  driftcheck drift --state terraform.tfstate --from staging.json --format sarif -o drift.sarif
"""


@app.command(help=DRIFT_HELP)
def drift(
    state: Annotated[str, typer.Option("--state", metavar="LOCATION", help="Terraform state: a file or gs://.")],
    evidence: EvidenceOption = None,
    rules: RulesOption = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: FailOnOption = "high",  # type: ignore[assignment]
    project: ProjectOption = None,
    region: RegionOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
    config_dir: Annotated[
        Path | None,
        typer.Option("--config-dir", metavar="DIR", help="The .tf folder: its lifecycle.ignore_changes is honoured."),
    ] = None,
) -> None:
    from driftcheck.drift import drift as run_drift
    from driftcheck.drift import load_declared

    ruleset = load_ruleset(rules)
    declared = load_declared(state)
    config = None
    if config_dir is not None:
        from driftcheck.sources.terraform_hcl import load_tf_dir

        config = load_tf_dir(config_dir)
    if evidence:
        from driftcheck.sources.evidence import load_evidence

        live, live_label = load_evidence(evidence), ", ".join(map(str, evidence))
    else:
        live, live_label = _live_inventory(project, region, endpoint, concurrency)
    result = run_drift(declared, live, ruleset, state_label=state, live_label=live_label, config=config)
    _emit(result, output_format.value, output, fail_on.value)
    raise typer.Exit(exit_code(result, fail_on.value))


def _live_inventory(project: str | None, region: list[str] | None, endpoint: str | None, concurrency: int) -> Any:
    """Everything in scope, fetched as a snapshot is (the same two rounds), read back as an Inventory."""
    from driftcheck.live import LiveOptions, take_snapshot
    from driftcheck.model import Inventory
    from driftcheck.sources.live.scope import resolve_scope
    from driftcheck.sources.snapshot_file import load_snapshot

    scope = resolve_scope(project, region)
    with _progress("fetching") as progress:
        data = take_snapshot(LiveOptions(scope, endpoint, concurrency, progress))
    inventory = Inventory()
    load_snapshot(data, inventory, "live")
    return inventory, f"live {scope.project}/{','.join(scope.regions)}"


@rules_app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """List every rule: id, severity and title."""
    for rule in load_ruleset(rules).rules:
        typer.echo(f"{rule.id:32} {rule.severity:9} {rule.title}")


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id, as `rules list` prints it.")],
    rules: RulesOption = None,
) -> None:
    """Show one rule: what it checks, why it matters, how it is fixed."""
    ruleset = load_ruleset(rules)
    rule = ruleset.get(rule_id)
    if rule is None:
        raise DriftcheckError(f"no rule {rule_id!r}; `driftcheck rules list` shows them all")
    typer.echo(f"{rule.id} ({rule.severity})\n{rule.title}\n")
    if rule.description:
        typer.echo(f"{rule.description}\n")
    typer.echo(f"scope: {rule.scope} ({'target and each baseline' if rule.scope == 'pair' else 'the target alone'})")
    if rule.match:
        typer.echo(f"matches: {rule.match.path} ({', '.join(rule.match.kinds)})")
    for label, expression in (("for each", rule.for_each), ("keyed by", rule.item_key), ("when", rule.when)):
        if expression:
            typer.echo(f"{label}: {' '.join(expression.split())}")
    if rule.needs:
        typer.echo(f"needs (else 'could not verify'): {', '.join(rule.needs)}")
    for kind, template in rule.remediation.items():
        typer.echo(f"fix ({kind}): {' '.join(template.split())}")
    typer.echo(f"docs: {rule.docs}\nfile: {rule.origin}")


def exit_code(result: Result, fail_on: str) -> int:
    if fail_on == "none":
        return 0
    threshold = SEVERITIES.index(fail_on)
    return 1 if any(SEVERITIES.index(f.severity) <= threshold for f in result.findings) else 0


def _emit(result: Result, output_format: str, output: Path | None, fail_on: str = "high") -> None:
    if output_format == "table" and output is None:
        from driftcheck.report import table

        text = table.render(result, color=sys.stdout.isatty(), width=_width())
    else:
        text = reporter(output_format, fail_on)(result)  # junit marks as failures what fails the run
    if output is None:
        sys.stdout.write(text)
        return
    from driftcheck.fileio import write_atomic

    write_atomic(output, text)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on stderr when stderr is a terminal; nothing otherwise, and never anything on stdout."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} calls"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done: bar.update(task, advance=1, description=f"{label} {done}")


def _width() -> int:
    import shutil

    return max(80, min(shutil.get_terminal_size((120, 24)).columns, 160))


def main() -> None:
    """Console entry point: the one place errors become a single line and exit code 2."""
    try:
        code = app(standalone_mode=False)  # without standalone mode, click returns the exit code
    except DriftcheckError as exc:
        typer.echo(f"driftcheck: error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("driftcheck: aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # usage errors (typer's vendored click) and anything unexpected: one line, no traceback
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = exc.format_message()
            if message:  # empty when no arguments were given and the help was printed instead
                typer.echo(f"driftcheck: error: {message} (see --help)", err=True)
            sys.exit(2)
        typer.echo(f"driftcheck: internal error: {type(exc).__name__}: {exc} (please report it)", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
