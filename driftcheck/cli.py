"""The command line: parse, build from the registries, call one core function, render, exit.

Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 usage or input error.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from driftcheck import __version__
from driftcheck.errors import DriftcheckError
from driftcheck.report import FORMATS
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
With no BASELINE, every other service under --from is a peer.

[bold]Examples[/bold]

  driftcheck compare api auth --from incident-evidence/

  driftcheck compare api --from incident-evidence/ --format markdown -o report.md

  driftcheck compare api.yaml auth.json --fail-on critical
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


@app.command(help=COMPARE_HELP)
def compare(
    target: TargetArgument,
    baselines: BaselineArgument = None,
    evidence: EvidenceOption = None,
    rules: RulesOption = None,
    output_format: FormatOption = "table",  # type: ignore[assignment]
    output: OutputOption = None,
    fail_on: FailOnOption = "high",  # type: ignore[assignment]
) -> None:
    from driftcheck.pipeline import compare as run_compare

    result = run_compare(target, baselines or [], evidence or [], load_ruleset(rules))
    _emit(result, output_format.value, output)
    raise typer.Exit(exit_code(result, fail_on.value))


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
    if rule.match:
        typer.echo(f"matches: {rule.match.path} ({', '.join(rule.match.kinds)})")
    if rule.when:
        typer.echo(f"when: {' '.join(rule.when.split())}")
    for kind, template in rule.remediation.items():
        typer.echo(f"fix ({kind}): {' '.join(template.split())}")
    typer.echo(f"docs: {rule.docs}\nfile: {rule.origin}")


def exit_code(result: Result, fail_on: str) -> int:
    if fail_on == "none":
        return 0
    threshold = SEVERITIES.index(fail_on)
    return 1 if any(SEVERITIES.index(f.severity) <= threshold for f in result.findings) else 0


def _emit(result: Result, output_format: str, output: Path | None) -> None:
    if output_format == "table" and output is None:
        from driftcheck.report import table

        text = table.render(result, color=sys.stdout.isatty(), width=_width())
    else:
        text = FORMATS[output_format](result)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DriftcheckError(f"{output}: cannot write: {exc.strerror}") from None


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
    except Exception as exc:  # click usage errors and anything unexpected: one line, never a traceback
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        typer.echo(f"driftcheck: internal error: {type(exc).__name__}: {exc} (please report it)", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
