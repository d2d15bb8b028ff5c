"""`driftcheck compare`: a failing service against healthy peers, from evidence files or the live project."""

from __future__ import annotations

import typer

from driftcheck.cli.app import (
    BaselineArgument,
    Command,
    ConcurrencyOption,
    EndpointOption,
    EvidenceOption,
    FailOnOption,
    FormatOption,
    OutputOption,
    ProjectOption,
    RegionOption,
    RulesOption,
    TargetArgument,
    app,
    help_text,
)
from driftcheck.cli.output import emit, exit_code, progress
from driftcheck.ruleset.load import load_ruleset

COMPARE_HELP = """Compare a failing TARGET service with healthy BASELINE peers and rank likely root causes.

TARGET and BASELINE are service names found under --from, or paths to single-service files.
Without --from, driftcheck reads the live project (read-only) and SERVICE@latest, SERVICE@last-ready or
SERVICE@REVISION name revisions. With no BASELINE, every other service is a peer (live: a failed deploy is
compared with its last ready revision).

[bold]Examples[/bold]

  driftcheck compare api auth --from incident-evidence/

  driftcheck compare api --from incident-evidence/ -f markdown -o report.md

  driftcheck compare api.yaml auth.json --fail-on critical

  driftcheck compare api auth --project netra-staging --region us-central1

  driftcheck compare api@latest api@last-ready \\
      --project netra-staging --region us-central1
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
) -> None:
    ruleset = load_ruleset(rules)
    from driftcheck.jobs.compare import is_local

    if evidence or (baselines and all(map(is_local, [target, *baselines]))):
        from driftcheck.jobs.compare import compare as compare_offline

        result = compare_offline(target, baselines or [], evidence or [], ruleset)
    else:  # live: imported only here, so an offline run never loads the Google clients
        from driftcheck.jobs.compare_live import LiveOptions, compare_live
        from driftcheck.sources.live.scope import resolve_scope

        with progress("fetching") as on_progress:
            options = LiveOptions(resolve_scope(project, region), endpoint, concurrency, on_progress)
            result = compare_live(target, baselines or [], options, ruleset)
    emit(result, output_format.value, output, fail_on.value)
    raise typer.Exit(exit_code(result, fail_on.value))
