"""`driftcheck audit` (nightly: snapshot, drift, parity, changes; sharded across a Cloud Run Job's tasks) and
`driftcheck merge` (the tasks' partials into one report)."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from driftcheck.cli.app import (
    BaselineFileOption,
    Command,
    ConcurrencyOption,
    EndpointOption,
    FormatOption,
    HistoryOption,
    OutputOption,
    RegionOption,
    RulesOption,
    Severity,
    UpdateBaselineOption,
    app,
    help_text,
)
from driftcheck.cli.output import UPDATED, Verdict, emit, progress, update_baseline, verdict, with_baseline, written
from driftcheck.errors import DriftcheckError
from driftcheck.escape import printable

INCOMPLETE_EXIT = 3
ONE_OFF = "command line"  # the source of a configuration made of --project and --region

AUDIT_HELP = """Audit every project in scope: one snapshot, then Terraform drift, peer-group and environment parity, and
what changed since the previous snapshot, in one ranked report.

Scope, peer groups, environment pairs, Terraform states, ignores and outputs come from --config (driftcheck.toml,
or pyproject.toml's \\[tool.driftcheck]; see docs/audit-config.md); for a one-off, --project and --region instead.
Each project's snapshot is stored in the history store (`driftcheck history` reads it).

Exit codes: 0 no finding at or above fail_on; 1 at least one; 2 configuration or input error; 3 with --strict, the
audit is incomplete because something could not be read.

With --shard I/N (I from 0; defaults from CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT) the task audits every N-th
project and writes a partial to --partial instead of a report; `driftcheck merge` joins the partials.

[bold]Examples[/bold]

  driftcheck audit --config driftcheck.toml

  driftcheck audit --config driftcheck.toml --format html -o audit.html \\
      --webhook https://hooks.slack.com/services/...

  driftcheck audit --project netra-staging --region us-central1 \\
      --history ./history

  driftcheck audit --config driftcheck.toml --shard 0/3 \\
      --partial gs://acme-audit/partials/
"""

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", metavar="FILE", help="driftcheck.toml, or a pyproject.toml.")
]
OptionalFailOn = Annotated[
    Severity | None,
    typer.Option("--fail-on", metavar="SEVERITY", help="Exit 1 on a finding at or above (default: config, high)."),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit 3 when the audit is incomplete (a resource could not be read).")
]
WebhookOption = Annotated[
    str | None,
    typer.Option("--webhook", metavar="URL", help="POST a JSON summary (with a Slack `text`) after the report."),
]


class Source(StrEnum):
    """Where an audit reads: per-resource API calls, or Cloud Asset Inventory in bulk (the rest per resource)."""

    api = "api"
    asset_inventory = "asset-inventory"


@app.command(cls=Command, help=help_text(AUDIT_HELP))
def audit(
    config_path: ConfigOption = None,
    project: Annotated[
        list[str] | None, typer.Option("--project", metavar="PROJECT", help="One-off audit without a config.")
    ] = None,
    region: RegionOption = None,
    history_location: HistoryOption = None,
    no_history: Annotated[bool, typer.Option("--no-history", help="Store no snapshot and compare with none.")] = False,
    keep: Annotated[int | None, typer.Option("--keep", min=1, metavar="N", help="Keep the newest N snapshots.")] = None,
    keep_days: Annotated[
        float | None, typer.Option("--keep-days", min=0, metavar="D", help="Drop snapshots older than D days.")
    ] = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: OptionalFailOn = None,
    strict: StrictOption = False,
    shard_text: Annotated[
        str | None, typer.Option("--shard", metavar="I/N", help="Audit task I of N (I from 0).")
    ] = None,
    partial: Annotated[
        str | None,
        typer.Option(
            "--partial",
            metavar="LOCATION",
            help="Write a partial for `merge` (a file, or a folder or gs:// ending in /); without a shard, 0/1.",
        ),
    ] = None,
    webhook: WebhookOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
    rules: RulesOption = None,
    baseline_file: BaselineFileOption = None,
    update: UpdateBaselineOption = False,
    organization: Annotated[
        str | None, typer.Option("--organization", metavar="ORG_ID", help="Audit every project of an organization.")
    ] = None,
    folder: Annotated[
        list[str] | None, typer.Option("--folder", metavar="FOLDER_ID", help="Audit every project under a folder.")
    ] = None,
    source: Annotated[
        Source,
        typer.Option("--source", help="api: per-resource calls; asset-inventory: bulk reads of Cloud Asset Inventory."),
    ] = "api",  # type: ignore[assignment]
) -> None:
    from driftcheck.jobs.audit import CollectOptions, analyse, check_drift, collect
    from driftcheck.jobs.shards import AuditScope, Shard, write_partial
    from driftcheck.ruleset.load import load_ruleset

    _check_baseline_options(baseline_file, update)  # before any fetch
    parents = [*([f"organizations/{organization}"] if organization else []), *(f"folders/{f}" for f in folder or ())]
    listings: tuple[Any, ...] = ()
    if parents:
        config, listings = _scoped_config(parents, config_path, project, region, endpoint)
    else:
        config = _config(config_path, project, region)
    ruleset = load_ruleset(rules)  # before any fetch: a broken rule file should not cost a night's API calls
    shard = Shard.parse(shard_text) if shard_text else Shard.from_environment()
    if shard is None and partial is not None:  # a job scaled down to one task still writes what its merge reads
        shard = Shard(0, 1)
    if shard is None:  # before any fetch: a report that cannot be written would fail after the snapshots are stored
        _check_writable([*([output] if output else []), *(Path(extra.path) for extra in config.outputs)])
    projects = shard.projects(config.projects) if shard else config.projects
    options = CollectOptions(
        endpoint=endpoint,
        concurrency=concurrency,
        history=history_location or config.history,
        store=not no_history,
        keep=keep or config.keep,
        keep_days=keep_days,
        source=source.value,
        parents=tuple(parents),
        listings=listings if source.value == "asset-inventory" else (),
    )
    drift_checks: dict[str, Any] = {}

    def check_as_collected(item: Any) -> None:  # while the next projects are fetched: CPU under the network wait
        drift_checks[item.project] = check_drift(config, item, ruleset)

    with progress("auditing") as on_progress:
        options = dataclasses.replace(options, progress=on_progress)
        collected = collect(config, projects, options, None if shard else check_as_collected)
    if shard is not None:
        # without a configuration file, the partial says what was audited: the merge rebuilds the Config from it
        scope = AuditScope.of(config, parents, source.value) if config.source == ONE_OFF else None
        where = write_partial(partial or "./", shard, config.source, collected, scope)
        said = f"wrote {where}: shard {shard}, {len(collected)} projects; `driftcheck merge` joins it"
        typer.echo(printable(said), err=True)
        _store(collected, options)
        return
    result = with_baseline(analyse(config, collected, ruleset, _today(), drift_checks), baseline_file, update)
    reported = _report(result, config, output_format.value, output, fail_on, strict, update)
    if update and baseline_file is not None:
        update_baseline(result, baseline_file)
    _store(collected, options)  # after the report: a run that fails before it loses no change
    _finish(result, config, reported, strict, webhook)


def _store(collected: Any, options: Any) -> None:
    from driftcheck.jobs.audit import store_snapshots

    for where in store_snapshots(collected, options):
        typer.echo(printable(f"stored {where}"), err=True)


MERGE_HELP = """Join the partial reports of a sharded audit into the one report an unsharded audit gives.

PARTIAL is a part-I-of-N.json file, a folder holding them, or gs://bucket/prefix/. A missing shard makes the
report incomplete (exit 3 with --strict) and says which. --config defaults to the file the tasks ran with; an
audit without one (--organization, --folder, --project) needs none: its partials record what it audited.

[bold]Examples[/bold]

  driftcheck merge partials/ --config driftcheck.toml -f html -o audit.html

  driftcheck merge gs://acme-audit/partials/ --config driftcheck.toml \\
      --webhook https://hooks.slack.com/services/...

  driftcheck merge gs://acme-audit/partials/org/ --strict
"""


@app.command(cls=Command, help=help_text(MERGE_HELP))
def merge(
    partials: Annotated[list[str], typer.Argument(metavar="PARTIAL", help="Partial reports, folders or gs://.")],
    config_path: ConfigOption = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: OptionalFailOn = None,
    strict: StrictOption = False,
    webhook: WebhookOption = None,
    rules: RulesOption = None,
    baseline_file: BaselineFileOption = None,
    update: UpdateBaselineOption = False,
) -> None:
    from driftcheck.jobs.audit import analyse
    from driftcheck.jobs.config import load_config
    from driftcheck.jobs.shards import check_against, merged_scope, read_partials, stale_partials
    from driftcheck.ruleset.load import load_ruleset

    _check_baseline_options(baseline_file, update)
    found, missing = read_partials(partials)
    scope = merged_scope(found) if config_path is None else None
    if scope is not None:  # an audit without a configuration file: its Config, as the partials recorded it
        config = scope.config(ONE_OFF)
        check_against(found, config.projects, "the audit's scope")
    else:
        if config_path is None and found[0].config == ONE_OFF:  # a partial written before the scope was recorded
            raise DriftcheckError("the partials come from an audit without a configuration: pass --config FILE")
        config = load_config(config_path or found[0].config)
        check_against(found, config.projects, config.source)
    ruleset = load_ruleset(rules)
    collected = [c for p in found for c in p.collected]
    result = analyse(config, collected, ruleset, _today())
    result = dataclasses.replace(
        result,
        unread={**result.unread, **missing},
        notes=(*result.notes, *stale_partials(collected), *(f"{shard}: {why}" for shard, why in missing.items())),
    )
    result = with_baseline(result, baseline_file, update)
    reported = _report(result, config, output_format.value, output, fail_on, strict, update)
    if update and baseline_file is not None:
        update_baseline(result, baseline_file)
    _finish(result, config, reported, strict, webhook)


def _check_baseline_options(baseline_file: Path | None, update: bool) -> None:
    if update and baseline_file is None:
        raise DriftcheckError("--update-baseline needs --baseline-file FILE (the file to write)")


def _config(path: Path | None, projects: list[str] | None, regions: list[str] | None) -> Any:
    from driftcheck.jobs.config import Config, load_config

    if path is not None:
        if projects:
            raise DriftcheckError("give --config or --project, not both (the config lists the projects)")
        return load_config(path)
    from driftcheck.sources.live.scope import resolve_scope

    # without --project: the environment's or gcloud's project, as the other live commands do
    scope = resolve_scope(projects[0] if projects else None, regions)
    projects = list(dict.fromkeys(projects or [scope.project]))
    return Config(source=ONE_OFF, projects=tuple(projects), regions=scope.regions, region_peers=True)


def _scoped_config(
    parents: list[str], path: Path | None, projects: list[str] | None, regions: list[str] | None, endpoint: str | None
) -> tuple[Any, tuple[Any, ...]]:
    """--organization / --folder: the projects holding a Cloud Run service under them, from Cloud Asset Inventory
    (one ListAssets stream each), in the regions given or, without --region, every region they run in; and the
    listings read (a bulk read through the inventory reuses them)."""
    from driftcheck.jobs.config import Config
    from driftcheck.sources.live.assets import discover

    if path is not None or projects:
        raise DriftcheckError("give --organization or --folder, or --config or --project: not both")
    found, running_in, listings = discover(parents, endpoint)
    if not found:
        raise DriftcheckError(f"no Cloud Run service in {', '.join(parents)} (Cloud Asset Inventory)")
    config = Config(source=ONE_OFF, projects=tuple(found), regions=tuple(regions or running_in), region_peers=True)
    return config, tuple(listings)


def _check_writable(paths: list[Path]) -> None:
    for path in paths:
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise DriftcheckError(f"{path}: cannot write: no folder {folder}")


def _today() -> date:
    """Ignores expire by the UTC date, as a scheduler's clock runs: not by the machine's time zone."""
    from datetime import UTC, datetime

    return datetime.now(UTC).date()


def _report(
    result: Any,
    config: Any,
    output_format: str,
    output: Path | None,
    fail_on: Severity | None,
    strict: bool,
    update: bool = False,
) -> tuple[int, str, list[str]]:
    """The report (stdout or -o) and the config's outputs: the exit code the findings call for, the threshold
    that decided it, and where the report went."""
    from driftcheck.fileio import write_atomic
    from driftcheck.report import reporter

    threshold = fail_on.value if fail_on is not None else config.fail_on
    said = verdict(result, threshold, None if fail_on is not None else f"fail_on = {threshold} in the configuration")
    if update:  # writing the baseline file: the findings are accepted, not judged
        said = Verdict(0, UPDATED)
    if strict and result.unread:
        said = Verdict(INCOMPLETE_EXIT, f"--strict: {len(result.unread)} resources could not be read")
    emit(result, output_format, output, threshold, said)
    for extra in config.outputs:
        write_atomic(Path(extra.path), reporter(extra.format, threshold)(result))
        typer.echo(written(result, Path(extra.path), said), err=True)
    paths = [*([str(output)] if output else []), *(extra.path for extra in config.outputs)]
    return said.code, threshold, paths


def _finish(result: Any, config: Any, reported: tuple[int, str, list[str]], strict: bool, webhook: str | None) -> None:
    """The webhook, last (its failure is only a warning), then the exit code."""
    code, threshold, written = reported
    url = webhook or config.webhook
    if url:
        _notify(url, result, threshold, written)
    if strict and result.unread:
        typer.echo(f"driftcheck: incomplete: {len(result.unread)} resources could not be read (--strict)", err=True)
        raise typer.Exit(INCOMPLETE_EXIT)
    raise typer.Exit(code)


def _notify(url: str, result: Any, threshold: str, written: list[str]) -> None:
    from driftcheck.jobs.notify import post, summary

    if not url.startswith(("https://", "http://")):
        raise DriftcheckError(f"--webhook: {url!r} is not an http(s) URL")
    problem = post(url, summary(result, threshold, written))
    if problem:  # the report is written already: a chat outage must not fail the audit or lose it
        print(printable(f"driftcheck: warning: {problem}; the report is unaffected"), file=sys.stderr)
