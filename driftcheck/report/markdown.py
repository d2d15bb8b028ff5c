"""`--format markdown`: a report to paste into an incident document.

Evidence is data, never markup: names, paths, sources and commands are code spans (a fence longer than any
backtick they hold), every other value has its Markdown characters escaped (no HTML such as `<script>`, no image
`![](http://...)` that a viewer would fetch, no `|` that ends a table cell), and control characters are escaped as
in the table (report/escape.py).
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.escape import printable_tree
from driftcheck.report import document
from driftcheck.report.document import change_cells, display, display_path, snapshot_pairs
from driftcheck.ruleset.findings import Result

# Markdown's inline markup: a `]` only where it would end a link, an image or a link definition (`](`, `][`, `]:`),
# so `[REDACTED]` reads as written; `_` only where it can open or close emphasis (`_x_`, not `private_ranges_only`).
_MARKUP = re.compile(r"[\\`*<>|~]|\](?=[(\[:])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_BACKTICKS = re.compile(r"`+")


def render(result: Result) -> str:
    doc = printable_tree(document.build(result))
    compared = f" compared with {_names(doc['baselines'])}" if doc["baselines"] else ""  # an audit: none
    lines = [f"# driftcheck: {_code(doc['target'])}{compared}", ""]
    lines += [*(f"> {_text(note)}" for note in doc["notes"]), ""] if doc["notes"] else []
    if doc["baselines"] or doc["status"].get("known"):
        lines += _status(doc["status"], doc["target"])
    else:  # an audit: no one target whose status to show; what was audited instead
        lines += [f"{_text(doc['status'].get('reason'))}.", ""]
    lines += ["## Findings, most likely root cause first", ""]
    if not doc["findings"]:
        lines += ["No finding.", ""]
    for number, finding in enumerate(doc["findings"], 1):
        lines += _finding(number, finding)
    if doc["unverified"]:
        lines += ["## Could not verify", ""]
        lines += [
            f"- **{_text(u['rule'])}**: {_text(u['reason'])}" + (f" ({_text(u['hint'])})" if u["hint"] else "")
            for u in doc["unverified"]
        ]
        lines.append("")
    if doc["other_differences"]:
        lines += ["## Other differences (no rule matched)", "", "| path | baseline | target |", "|---|---|---|"]
        lines += [
            f"| {_code(display_path(c['path']), cell=True)} | {_cells(*change_cells(c['baseline'], c['target']))} |"
            for c in doc["other_differences"]
        ]
        lines.append("")
    if doc["changes"]:
        lines += _changes(doc["changes"])
    if doc["incomplete"]:
        lines += ["_Incomplete: some checks could not be verified (see above)._", ""]
    return "\n".join(lines)


def _names(names: list[str]) -> str:
    return ", ".join(map(_code, names))


def _status(status: dict[str, Any], target: str) -> list[str]:
    lines = ["## Observed status", ""]
    if not status.get("known"):
        return [*lines, f"Status of {_code(target)} not in the evidence: {_text(status.get('reason'))}.", ""]
    ready = {True: "ready", False: "**not ready**", None: "reconciling"}[status.get("ready")]
    lines.append(
        f"- {_code(target)} is {ready}; latest created revision {_code(status.get('latest_created_revision'))}, "
        + _latest_ready(status.get("latest_ready_revision"))
    )
    if status.get("reason") or status.get("message"):
        parts = (status.get("reason"), status.get("message"))
        lines.append("- " + ": ".join(_text(part) for part in parts if part))
    traffic = ", ".join(f"{_text(t['percent'])}% → {_code(t['revision'])}" for t in status.get("traffic") or [])
    if traffic:
        lines.append(f"- traffic: {traffic}")
    if status.get("deploy_note"):
        lines.append(f"- {_text(status['deploy_note'])}")
    return [*lines, ""]


def _finding(number: int, finding: dict[str, Any]) -> list[str]:
    heading = f"{_subject(finding)}{_text(finding['title'])} ({_code(finding['rule'])})"
    lines = [f"### {number}. [{finding['severity'].upper()}] {heading}", "", _text(finding["explanation"]), ""]
    lines += [f"- confirmed: {_text(c)}" for c in finding["confirmations"]]
    if finding["peers"]:
        lines.append(f"- peers: {_text(finding['peers'])}")
    if finding["evidence"]:
        lines += ["", "| what | baseline | target | source |", "|---|---|---|---|"]
        for e in finding["evidence"]:
            source = "; ".join(f"{side}: {_code(s, cell=True)}" for side, s in e["source"].items() if s)
            cells = _cells(display(e["baseline"]), display(e["target"]))
            lines.append(f"| {_code(display_path(e['path']), cell=True)} | {cells} | {source} |")
    lines.append("")
    for kind, command in finding["remediation"].items():
        lines.append(f"**Fix ({_text(kind)}):** {_code(command)}  ")
    lines += [f"Docs: {finding['docs']}", ""]
    return lines


def _subject(finding: dict[str, Any]) -> str:
    return f"{_code(finding['subject'])}: " if finding["subject"] else ""


def _changes(changes: list[dict[str, Any]]) -> list[str]:
    """Informational, not findings: one table per pair of snapshots, under the two timestamps."""
    lines = ["## Changes since the previous snapshot", ""]
    for (before, after), group in snapshot_pairs(changes):
        lines += [f"Between the snapshots of {before} and {after}:", ""]
        lines += ["| service | path | from | to |", "|---|---|---|---|"]
        for c in group:
            service = _code(c["service"], cell=True) if c["service"] else "—"
            path = _code(display_path(c["path"]), cell=True)
            lines.append(f"| {service} | {path} | {_cells(*change_cells(c['from'], c['to']))} |")
        lines.append("")
    return lines


def _latest_ready(revision: Any) -> str:
    """A failed first revision has no ready revision: say so, never "latest ready None"."""
    return f"latest ready {_code(revision)}" if revision else "no ready revision"


def _cells(*cells: str) -> str:
    return " | ".join(map(_text, cells))


def _text(text: Any) -> str:
    """A value in prose or a table cell: its Markdown characters backslash-escaped, shown as written."""
    return _MARKUP.sub(lambda match: "\\" + match.group(), str(text))


def _code(text: Any, *, cell: bool = False) -> str:
    """A value as a code span, whatever backticks it holds; in a table cell, its `|` escaped (GFM reads `\\|`
    inside a cell's code span as `|`)."""
    text = str(text).replace("|", "\\|") if cell else str(text)
    fence = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
