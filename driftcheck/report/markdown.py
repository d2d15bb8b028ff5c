"""`--format markdown`: a report to paste into an incident document."""

from __future__ import annotations

from typing import Any

from driftcheck.report import document
from driftcheck.report.document import change_cells, display, display_path, latest_ready, snapshot_pairs
from driftcheck.ruleset.findings import Result


def render(result: Result) -> str:
    doc = document.build(result)
    compared = f" compared with {_names(doc['baselines'])}" if doc["baselines"] else ""  # an audit: none
    lines = [f"# driftcheck: `{doc['target']}`{compared}", ""]
    lines += [*(f"> {note}" for note in doc["notes"]), ""] if doc["notes"] else []
    if doc["baselines"] or doc["status"].get("known"):
        lines += _status(doc["status"], doc["target"])
    else:  # an audit: no one target whose status to show; what was audited instead
        lines += [f"{doc['status'].get('reason')}.", ""]
    lines += ["## Findings, most likely root cause first", ""]
    if not doc["findings"]:
        lines += ["No finding.", ""]
    for number, finding in enumerate(doc["findings"], 1):
        lines += _finding(number, finding)
    if doc["unverified"]:
        lines += ["## Could not verify", ""]
        lines += [
            f"- **{u['rule']}**: {u['reason']}" + (f" ({u['hint']})" if u["hint"] else "") for u in doc["unverified"]
        ]
        lines.append("")
    if doc["other_differences"]:
        lines += ["## Other differences (no rule matched)", "", "| path | baseline | target |", "|---|---|---|"]
        lines += [
            f"| `{display_path(c['path'])}` | {_cells(*change_cells(c['baseline'], c['target']))} |"
            for c in doc["other_differences"]
        ]
        lines.append("")
    if doc["changes"]:
        lines += _changes(doc["changes"])
    if doc["incomplete"]:
        lines += ["_Incomplete: some checks could not be verified (see above)._", ""]
    return "\n".join(lines)


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _status(status: dict[str, Any], target: str) -> list[str]:
    lines = ["## Observed status", ""]
    if not status.get("known"):
        return [*lines, f"Status of `{target}` not in the evidence: {status.get('reason')}.", ""]
    ready = {True: "ready", False: "**not ready**", None: "reconciling"}[status.get("ready")]
    lines.append(
        f"- `{target}` is {ready}; latest created revision `{status.get('latest_created_revision')}`, "
        + latest_ready(status, "`")
    )
    if status.get("reason") or status.get("message"):
        lines.append("- " + ": ".join(str(part) for part in (status.get("reason"), status.get("message")) if part))
    traffic = ", ".join(f"{t['percent']}% → `{t['revision']}`" for t in status.get("traffic") or [])
    if traffic:
        lines.append(f"- traffic: {traffic}")
    if status.get("deploy_note"):
        lines.append(f"- {status['deploy_note']}")
    return [*lines, ""]


def _finding(number: int, finding: dict[str, Any]) -> list[str]:
    lines = [
        f"### {number}. [{finding['severity'].upper()}] {_subject(finding)}{finding['title']} (`{finding['rule']}`)",
        "",
        finding["explanation"],
        "",
    ]
    lines += [f"- confirmed: {c}" for c in finding["confirmations"]]
    if finding["peers"]:
        lines.append(f"- peers: {finding['peers']}")
    if finding["evidence"]:
        lines += ["", "| what | baseline | target | source |", "|---|---|---|---|"]
        for e in finding["evidence"]:
            source = "; ".join(f"{side}: `{s}`" for side, s in e["source"].items() if s)
            cells = _cells(display(e["baseline"]), display(e["target"]))
            lines.append(f"| `{display_path(e['path'])}` | {cells} | {source} |")
    lines.append("")
    for kind, command in finding["remediation"].items():
        lines.append(f"**Fix ({kind}):** `{command}`  ")
    lines += [f"Docs: {finding['docs']}", ""]
    return lines


def _subject(finding: dict[str, Any]) -> str:
    return f"`{finding['subject']}`: " if finding["subject"] else ""


def _changes(changes: list[dict[str, Any]]) -> list[str]:
    """Informational, not findings: one table per pair of snapshots, under the two timestamps."""
    lines = ["## Changes since the previous snapshot", ""]
    for (before, after), group in snapshot_pairs(changes):
        lines += [f"Between the snapshots of {before} and {after}:", ""]
        lines += ["| service | path | from | to |", "|---|---|---|---|"]
        for c in group:
            service = f"`{_escape(c['service'])}`" if c["service"] else "—"
            path = _escape(display_path(c["path"]))
            lines.append(f"| {service} | `{path}` | {_cells(*change_cells(c['from'], c['to']))} |")
        lines.append("")
    return lines


def _cells(*cells: str) -> str:
    return " | ".join(_escape(cell) for cell in cells)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
