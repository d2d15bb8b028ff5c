"""`--format markdown`: a report to paste into an incident document or post on a pull request.

Read on a phone as well as a desktop: a one-line verdict first (`❌ 1 new finding (high) · 3 known · 1 fixed`: the
findings that decide the gate, `--fail-on` deciding the mark; known and fixed with a baseline file); each finding's
heading says new or known when a baseline file is used; evidence and other differences are lists inside collapsible
`<details>` blocks, never wide tables.

Evidence is data, never markup: names, paths, sources and commands are code spans (a fence longer than any
backtick they hold), every other value has its Markdown characters escaped (no HTML such as `<script>`, no image
`![](http://...)` that a viewer would fetch, no `|` that ends a table cell), and control characters are escaped as
in the table (report/escape.py).
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.escape import printable_tree
from driftcheck.report import document, logs_text
from driftcheck.report.document import change_cells, display, display_path, snapshot_pairs
from driftcheck.ruleset.findings import SEVERITIES, Result

# Markdown's inline markup: a `]` only where it would end a link, an image or a link definition (`](`, `][`, `]:`),
# so `[REDACTED]` reads as written; `_` only where it can open or close emphasis (`_x_`, not `private_ranges_only`).
_MARKUP = re.compile(r"[\\`*<>|~]|\](?=[(\[:])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_BACKTICKS = re.compile(r"`+")


def _paths(paths: list[dict[str, Any]]) -> list[str]:
    """Each network path on one line (✓ verified, ✗ broken, ? unknown), then what breaks it or cannot be told."""
    if not paths:
        return []
    lines = ["## Network paths (✓ verified, ✗ broken, (?) not in the evidence)", ""]
    for path in paths:
        lines.append(f"- {_text(path['line'])}")
        for hop in path["hops"]:
            if hop["state"] == "broken":
                lines.append(f"  - ✗ {_text(hop['label'])}: {_text(hop['detail'])}")
            elif hop["state"] == "unknown":
                export = f" (export: {_code(hop['export'])})" if hop["export"] else ""
                lines.append(f"  - (?) {_text(hop['label'])}: {_text(hop['detail'])}{export}")
    return [*lines, ""]


def render(result: Result, fail_on: str = "high") -> str:
    doc = printable_tree(document.build(result))
    compared = f" compared with {_names(doc['baselines'])}" if doc["baselines"] else ""  # an audit: none
    lines = [_verdict(doc, fail_on), "", f"# driftcheck: {_code(doc['target'])}{compared}", ""]
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
    lines += _paths(doc["paths"])
    if doc["logs"]:
        lines += [f"## {logs_text.HEADING}", ""]
        lines += ["  " * (level - 1) + f"- {_text(line)}" for level, line in logs_text.log_lines(doc["logs"])]
        lines.append("")
    if doc["baseline"] and doc["baseline"]["fixed"]:
        lines += [f"## Fixed: listed in {_code(doc['baseline']['file'])}, no longer found", ""]
        fixed = doc["baseline"]["fixed"]
        lines += [f"- {_code(e['subject'])}: {_text(e['reason'])} ({_code(e['rule'])})" for e in fixed]
        lines.append("")
    if doc["unverified"]:
        lines += ["## Could not verify", ""]
        lines += [
            f"- **{_text(u['rule'])}**: {_text(u['reason'])}" + (f" ({_text(u['hint'])})" if u["hint"] else "")
            for u in doc["unverified"]
        ]
        lines.append("")
    if doc["other_differences"]:
        count = len(doc["other_differences"])
        lines += ["## Other differences (no rule matched)", "", *_open(f"{count} difference{'s' * (count != 1)}")]
        for c in doc["other_differences"]:
            before, after = change_cells(c["baseline"], c["target"])
            lines.append(f"- {_code(display_path(c['path']))}: baseline {_text(before)}, target {_text(after)}")
        lines += [*_close(), ""]
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


def _verdict(doc: dict[str, Any], fail_on: str) -> str:
    """`❌ 1 new finding (high) · 3 known · 1 fixed`: the findings that decide the gate (with a baseline file, the new
    ones), ❌ when one is at or above --fail-on."""
    known = doc["baseline"]
    deciding = [f for f in doc["findings"] if f["baseline"] != "known"]
    fails = fail_on != "none" and any(SEVERITIES.index(f["severity"]) <= SEVERITIES.index(fail_on) for f in deciding)
    found = [f["severity"] for f in deciding]
    severities = ", ".join(f"{found.count(s)} {s}" if len(set(found)) > 1 else s for s in SEVERITIES if s in found)
    noun = "new finding" if known else "finding"
    said = f"{len(found)} {noun}{'s' * (len(found) != 1)} ({severities})" if found else f"no {noun}"
    parts = [f"{'❌' if fails else '✅'} {said}"]
    if known:
        parts += [f"{known['counts']['known']} known", f"{known['counts']['fixed']} fixed"]
    if doc["unverified"]:
        parts.append(f"{len(doc['unverified'])} not verified")
    return " · ".join(parts)


def _finding(number: int, finding: dict[str, Any]) -> list[str]:
    heading = f"{_subject(finding)}{_text(finding['title'])} ({_code(finding['rule'])})"
    state = f", {finding['baseline']}" if finding["baseline"] else ""  # with a baseline file: new or known
    lines = [f"### {number}. [{finding['severity'].upper()}{state}] {heading}", "", _text(finding["explanation"]), ""]
    lines += [f"- confirmed: {_text(c)}" for c in finding["confirmations"]]
    if finding["peers"]:
        lines.append(f"- peers: {_text(finding['peers'])}")
    if finding["evidence"]:
        lines += ["", *_open(f"Evidence ({len(finding['evidence'])})")]
        for e in finding["evidence"]:
            lines.append(f"- {_code(display_path(e['path']))}: {_sides(e['baseline'], e['target'])}")
            lines += [f"  - {side}: {_code(s)}" for side, s in e["source"].items() if s]
        lines += _close()
    lines.append("")
    for kind, command in finding["remediation"].items():
        lines.append(f"**Fix ({_text(kind)}):** {_code(command)}  ")
    lines += [f"Docs: {finding['docs']}", ""]
    return lines


def _sides(baseline: Any, target: Any) -> str:
    return f"baseline {_text(display(baseline))}, target {_text(display(target))}"


def _open(summary: str) -> list[str]:
    """A collapsible block: GitHub, GitLab and most viewers render Markdown inside it after a blank line."""
    return ["<details>", f"<summary>{_text(summary)}</summary>", ""]


def _close() -> list[str]:
    return ["", "</details>"]


def _subject(finding: dict[str, Any]) -> str:
    return f"{_code(finding['subject'])}: " if finding["subject"] else ""


def _changes(changes: list[dict[str, Any]]) -> list[str]:
    """Informational, not findings: one table per pair of snapshots, under the two timestamps."""
    lines = ["## Changes since the previous snapshot", ""]
    for (before, after), group in snapshot_pairs(changes):
        lines += [f"Between the snapshots of {before} and {after}:", ""]
        for c in group:
            service = f"{_code(c['service'])} " if c["service"] else ""
            old, new = change_cells(c["from"], c["to"])
            lines.append(f"- {service}{_code(display_path(c['path']))}: {_text(old)} → {_text(new)}")
        lines.append("")
    return lines


def _latest_ready(revision: Any) -> str:
    """A failed first revision has no ready revision: say so, never "latest ready None"."""
    return f"latest ready {_code(revision)}" if revision else "no ready revision"


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
