"""`driftcheck drift`: Terraform state against the live project, a snapshot or exported files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from driftcheck.cli.app import (
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
    app,
    help_text,
)
from driftcheck.cli.output import emit, exit_code, progress

DRIFT_HELP = """Compare every service Terraform state manages with its live (or snapshot) counterpart.

Each drifted field is an `iac-drift` finding, as severe as the worst root cause it triggers; services in state but
not live are `iac-missing`, live services no state manages are `unmanaged`. LOCATION is a local
terraform.tfstate or gs://bucket/key (Application Default Credentials; STORAGE_EMULATOR_HOST is honoured).

[bold]Examples[/bold]

  driftcheck drift --state terraform.tfstate --from staging.json

  driftcheck drift --state gs://acme-tfstate/staging/default.tfstate \\
      --project netra-staging --region us-central1

  driftcheck drift --state terraform.tfstate --from staging.json \\
      --config-dir infra/ --format sarif -o drift.sarif
"""


@app.command(cls=Command, help=help_text(DRIFT_HELP))
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
    from driftcheck.jobs.drift import drift as run_drift
    from driftcheck.jobs.drift import load_declared
    from driftcheck.ruleset.load import load_ruleset

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
    emit(result, output_format.value, output, fail_on.value)
    raise typer.Exit(exit_code(result, fail_on.value))


def _live_inventory(project: str | None, region: list[str] | None, endpoint: str | None, concurrency: int) -> Any:
    """Everything in scope, fetched as a snapshot is (the same two rounds), read back as an Inventory."""
    from driftcheck.jobs.compare_live import LiveOptions, take_snapshot
    from driftcheck.model import Inventory
    from driftcheck.sources.live.scope import resolve_scope
    from driftcheck.sources.snapshot_file import load_snapshot

    scope = resolve_scope(project, region)
    with progress("fetching") as on_progress:
        data = take_snapshot(LiveOptions(scope, endpoint, concurrency, on_progress))
    inventory = Inventory()
    load_snapshot(data, inventory, "live")
    return inventory, f"live {scope.project}/{','.join(scope.regions)}"
