"""The typer application the commands register on, and the options every command shares."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from driftcheck import __version__
from driftcheck.report import FORMATS
from driftcheck.ruleset.findings import SEVERITIES

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


HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history",
        metavar="DIR|gs://BUCKET/PREFIX",
        help="Snapshot history store (default for `history`: the user data folder, ~/.local/share/driftcheck/history).",
    ),
]
