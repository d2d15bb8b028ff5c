"""`--format table` (the default): the terminal report, drawn with rich.

Every value is a `Text`, never a markup string, and the console has markup and emoji off: evidence such as
`[run.googleapis.com/vpc-access-connector]` or `:warning:` is shown as it is written.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from driftcheck.report import document
from driftcheck.report.document import change_cells, display, display_path, heading, latest_ready, snapshot_pairs
from driftcheck.ruleset.findings import Result

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
# Folders in an origin (`fixtures/incident/api.yaml`, `live:projects/p/locations/r/services/api`): the table keeps
# the last segment only; JSON and Markdown keep the whole path.
_FOLDERS = re.compile(r"[^\s#:\[\]]*/")
# The field after an origin: the text after the last ':' outside brackets (`annotations[a.io/b]`, `conditions[Ready]`).
_FIELD = re.compile(r":(?P<field>(?:[^:\[\]]|\[[^\]]*\])*)$")


def render(result: Result, *, color: bool = False, width: int = 120) -> str:
    doc = document.build(result)
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
        _print_finding(console, number, finding)
    if doc["unverified"]:
        console.print(Text("Could not verify", style="bold yellow"))
        for u in doc["unverified"]:
            console.print(Text(f"  • {u['rule']}: {u['reason']}" + (f" — {u['hint']}" if u["hint"] else "")))
    if doc["other_differences"]:
        console.print(_others(doc["other_differences"]))
    if doc["changes"]:
        _print_changes(console, doc["changes"])
    if doc["incomplete"]:
        console.print(Text("Incomplete: some checks could not be verified.", style="yellow"))
    return buffer.getvalue()


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


def _print_finding(console: Console, number: int, finding: dict[str, Any]) -> None:
    """The why in a panel; the fix below it, never wrapped, so a command copies from the terminal as one line."""
    console.print(_finding(number, finding))
    for kind, command in finding["remediation"].items():
        console.print(Text.assemble(("  fix", "bold"), f" ({kind}): ", command), soft_wrap=True)
    console.print(Text(f"  docs: {finding['docs']} · rule: {finding['rule']}", style="dim"), soft_wrap=True)


def _finding(number: int, finding: dict[str, Any]) -> Panel:
    parts: list[Any] = [Text(finding["explanation"])]
    for confirmation in finding["confirmations"]:
        parts.append(Text(f"✓ {confirmation}", style="green"))
    if finding["peers"]:
        parts.append(Text(f"peers: {finding['peers']}", style="dim"))
    if finding["evidence"]:
        parts.append(_evidence(finding["evidence"]))
    style = SEVERITY_STYLE[finding["severity"]]
    # The rule id is printed under the panel: a long title cut at 80 columns would take it along.
    subject = f"{finding['subject']}: " if finding["subject"] else ""
    title = Text.assemble(
        (f" {finding['severity'].upper()} ", style), f" {number}. {subject}{finding['title']}", overflow="ellipsis"
    )
    return Panel(Group(*parts), title=title, title_align="left")


def _evidence(evidence: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, expand=True)
    # A source names a file and a field, the longest cell of a row: it gets the most room.
    for column, ratio in (("what", 3), ("baseline", 3), ("target", 3), ("source", 4)):
        table.add_column(column, overflow="fold", ratio=ratio)
    for e in evidence:
        cells = (display_path(e["path"]), display(e["baseline"]), display(e["target"]), _source(e["source"]))
        table.add_row(*map(Text, cells))
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
        table.add_row(*map(Text, (display_path(change["path"]), *cells)))
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
                table.add_row(*map(Text, ("  " + path if service else path, old, new)))
        console.print(table)
