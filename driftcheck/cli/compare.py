"""`driftcheck compare`: a failing service against healthy peers, from evidence files or the live project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from driftcheck.cli.app import (
    BaselineArgument,
    BaselineFileOption,
    Command,
    ConcurrencyOption,
    ConnectivityTestOption,
    EndpointOption,
    EvidenceOption,
    FailOnOption,
    FormatOption,
    NoLogsOption,
    OutputOption,
    ProjectOption,
    RegionOption,
    RulesOption,
    SinceOption,
    TargetArgument,
    TroubleshootIamOption,
    UpdateBaselineOption,
    app,
    help_text,
)
from driftcheck.cli.output import UPDATED, Verdict, emit, exit_code, progress, update_baseline, with_baseline
from driftcheck.errors import InputError

COMPARE_HELP = """Compare a failing TARGET service with healthy BASELINE peers and rank likely root causes.

TARGET and BASELINE are service names found under --from, or paths to single-service files.
Without --from, driftcheck reads the live project (read-only) and SERVICE@latest, SERVICE@last-ready or
SERVICE@REVISION name revisions; a file TARGET or BASELINE (`plan.json#ADDRESS`) is read from the file and
compared with the live services (files only are compared offline, unless --project names a project for a lone
file TARGET). With no BASELINE, every other service is a peer (live: a failed deploy is compared with its last
ready revision); with no other service, the target is judged on its own, as `driftcheck check` does.

[bold]Examples[/bold]

  driftcheck compare api auth --from incident-evidence/

  driftcheck compare api --from incident-evidence/ -f markdown -o report.md

  driftcheck compare api.yaml auth.json --fail-on critical

  driftcheck compare api auth --project netra-staging --region us-central1

  driftcheck compare api@latest api@last-ready \\
      --project netra-staging --region us-central1

  driftcheck compare 'plan.json#google_cloud_run_v2_service.api' auth \\
      --project netra-staging --region us-central1      # a plan, a live peer

  driftcheck compare 'plan.json#google_cloud_run_v2_service.api' \\
      --project netra-staging --region us-central1      # every live peer

  driftcheck compare api auth --project netra-staging \\
      --region us-central1 --since 2h      # logs of the last 2 hours

  driftcheck compare api auth --from evidence/ \\
      --baseline-file .driftcheck-baseline.json
"""


@app.command(cls=Command, help=help_text(COMPARE_HELP))
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
    troubleshoot_iam: TroubleshootIamOption = False,
    connectivity_test: ConnectivityTestOption = False,
    baseline_file: BaselineFileOption = None,
    update: UpdateBaselineOption = False,
    since: SinceOption = None,
    no_logs: NoLogsOption = False,
) -> None:
    where = _Where(
        evidence or [], project, region, endpoint, concurrency, troubleshoot_iam, since, no_logs, connectivity_test
    )
    report = _Report(rules, output_format.value, output, fail_on.value, baseline_file, update)
    _run(target, baselines or [], where, report)


CHECK_HELP = """Judge one SERVICE on its own, with no peer: the rules that need none, and the platform's stated failure.

For a service with no healthy peer to compare with (the only service of a project, a first deploy), or to
see what is wrong with a service whatever its peers. `driftcheck compare SERVICE` does the same when the
evidence holds no other service. SERVICE is a name found under --from, a single-service file, or (without
--from) a service of the live project, read-only.

[bold]Examples[/bold]

  driftcheck check api --from incident-evidence/

  driftcheck check api.yaml -f json -o api-check.json

  driftcheck check api --project netra-staging --region us-central1

  driftcheck check api --project netra-staging --region us-central1 --no-logs

  driftcheck check --files service.yaml infra/run.tf     # pre-commit: each file's services
