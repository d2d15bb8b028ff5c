"""What every reporting command does last: render, write, pick the exit code; and progress on a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from driftcheck.report import reporter
from driftcheck.ruleset.findings import SEVERITIES, Result


def exit_code(result: Result, fail_on: str) -> int:
    if fail_on == "none":
        return 0
    threshold = SEVERITIES.index(fail_on)
    return 1 if any(SEVERITIES.index(f.severity) <= threshold for f in result.findings) else 0


def emit(result: Result, output_format: str, output: Path | None, fail_on: str = "high") -> None:
    if output_format == "table" and output is None:
        from driftcheck.report import table

        text = table.render(result, color=sys.stdout.isatty(), width=width())
    else:
        text = reporter(output_format, fail_on)(result)  # junit marks as failures what fails the run
    if output is None:
        sys.stdout.write(text)
        return
    from driftcheck.fileio import write_atomic

    write_atomic(output, text)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[str], None] | None]:
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


def width() -> int:
    import shutil

    return max(80, min(shutil.get_terminal_size((120, 24)).columns, 160))
