"""The command line: parse, build from the registries, call one core function, render, exit.

One module per command (compare, snapshot and history, drift, rules), registered on the app in `app.py`; each is
imported only when one of its commands runs (app.py: COMMAND_MODULES), so `compare` does not import the audit's.
Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 usage or input error; 3 an incomplete audit
with --strict; 4 an internal error.
"""

from __future__ import annotations

import sys

import typer

from driftcheck.cli.app import app
from driftcheck.errors import DriftcheckError
from driftcheck.escape import printable

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: the one place errors become a single line and exit code 2."""
    try:
        code = app(standalone_mode=False)  # without standalone mode, click returns the exit code
    except DriftcheckError as exc:
        typer.echo(f"driftcheck: error: {printable(str(exc))}", err=True)  # names from evidence: escaped
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
                typer.echo(f"driftcheck: error: {printable(message)} (see --help)", err=True)
            sys.exit(2)
        problem = f"{type(exc).__name__}: {printable(str(exc))}"
        typer.echo(f"driftcheck: internal error: {problem} (please report it)", err=True)
        sys.exit(4)
    sys.exit(code if isinstance(code, int) else 0)