"""

ServicesArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="SERVICE", help="The service to judge: a name under --from, or a file; with --files, the files."
    ),
]
FilesOption = Annotated[
    bool,
    typer.Option(
        "--files",
        help="Each SERVICE is a file (Cloud Run YAML or JSON, a .tf file read with its folder): judge every Cloud "
        "Run service it declares, and skip a file that declares none (pre-commit passes every changed file).",
    ),
]


@app.command(cls=Command, help=help_text(CHECK_HELP))
def check(
    services: ServicesArgument,
    evidence: EvidenceOption = None,
    rules: RulesOption = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: FailOnOption = "high",  # type: ignore[assignment]
    project: ProjectOption = None,
    region: RegionOption = None,
    endpoint: EndpointOption = None,
    concurrency: ConcurrencyOption = 16,
    troubleshoot_iam: TroubleshootIamOption = False,
    connectivity_test: ConnectivityTestOption = False,
    baseline_file: BaselineFileOption = None,
    update: UpdateBaselineOption = False,
    files: FilesOption = False,
    since: SinceOption = None,
    no_logs: NoLogsOption = False,
) -> None:
    where = _Where(
        evidence or [], project, region, endpoint, concurrency, troubleshoot_iam, since, no_logs, connectivity_test
    )
    report = _Report(rules, output_format.value, output, fail_on.value, baseline_file, update)
    if files:
        _check_files([Path(s) for s in services], where, report)
    if len(services) != 1:
        raise InputError(f"check takes one SERVICE, not {len(services)} (with --files, any number of files)")
    _run(services[0], [], where, report, alone=True)


def _check_files(paths: list[Path], where: _Where, report: _Report) -> None:
    """Pre-commit: one report per service the files declare, each judged on its own; the worst exit code."""
    if report.output is not None or report.output_format not in ("table", "markdown"):
        raise InputError("--files prints one report per service: use --format table or markdown, without -o")
    if report.update_baseline or where.troubleshoot_iam or where.since or where.no_logs or where.connectivity_test:
        raise InputError(
            "--files judges files as they are: --update-baseline, --troubleshoot-iam, --since, --no-logs and "
            "--connectivity-test do not apply"
        )
    from driftcheck.jobs.compare import check_files
    from driftcheck.ruleset.load import load_ruleset

    results, skipped = check_files(paths, where.evidence, load_ruleset(report.rules))
    code = 0
    for result in results:
        result = with_baseline(result, report.baseline_file)
        emit(result, report.output_format, None, report.fail_on)
        code = max(code, exit_code(result, report.fail_on))
    read = len(paths) - len(skipped)
    checked = f"checked {len(results)} service{'s' * (len(results) != 1)} in {read} file{'s' * (read != 1)}"
    typer.echo(f"driftcheck: {checked}; skipped {len(skipped)} that declare no Cloud Run service", err=True)
    raise typer.Exit(code)


@dataclass(frozen=True)
class _Where:
    """Where the services are read: evidence files, else the live project."""

    evidence: list[Path]
    project: str | None
    region: list[str] | None
    endpoint: str | None
    concurrency: int
    troubleshoot_iam: bool = False  # live only: Policy Troubleshooter answers each access check
    since: str | None = None  # live only: the log entries of the last DURATION (default 1h)
    no_logs: bool = False  # live only: no log entries read
    connectivity_test: bool = False  # live only: Connectivity Tests settle the unsettled paths (writes)


@dataclass(frozen=True)
class _Report:
    rules: list[Path] | None
    output_format: str
    output: Path | None
    fail_on: str
    baseline_file: Path | None = None  # --baseline-file: only a finding not in it fails the run
    update_baseline: bool = False  # --update-baseline: write it from the findings instead, exit 0


def _run(target: str, baselines: list[str], where: _Where, report: _Report, alone: bool = False) -> None:
    if report.update_baseline and report.baseline_file is None:  # before any fetch
        raise InputError("--update-baseline needs --baseline-file FILE (the file to write)")
    from driftcheck.ruleset.load import load_ruleset

    ruleset = load_ruleset(report.rules)
    from driftcheck.jobs.compare import is_local

    # Files only are read offline; but a lone file TARGET with --project is compared with the project's services
    # (offline it would have no peer, and be judged on its own whatever --project said).
    with_region = where.project is not None and not baselines and not alone
    if where.evidence or (all(map(is_local, [target, *baselines])) and not with_region):
        from driftcheck.jobs.compare import compare as compare_offline

        if where.troubleshoot_iam:
            raise InputError("--troubleshoot-iam asks the live API: use it without --from and local files")
        if where.connectivity_test:
            raise InputError("--connectivity-test asks the live API: use it without --from and local files")
        if where.since or where.no_logs:
            raise InputError("--since and --no-logs apply to the live logs: use them without --from and local files")

        result = compare_offline(target, baselines, where.evidence, ruleset, alone=alone)
    else:  # live: imported only here, so an offline run never loads the Google clients
        from driftcheck.jobs.compare_live import LiveOptions, compare_live
        from driftcheck.sources.live.logs import log_query
        from driftcheck.sources.live.scope import resolve_scope

        logs = log_query(where.since, where.no_logs)  # before any fetch: a bad --since is an input error
        with progress("fetching") as on_progress:
            scope = resolve_scope(where.project, where.region)
            options = LiveOptions(
                scope,
                where.endpoint,
                where.concurrency,
                on_progress,
                where.troubleshoot_iam,
                logs,
                connectivity_test=where.connectivity_test,
            )
            result = compare_live(target, baselines, options, ruleset, alone=alone)
    result = with_baseline(result, report.baseline_file, report.update_baseline)
    if report.update_baseline and report.baseline_file is not None:
        emit(result, report.output_format, report.output, report.fail_on, Verdict(0, UPDATED))
        update_baseline(result, report.baseline_file)
        raise typer.Exit(0)
    emit(result, report.output_format, report.output, report.fail_on)
    raise typer.Exit(exit_code(result, report.fail_on))
