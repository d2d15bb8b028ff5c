"""`--format table` (the default): the terminal report, drawn with rich.

Every value is a `Text`, never a markup string, and the console has markup and emoji off: evidence such as
`[run.googleapis.com/vpc-access-connector]` or `:warning:` is shown as it is written. Control characters in the
evidence are shown escaped (`\\x1b`, `\\r`): a value cannot drive the terminal (report/escape.py).
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console, Group, JustifyMethod, OverflowMethod
from rich.containers import Lines
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from driftcheck.escape import printable_tree
from driftcheck.report import document, logs_text
from driftcheck.report.document import change_cells, display, display_path, heading, latest_ready, snapshot_pairs
from driftcheck.ruleset.findings import Result

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
# Folders in an origin (`fixtures/incident/api.yaml`, `live:projects/p/locations/r/services/api`): the table keeps
# the last segment only; JSON and Markdown keep the whole path.
_FOLDERS = re.compile(r"[^\s#:\[\]]*/")
# The field after an origin: the text after the last ':' outside brackets (`annotations[a.io/b]`, `conditions[Ready]`).
_FIELD = re.compile(r":(?P<field>(?:[^:\[\]]|\[[^\]]*\])*)$")
# Where a name longer than its column may be cut, best first: after a path separator or before `[`, after a
# dot, inside a name.
_PATH_BREAKS = ("/:,=#↔", ".", "-_@")
_WORD = re.compile(r"\s*\S+\s*")


class _Cell(Text):
    """A table cell that wraps on spaces and path boundaries (`projects/`, `netra-staging/`, `annotations`
    `[run.googleapis.com/`), not every N characters; a name longer than the column is still folded."""

    def wrap(
        self,
        console: Console,
        width: int,
        *,
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        tab_size: int = 8,
        no_wrap: bool | None = None,
    ) -> Lines:
        lines = Lines()
        for line in self.split(allow_blank=True):
            for piece in line.divide(_breaks(line.plain, width)):  # each piece fits: justified, not cut again
                lines.extend(
                    Text.wrap(
                        piece, console, width, justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap
                    )
                )
        return lines


def _breaks(line: str, width: int) -> list[int]:
    """Offsets to end the lines of `line` at: between words as rich does, and inside a word longer than a line
    (a resource path, a file and field) at its path boundaries."""
    offsets: list[int] = []
    used = 0  # cells on the current line
    for match in _WORD.finditer(line):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if used and used + length > width:
            offsets.append(start)
            used = 0
        while length > width > 0:
            cut = _cut(word[: width + 1], width)
            start += cut
            offsets.append(start)
            word, length = word[cut:], length - cut
        used += len(word)
    return offsets


def _cut(window: str, width: int) -> int:
    """How much of a long word goes on this line (`window`: its next `width` characters and one more): up to its
    last boundary of the best kind that fills half the line or more, else its last boundary, else `width`."""
    best = [0] * len(_PATH_BREAKS)
    for end in range(1, min(len(window), width + 1)):
        before, after = window[end - 1], window[end]
        for rank, marks in enumerate(_PATH_BREAKS):
            if before in marks or before.isspace() or (rank == 0 and after == "["):
                best[rank] = end
                break
    return next((cut for cut in best if cut >= width // 2), max(best) or width)


def render(result: Result, *, color: bool = False, width: int = 120) -> str:
    doc = printable_tree(document.build(result))
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False, markup=False, emoji=False
    )
    console.print(Text(f"driftcheck: {heading(doc)}", style="bold"))
    for note in doc["notes"]:  # what was compared when the user named no baseline, what could not be read
        console.print(Text(f"note: {note}", style="dim"))
    if doc["baselines"] or doc["status"].get("known"):
        console.print(_status(doc["status"], doc["target"]))
    else:  # an audit: no one target whose status to show; what was audited instead
        console.print(Text(str(doc["status"].get("reason"))))
    if not doc["findings"]:
        console.print(Text("No finding."))
    for number, finding in enumerate(doc["findings"], 1):
        _print_finding(console, number, finding, peerless=not doc["baselines"])
    if doc["paths"]:
        _print_paths(console, doc["paths"])
    if doc["logs"]:
        console.print(Text(logs_text.HEADING, style="bold"))
        for level, line in logs_text.log_lines(doc["logs"]):
            console.print(Text("  " * level + line, style="" if level == 1 else "dim"))
    if doc["unverified"]:
        console.print(Text("Could not verify", style="bold yellow"))
        for u in doc["unverified"]:
            console.print(Text(f"  • {u['rule']}: {u['reason']}" + (f" — {u['hint']}" if u["hint"] else "")))
    if doc["other_differences"]:
        console.print(_others(doc["other_differences"]))
    if doc["changes"]:
        _print_changes(console, doc["changes"])
    if doc["baseline"]:  # --baseline-file: what it knew, and what it listed that is no longer found
        counts = doc["baseline"]["counts"]
        said = f"{counts['new']} new, {counts['known']} known, {counts['fixed']} fixed"
        console.print(Text(f"baseline {doc['baseline']['file']}: {said}", style="bold"))
        for e in doc["baseline"]["fixed"]:
            console.print(Text(f"  fixed: {e['subject']}: {e['reason']} ({e['rule']})", style="green"))
    if doc["incomplete"]:
        console.print(Text("Incomplete: some checks could not be verified.", style="yellow"))
    return buffer.getvalue()


_HOP_STYLE = {"verified": "green", "broken": "bold red", "unknown": "yellow"}


def _print_paths(console: Console, paths: list[dict[str, Any]]) -> None:
    """Each network path on one line (✓ verified, ✗ broken, ? unknown), then what breaks it or cannot be told."""
    console.print(Text("Network paths (✓ verified, ✗ broken, (?) not in the evidence)", style="bold"))
    for path in paths:
        console.print(Text(f"  {path['line']}", style=_HOP_STYLE[path["state"]]))
        for hop in path["hops"]:
            if hop["state"] == "broken":
                console.print(Text(f"    ✗ {hop['label']}: {hop['detail']}", style="red"))
            elif hop["state"] == "unknown":
                export = f" (export: {hop['export']})" if hop["export"] else ""
                console.print(Text(f"    (?) {hop['label']}: {hop['detail']}{export}", style="yellow"))


def _status(status: dict[str, Any], target: str) -> Panel:
    title = Text(f"{target}: observed status")
    if not status.get("known"):
        return Panel(Text(f"status not in the evidence: {status.get('reason')}"), title=title, title_align="left")
    ready = {True: ("ready", "green"), False: ("NOT READY", "bold red"), None: ("reconciling", "yellow")}[
        status["ready"]
    ]
    lines = [
        Text.assemble(
            ready,
            f"  latest created {status.get('latest_created_revision')}, "
            + latest_ready(status),
        )
    ]
    if status.get("reason") or status.get("message"):
        lines.append(Text(": ".join(str(part) for part in (status.get("reason"), status.get("message")) if part)))
    traffic = ", ".join(f"{t['percent']}% → {t['revision']}" for t in status.get("traffic") or [])
    if traffic:
        lines.append(Text(f"traffic: {traffic}"))
    if status.get("deploy_note"):
        lines.append(Text(status["deploy_note"], style="red"))
    return Panel(Group(*lines), title=title, title_align="left")


def _print_finding(console: Console, number: int, finding: dict[str, Any], peerless: bool) -> None:
    """The why in a panel; the fix below it, never wrapped, so a command copies from the terminal as one line."""
    console.print(_finding(number, finding, peerless))
    for kind, command in finding["remediation"].items():
        console.print(Text.assemble(("  fix", "bold"), f" ({kind}): ", command), soft_wrap=True)
    known = f" · {finding['baseline']} (baseline file)" if finding["baseline"] else ""
    console.print(Text(f"  docs: {finding['docs']} · rule: {finding['rule']}{known}", style="dim"), soft_wrap=True)


def _finding(number: int, finding: dict[str, Any], peerless: bool) -> Panel:
    parts: list[Any] = [Text(finding["explanation"])]
    for confirmation in finding["confirmations"]:
        parts.append(Text(f"✓ {confirmation}", style="green"))
    if finding["peers"]:
        parts.append(Text(f"peers: {finding['peers']}", style="dim"))
    if finding["evidence"]:
        parts.append(_evidence(finding["evidence"], peerless))
    style = SEVERITY_STYLE[finding["severity"]]
    # The rule id is printed under the panel: a long title cut at 80 columns would take it along.
    subject = f"{finding['subject']}: " if finding["subject"] else ""
    title = Text.assemble(
        (f" {finding['severity'].upper()} ", style), f" {number}. {subject}{finding['title']}", overflow="ellipsis"
    )
    return Panel(Group(*parts), title=title, title_align="left")


def _evidence(evidence: list[dict[str, Any]], peerless: bool) -> Table:
    """What, baseline, target, source; with no peer compared, no baseline column (it would be all dashes)."""
    peerless = peerless and all(e["baseline"] is None for e in evidence)  # an audit's parity rows have a majority
    table = Table(show_edge=False, expand=True)
    # A source names a file and a field, the longest cell of a row: it gets the most room.
    columns = (("what", 3), *(() if peerless else (("baseline", 3),)), ("target", 3), ("source", 4))
    for column, ratio in columns:
        table.add_column(column, overflow="fold", ratio=ratio)
    for e in evidence:
        sides = (display(e["target"]),) if peerless else (display(e["baseline"]), display(e["target"]))
        table.add_row(*map(_Cell, (display_path(e["path"]), *sides, _source(e["source"]))))
    return table


def _source(source: dict[str, str | None]) -> str:
    """Where the two values came from, compactly: file names without folders, a field both share written once."""
    baseline, target = (_split(s) for s in (source.get("baseline"), source.get("target")))
    if baseline and target and baseline[1] == target[1]:
        files = baseline[0] if baseline[0] == target[0] else f"{baseline[0]} ↔ {target[0]}"
        return "\n".join(filter(None, (files, baseline[1])))
    if baseline and target:
        return f"baseline: {_join(baseline)}\ntarget: {_join(target)}"
    return _join(baseline or target or ("", ""))


def _split(source: str | None) -> tuple[str, str] | None:
    """`origin:field` to (origin without folders, field)."""
    if not source:
        return None
    match = _FIELD.search(source)
    origin, field = (source[: match.start()], match["field"]) if match else (source, "")
    return _FOLDERS.sub("", origin), field


def _join(parts: tuple[str, str]) -> str:
    return ":".join(p for p in parts if p)


def _others(changes: list[dict[str, Any]]) -> Table:
    table = Table(title=Text("Other differences (no rule matched)"), title_justify="left", expand=True)
    for column in ("path", "baseline", "target"):
        table.add_column(column, overflow="fold")
    for change in changes:
        cells = change_cells(change["baseline"], change["target"])
        table.add_row(*map(_Cell, (display_path(change["path"]), *cells)))
    return table


def _print_changes(console: Console, changes: list[dict[str, Any]]) -> None:
    """Informational, not findings: one table per pair of snapshots, its two timestamps in the title, each
    service's changes under a row naming it (a service column would fold project/region/service at 120 columns)."""
    console.print(Text("Changes since the previous snapshot", style="bold"))
    for (before, after), group in snapshot_pairs(changes):
        table = Table(title=Text(f"{before} → {after}"), title_justify="left", expand=True)
        for column, ratio in (("service / path", 3), ("from", 2), ("to", 2)):
            table.add_column(column, overflow="fold", ratio=ratio)
        services: dict[str | None, list[dict[str, Any]]] = {}
        for change in group:
            services.setdefault(change["service"], []).append(change)
        for number, (service, rows) in enumerate(services.items()):
            if number:
                table.add_section()
            if service:
                table.add_row(Text(service, style="bold"), Text(""), Text(""))
            for change in rows:
                old, new = change_cells(change["from"], change["to"])
                path = display_path(change["path"])
                table.add_row(*map(_Cell, ("  " + path if service else path, old, new)))
        console.print(table)
