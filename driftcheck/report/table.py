"""`--format table` (the default): the terminal report, drawn with rich."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from driftcheck.report import document
from driftcheck.report.document import display
from driftcheck.ruleset.findings import Result

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render(result: Result, *, color: bool = False, width: int = 120) -> str:
    doc = document.build(result)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    console.print(
        Text(f"driftcheck: {doc['target']} compared with {', '.join(doc['baselines']) or 'no baseline'}", style="bold")
    )
    console.print(_status(doc["status"], doc["target"]))
    if not doc["findings"]:
        console.print("No finding.")
    for number, finding in enumerate(doc["findings"], 1):
        console.print(_finding(number, finding))
    if doc["unverified"]:
        console.print(Text("Could not verify", style="bold yellow"))
        for u in doc["unverified"]:
            console.print(Text(f"  • {u['rule']}: {u['reason']}" + (f" — {u['hint']}" if u["hint"] else "")))
    if doc["other_differences"]:
        console.print(_others(doc["other_differences"]))
    if doc["incomplete"]:
        console.print(Text("Incomplete: some checks could not be verified.", style="yellow"))
    return buffer.getvalue()


def _status(status: dict[str, Any], target: str) -> Panel:
    if not status.get("known"):
        return Panel(Text(f"status not in the evidence: {status.get('reason')}"), title=f"{target}: observed status")
    ready = {True: ("ready", "green"), False: ("NOT READY", "bold red"), None: ("reconciling", "yellow")}[
        status["ready"]
    ]
    lines = [
        Text.assemble(
            ready,
            f"  latest created {status.get('latest_created_revision')}, "
            f"latest ready {status.get('latest_ready_revision')}",
        )
    ]
    if status.get("reason") or status.get("message"):
        lines.append(Text(f"{status.get('reason')}: {status.get('message')}"))
    traffic = ", ".join(f"{t['percent']}% → {t['revision']}" for t in status.get("traffic") or [])
    if traffic:
        lines.append(Text(f"traffic: {traffic}"))
    if status.get("last_deploy_failed"):
        lines.append(Text("the last deploy failed: traffic stays on the older revision", style="red"))
    return Panel(Group(*lines), title=f"{target}: observed status", title_align="left")


def _finding(number: int, finding: dict[str, Any]) -> Panel:
    parts: list[Any] = [Text(finding["explanation"])]
    for confirmation in finding["confirmations"]:
        parts.append(Text(f"✓ {confirmation}", style="green"))
    if finding["peers"]:
        parts.append(Text(f"peers: {finding['peers']}", style="dim"))
    if finding["evidence"]:
        evidence = Table(show_edge=False, expand=True)
        for column in ("what", "baseline", "target", "source"):
            evidence.add_column(column, overflow="fold")
        for e in finding["evidence"]:
            source = "\n".join(f"{side}: {s}" for side, s in e["source"].items() if s)
            evidence.add_row(
                *(Text(cell) for cell in (e["path"], display(e["baseline"]), display(e["target"]), source))
            )
        parts.append(evidence)
    for kind, command in finding["remediation"].items():
        parts.append(Text.assemble((f"fix ({kind}): ", "bold"), command))
    parts.append(Text(f"docs: {finding['docs']}", style="dim"))
    style = SEVERITY_STYLE[finding["severity"]]
    title = Text.assemble(
        (f" {finding['severity'].upper()} ", style), f" {number}. {finding['title']} ", (f"[{finding['rule']}]", "dim")
    )
    return Panel(Group(*parts), title=title, title_align="left")


def _others(changes: list[dict[str, Any]]) -> Table:
    table = Table(title="Other differences (no rule matched)", title_justify="left", expand=True)
    for column in ("path", "baseline", "target"):
        table.add_column(column, overflow="fold")
    for change in changes:
        table.add_row(
            *(Text(cell) for cell in (change["path"], display(change["baseline"]), display(change["target"])))
        )
    return table
