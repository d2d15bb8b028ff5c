"""The typer application the commands register on, and the options every command shares."""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Iterator, MutableMapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from driftcheck import __version__
from driftcheck.report import FORMATS
from driftcheck.ruleset.findings import SEVERITIES


def help_text(text: str) -> str:
    """A command's help as typer's rich mode prints it: each prose paragraph one line, so the terminal wraps it at
    its own width (rich keeps a source line break, mid-sentence); an indented paragraph (an example) as written."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(p if p.startswith(" ") else " ".join(p.split()) for p in paragraphs)


def _shown_metavar(param: Any, ctx: Any, *, usage: bool = False) -> str:
    """What help shows for a parameter (typer 0.28's rich help puts an option's `make_metavar` in the type column):
    an option's metavar, nothing for a flag or an option without one (typer would show `TEXT` or
    `<api|asset-inventory>`); an argument's own, with `...` in the usage line when it takes any number."""
    if param.param_type_name == "argument":
        shown = str(type(param).make_metavar(param, ctx, usage=usage))
        return f"{shown}..." if usage and param.nargs != 1 and not shown.endswith("...") else shown
    return str(param.metavar) if param.metavar and not param.is_flag else ""


def _unshown_metavar(param: Any, ctx: Any) -> str:
    return ""


def _without_types(params: Sequence[Any]) -> None:
    """Help without Python type names: typer 0.28 shows an argument's `type.get_metavar()`, or `<str>` when that is
    None, beside it; an empty one shows nothing. The argument gets its own copy of the type, which parses the same."""
    for param in params:
        if "make_metavar" in vars(param):
            continue  # done at an earlier get_params
        param.make_metavar = functools.partial(_shown_metavar, param)
        if param.param_type_name == "argument":
            param.type = copy.copy(param.type)
            param.type.get_metavar = _unshown_metavar


class Command(TyperCommand):
    """A command whose help names no Python type."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _without_types(params)
        return params


class Group(TyperGroup):
    """A command group whose help names no Python type."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _without_types(params)
        return params


# Each command, in the order --help lists it, and the module of driftcheck.cli that declares it. A module is
# imported only when one of its commands is looked up: `compare` imports cli/compare.py alone, and typer builds
# that one command, not the ten (--help, which lists them all, imports them all). tests/test_cli_lazy.py checks
# that this table names what the modules declare.
COMMAND_MODULES = {
    "audit": "audit",
    "merge": "audit",
    "compare": "compare",
    "check": "compare",
    "drift": "drift",
    "snapshot": "snapshot",
    "history": "snapshot",
    "rules": "rules",
}


class _LazyCommands(MutableMapping[str, Any]):
    """The root group's commands (typer reads them as `group.commands`: to run one, list them, suggest one): every
    name known from the start, each command built on first access, as typer would have built it."""

    def __init__(self, built: dict[str, Any]) -> None:
        self._built = {name: command for name, command in built.items() if name not in COMMAND_MODULES}
        self._names = [*COMMAND_MODULES, *self._built]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMAND_MODULES:
                raise KeyError(name)
            self._built[name] = _build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        if name not in self._names:
            self._names.append(name)

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


def _build(name: str) -> Any:
    """Import the module that declares command `name` (it registers on `app` or `rules_app`), then build that
    command from what it registered, with the settings typer's own `get_group` passes."""
    from typer.main import get_command_from_info, get_command_name, get_group_from_info

    importlib.import_module(f"driftcheck.cli.{COMMAND_MODULES[name]}")
    settings: dict[str, Any] = {"pretty_exceptions_short": app.pretty_exceptions_short}
    settings["rich_markup_mode"] = app.rich_markup_mode
    for group in app.registered_groups:
        if group.name == name:
            return get_group_from_info(group, suggest_commands=app.suggest_commands, **settings)
    for info in app.registered_commands:
        if (info.name or get_command_name(info.callback.__name__ if info.callback else "")) == name:
            return get_command_from_info(info, **settings)
    raise LookupError(f"driftcheck.cli.{COMMAND_MODULES[name]} declares no command {name!r}")


class RootGroup(Group):
    """The top-level group: its commands' modules are imported when a command is looked up (COMMAND_MODULES)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(dict(self.commands))


APP_HELP = """Why does one Cloud Run service fail while its peer works? driftcheck compares them and ranks root causes.

Each command's --help has its options and more examples.

[bold]Examples[/bold]

  driftcheck compare api auth --from incident-evidence/

  driftcheck compare --help

  driftcheck rules list
"""

app = typer.Typer(
    cls=RootGroup,
    help=help_text(APP_HELP),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
RULES_HELP = """List and explain the rules driftcheck applies, and what a rule sees.

The built-in rules, and with --rules DIR your own (one with a built-in id replaces it).

[bold]Examples[/bold]

  driftcheck rules list

  driftcheck rules show vpc-access-missing

  driftcheck rules list --rules ./my-rules

  driftcheck rules schema --markdown
"""
rules_app = typer.Typer(cls=Group, help=help_text(RULES_HELP), no_args_is_help=True, rich_markup_mode="rich")
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
    list[str] | None,
    typer.Argument(metavar="BASELINE", help="Healthy peers (any number): names under --from, or files."),
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
BaselineFileOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline-file",
        metavar="FILE",
        help="Known findings (JSON, from --update-baseline): all are reported, only a new one fails the run; one "
        "listed but no longer found is reported fixed.",
    ),
]
UpdateBaselineOption = Annotated[
    bool,
    typer.Option("--update-baseline", help="Write --baseline-file from this run's findings, and exit 0."),
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
        help="Send every Google API call to HOST:PORT over plaintext gRPC, anonymously (emulators, tests).",
    ),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", metavar="N", min=1, max=256, help="Live run: parallel API calls.")
]
TroubleshootIamOption = Annotated[
    bool,
    typer.Option(
        "--troubleshoot-iam",
        help="Live run: ask Policy Troubleshooter whether each compared service's account may read its secrets and "
        "connect to its Cloud SQL instances, and each push identity may invoke it: it also sees folder, "
        "organization, group and deny policies. Needs roles/iam.securityReviewer (it reads the IAM policies "
        "involved) and the Policy Troubleshooter API enabled; without them the local answer stands, with a note.",
    ),
]
ConnectivityTestOption = Annotated[
    bool,
    typer.Option(
        "--connectivity-test",
        help="Live run, WRITES to the project: for each network path the evidence leaves broken or unknown (a "
        "revision to a private IP:port), create a Connectivity Test, read where Google's analysis drops the "
        "packet, and delete the test (at most 8 a run). Needs roles/networkmanagement.admin and the Network "
        "Management API; without them the path stays as the evidence shows it, with a note. Off by default.",
    ),
]

SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="DURATION",
        help="Live run: read each compared service's log entries at WARNING or above, and its requests answered 5xx, "
        "over the last DURATION (30m, 2h, 1d; default 1h): at most 500 entries a service, newest first, redacted. "
        "Needs roles/logging.viewer; without it the logs are unknown, with a note.",
    ),
]
NoLogsOption = Annotated[bool, typer.Option("--no-logs", help="Live run: read no log entries (no Cloud Logging call).")]


HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history",
        metavar="LOCATION",
        help="Snapshot history store: a folder or gs://BUCKET/PREFIX. history and audit default to "
        "~/.local/share/driftcheck/history",
    ),
]
