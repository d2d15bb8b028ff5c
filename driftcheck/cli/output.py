"""What every reporting command does last: render, write, pick the exit code; and progress on a terminal."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from driftcheck.report import reporter
from driftcheck.ruleset.findings import SEVERITIES, Result


def exit_code(result: Result, fail_on: str) -> int:
    """1 when a finding is at or above `fail_on`; with a baseline file, only a new finding counts."""
    if fail_on == "none":
        return 0
    threshold = SEVERITIES.index(fail_on)
    findings = result.findings
    if result.findings_baseline is not None:
        from driftcheck.report.baseline import gating

        findings = gating(result)
    return 1 if any(SEVERITIES.index(f.severity) <= threshold for f in findings) else 0


UPDATED = "--update-baseline"  # what decides the exit code (0) of a run that writes its baseline file


def with_baseline(result: Result, path: Path | None, update: bool = False) -> Result:
    """The result judged against the baseline file at `path`. With `update` the file may be missing (the first
    one), and a bad one is replaced, said in one warning line."""
    if path is None:
        if update:
            from driftcheck.errors import InputError

            raise InputError("--update-baseline needs --baseline-file FILE (the file to write)")
        return result
    from driftcheck.errors import InputError
    from driftcheck.report import baseline

    if update and not path.exists():
        return result
    try:
        known = baseline.read(path)
    except InputError as problem:
        if not update:
            raise
        from driftcheck.escape import printable

        print(f"driftcheck: warning: {printable(str(problem))}; writing it anew", file=sys.stderr)
        return result
    return dataclasses.replace(result, findings_baseline=known)


def update_baseline(result: Result, path: Path) -> None:
    """Write the baseline file from the run's findings, and say so in one stderr line."""
    from driftcheck.escape import printable
    from driftcheck.fileio import write_atomic
    from driftcheck.report import baseline

    write_atomic(path, baseline.render(result, result.findings_baseline))
    count = len(result.findings)
    changed = baseline.summary(result)
    since = f" (against the previous file: {changed})" if changed else ""
    print(printable(f"wrote {path}: {count} finding{'s' * (count != 1)} known{since}; exit 0"), file=sys.stderr)


@dataclass(frozen=True)
class Verdict:
    """The exit code and what decided it, as the `-o` line says it (`--fail-on high`, `--strict: ...`)."""

    code: int
    decided_by: str


def verdict(result: Result, fail_on: str, decided_by: str | None = None) -> Verdict:
    return Verdict(exit_code(result, fail_on), decided_by or f"--fail-on {fail_on}")


def emit(
    result: Result, output_format: str, output: Path | None, fail_on: str = "high", said: Verdict | None = None
) -> None:
    """`said`: the verdict the `-o` line gives, when more than `--fail-on` decides it (an audit's configuration)."""
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
    print(written(result, output, said or verdict(result, fail_on)), file=sys.stderr)


def written(result: Result, output: Path, said: Verdict) -> str:
    """The one stderr line a report written to a file leaves, as the table would have told it: what, and the
    verdict (`wrote report.html: 1 critical, 1 low; exit 1 (--fail-on high)`)."""
    from driftcheck.escape import printable

    found = [finding.severity for finding in result.findings]
    counts = [f"{found.count(severity)} {severity}" for severity in SEVERITIES if severity in found]
    if result.unverified:
        counts.append(f"{len(result.unverified)} not verified")
    summary = ", ".join(counts) or "no finding"
    if result.findings_baseline is not None:
        from driftcheck.report.baseline import summary as against

        summary += f" ({against(result)})"
    return f"wrote {printable(str(output))}: {summary}; exit {said.code} ({said.decided_by})"


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on stderr when stderr is a terminal; nothing otherwise, and never anything on stdout."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from driftcheck.escape import printable

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),  # resource names are data, never rich markup
        TextColumn("{task.completed} calls"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done: bar.update(task, advance=1, description=f"{label} {printable(done)}")


def width() -> int:
    import shutil

    return max(80, min(shutil.get_terminal_size((120, 24)).columns, 160))
