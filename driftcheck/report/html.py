"""`--format html`: one self-contained page to open in a browser during an incident.

Nothing is fetched: the CSS is inline, there is no font, image or script to load, so the file opens offline and
from a mail attachment. Every value from the evidence goes through `html.escape`: a `<script>` in an env var or
a status message is text, never markup. No timestamp is written, so the same result gives the same bytes.
"""

from __future__ import annotations

import html
from typing import Any

from driftcheck.report import document
from driftcheck.report.document import change_cells, display, display_path, heading, latest_ready, snapshot_pairs
from driftcheck.ruleset.findings import Result

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #111111; --muted: #4a4a4a; --line: #c8c8c8;
  --panel: #f3f4f6; --code: #eef0f3; --ok: #0a6b2d; --bad: #b00020; --warn: #7a4b00; --link: #0645ad; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1115; --fg: #f2f2f2; --muted: #b8b8b8; --line: #3a3f47; --panel: #1a1d23; --code: #23272f;
    --ok: #5fd38a; --bad: #ff6b7d; --warn: #ffc266; --link: #8ab4ff; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
code { overflow-wrap: anywhere; }
pre { background: var(--code); padding: .6rem .8rem; border-radius: 4px; white-space: pre-wrap;
  overflow-wrap: anywhere; margin: .25rem 0 .75rem; }
a { color: var(--link); }
.banner { border: 2px solid var(--warn); color: var(--warn); padding: .5rem .8rem; border-radius: 4px;
  font-weight: 600; margin: .5rem 0; }
.notes { color: var(--muted); margin: 0; padding-left: 1.2rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; }
.panel ul { margin: 0; padding-left: 1.2rem; }
.ready { color: var(--ok); font-weight: 700; }
.not-ready, .failed { color: var(--bad); font-weight: 700; }
.reconciling { color: var(--warn); font-weight: 700; }
details.finding { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; margin: .75rem 0;
  background: var(--panel); }
details.finding > summary { cursor: pointer; padding: .6rem 1rem; font-size: 1.1rem; font-weight: 600;
  overflow-wrap: anywhere; }
details.finding > .body { padding: 0 1rem .75rem; }
details.critical { border-left-color: #d00020; } details.high { border-left-color: #e05a00; }
details.medium { border-left-color: #c79100; } details.low { border-left-color: #1f78b4; }
details.info { border-left-color: #777777; }
.badge { display: inline-block; min-width: 5.5em; text-align: center; padding: .05rem .45rem; border-radius: 4px;
  font-size: .8rem; font-weight: 800; letter-spacing: .04em; margin-right: .4rem; vertical-align: middle; }
.badge.critical { background: #b00020; color: #ffffff; } .badge.high { background: #c2410c; color: #ffffff; }
.badge.medium { background: #facc15; color: #111111; } .badge.low { background: #1d4ed8; color: #ffffff; }
.badge.info { background: #6b7280; color: #ffffff; }
.rule { color: var(--muted); font-weight: 400; font-size: .9rem; }
.confirmed { color: var(--ok); list-style: none; padding-left: 0; margin: .25rem 0; }
.peers, .docs { color: var(--muted); margin: .25rem 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: var(--code); }
td.source { color: var(--muted); font-size: .85rem; }
table.evidence td.target { font-weight: 700; }
table.evidence col.what { width: 20%; } table.evidence col.value { width: 20%; }
h3 { font-size: 1rem; margin: .75rem 0 .25rem; }
figure.path { margin: .75rem 0; padding: .6rem .8rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--panel); }
figure.path > figcaption { font-weight: 600; margin-bottom: .4rem; overflow-wrap: anywhere; }
ol.hops { display: flex; flex-wrap: wrap; align-items: flex-start; gap: .35rem 0; list-style: none; margin: 0;
  padding: 0; }
ol.hops > li { display: flex; align-items: flex-start; max-width: 17rem; }
ol.hops > li + li::before { content: "→"; color: var(--muted); padding: .35rem .35rem 0; flex: none; }
.hop-body { min-width: 0; }
.hop-box { display: block; border: 2px solid var(--line); border-radius: 6px; padding: .25rem .5rem;
  background: var(--bg); overflow-wrap: anywhere; }
.hop-box .mark { font-weight: 800; margin-right: .3rem; }
li.verified .hop-box { border-color: var(--ok); } li.verified .mark { color: var(--ok); }
li.broken .hop-box { border-color: var(--bad); border-width: 3px; } li.broken .mark { color: var(--bad); }
li.unknown .hop-box { border-color: var(--warn); border-style: dashed; } li.unknown .mark { color: var(--warn); }
li.ends .hop-box { border-style: dotted; color: var(--muted); }
.hop-why { font-size: .8rem; margin: .2rem 0 0; overflow-wrap: anywhere; }
li.broken .hop-why { color: var(--bad); } li.unknown .hop-why { color: var(--warn); }
.hop-why code { color: var(--fg); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
@media (max-width: 700px) {
  body { padding: .5rem; font-size: 15px; }
  table.evidence thead, table.evidence colgroup { display: none; }
  table.evidence, table.evidence tbody { display: block; width: 100%; }
  table.evidence tr { display: block; border: 1px solid var(--line); margin-bottom: .5rem; }
  table.evidence td { display: block; width: 100%; border: 0; border-bottom: 1px solid var(--line); }
  table.evidence td::before { content: attr(data-label) ": "; font-weight: 700; color: var(--fg); }
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render(result: Result) -> str:
    doc = document.build(result)
    title = f"driftcheck: {heading(doc)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        *_banner(doc),
        *_notes(doc["notes"]),
        *_status(doc["status"], doc["target"], bool(doc["baselines"])),
        *_findings(doc["findings"]),
        *_paths(doc["paths"]),
        *_known(doc["baseline"]),
        *_unverified(doc["unverified"]),
        *_others(doc["other_differences"]),
        *_changes(doc["changes"]),
        f"<footer>{_e(doc['tool']['name'])} {_e(doc['tool']['version'])}</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _banner(doc: dict[str, Any]) -> list[str]:
    if not doc["incomplete"]:
        return []
    text = "Incomplete: some checks could not be verified (see “Could not verify” below)."
    return [f'<div class="banner" role="alert">{_e(text)}</div>']


def _known(section: dict[str, Any] | None) -> list[str]:
    """--baseline-file: the counts, and what it listed that is no longer found."""
    if not section:
        return []
    counts = section["counts"]
    said = f"{counts['new']} new, {counts['known']} known, {counts['fixed']} fixed"
    fixed = [f"<li>fixed: {_e(e['subject'])}: {_e(e['reason'])} ({_e(e['rule'])})</li>" for e in section["fixed"]]
    return [f"<p>baseline {_e(section['file'])}: {_e(said)}</p>", *(["<ul>", *fixed, "</ul>"] if fixed else [])]


def _notes(notes: list[str]) -> list[str]:
    if not notes:
        return []
    return ['<ul class="notes">', *(f"<li>{_e(n)}</li>" for n in notes), "</ul>"]


def _status(status: dict[str, Any], target: str, compared: bool = True) -> list[str]:
    if not compared and not status.get("known"):  # an audit: no one target whose status to show
        return [f'<p class="scope">{_e(status.get("reason"))}.</p>']
    head = ["<h2>Observed status</h2>", '<section class="panel status">']
    if not status.get("known"):
        return [*head, f"<p>Status of <code>{_e(target)}</code> not in the evidence: {_e(status.get('reason'))}.</p>",
                "</section>"]  # fmt: skip
    return [*head, "<ul>", *_status_items(status, target), "</ul>", "</section>"]


def _status_items(status: dict[str, Any], target: str) -> list[str]:
    css, word = {True: ("ready", "ready"), False: ("not-ready", "NOT READY"), None: ("reconciling", "reconciling")}[
        status.get("ready")
    ]
    ready = status.get("latest_ready_revision")
    items = [
        f'<li><code>{_e(target)}</code> is <span class="{css}">{word}</span>; latest created revision '
        f"<code>{_e(status.get('latest_created_revision'))}</code>, "
        + (f"latest ready <code>{_e(ready)}</code>" if ready else latest_ready(status))
        + "</li>"
    ]
    if status.get("reason") or status.get("message"):
        reason = f"<strong>{_e(status['reason'])}</strong>: " if status.get("reason") else ""
        items.append(f"<li>{reason}{_e(status.get('message'))}</li>")
    traffic = ", ".join(f"{_e(t['percent'])}% → <code>{_e(t['revision'])}</code>" for t in status.get("traffic") or [])
    if traffic:
        items.append(f"<li>traffic: {traffic}</li>")
    if status.get("deploy_note"):
        items.append(f'<li class="failed">{_e(status["deploy_note"])}</li>')
    return items


def _findings(findings: list[dict[str, Any]]) -> list[str]:
    lines = ["<h2>Findings, most likely root cause first</h2>"]
    if not findings:
        return [*lines, "<p>No finding.</p>"]
    for number, finding in enumerate(findings, 1):
        lines += _finding(number, finding)
    return lines


def _finding(number: int, finding: dict[str, Any]) -> list[str]:
    """A collapsible block; the first (most likely) is open, so the answer is on screen without a click."""
    severity, subject = _e(finding["severity"]), finding["subject"]
    about = f'<code class="subject">{_e(subject)}</code>: ' if subject else ""
    summary = (
        f'<summary><span class="badge {severity}">{_e(finding["severity"].upper())}</span>'
        f'{number}. {about}{_e(finding["title"])} <span class="rule">(<code>{_e(finding["rule"])}</code>)</span>'
        "</summary>"
    )
    data = f' data-rule="{_e(finding["rule"])}"' + (f' data-subject="{_e(subject)}"' if subject else "")
    return [
        f'<details class="finding {severity}"{data}{" open" if number == 1 else ""}>',
        summary,
        '<div class="body">',
        f'<p class="explanation">{_e(finding["explanation"])}</p>',
        *_why(finding),
        *_evidence(finding["evidence"]),
        *_remediation(finding["remediation"]),
        f'<p class="docs">Docs: <a href="{_e(finding["docs"])}">{_e(finding["docs"])}</a></p>',
        "</div>",
        "</details>",
    ]


def _why(finding: dict[str, Any]) -> list[str]:
    lines = []
    if finding["confirmations"]:
        lines += ['<ul class="confirmed">', *(f"<li>✓ confirmed: {_e(c)}</li>" for c in finding["confirmations"]),
                  "</ul>"]  # fmt: skip
    if finding["peers"]:
        lines.append(f'<p class="peers">peers: {_e(finding["peers"])}</p>')
    return lines


def _evidence(evidence: list[dict[str, Any]]) -> list[str]:
    if not evidence:
        return []
    rows = [
        "<tr>"
        f'<td data-label="what"><code>{_e(display_path(e["path"]))}</code></td>'
        f'<td data-label="baseline">{_e(display(e["baseline"]))}</td>'
        f'<td data-label="target" class="target">{_e(display(e["target"]))}</td>'
        f'<td data-label="source" class="source">{_source(e["source"])}</td>'
        "</tr>"
        for e in evidence
    ]
    head = "<thead><tr><th>what</th><th>baseline</th><th>target</th><th>source</th></tr></thead>"
    cols = '<colgroup><col class="what"><col class="value"><col class="value"><col></colgroup>'
    return ['<div class="table-wrap"><table class="evidence">', cols, head, "<tbody>", *rows, "</tbody></table></div>"]


def _source(source: dict[str, str | None]) -> str:
    return "<br>".join(f"{_e(side)}: <code>{_e(where)}</code>" for side, where in source.items() if where)


def _remediation(remediation: dict[str, str]) -> list[str]:
    lines = []
    for kind, command in remediation.items():
        lines += [f"<h3>Fix ({_e(kind)})</h3>", f'<pre class="fix"><code>{_e(command)}</code></pre>']
    return lines


_HOP_MARK = {"verified": "✓", "broken": "✗", "unknown": "?"}
_HOP_STATE = {"verified": "verified", "broken": "broken", "unknown": "not in the evidence"}


def _paths(paths: list[dict[str, Any]]) -> list[str]:
    """Each network path as a row of boxes, one per hop, marked and coloured by state (the mark and a hidden word
    say it without colour); under a broken hop what breaks it and the fields read, under an unknown one what
    cannot be told and the export that would tell it. Plain HTML and CSS: no script, no image."""
    if not paths:
        return []
    lines = ['<h2 id="paths">Network paths</h2>',
             '<p class="legend">✓ verified, ✗ broken, ? not in the evidence</p>']  # fmt: skip
    for path in paths:
        lines += _path(path)
    return lines


def _path_end(path: dict[str, Any]) -> str:
    """What the path reaches, as its line ends: `Cloud SQL staging-shared-postgres 10.20.0.3:5432`."""
    end = path["destination"] if path["destination"] == path["address"] else f"{path['destination']} {path['address']}"
    return end + (f":{path['port']}" if path["port"] and path["kind"] in ("sql", "redis", "private") else "")


def _path(path: dict[str, Any]) -> list[str]:
    end = _path_end(path)
    said = {"broken": f"broken at {path['breaks_at']}", "unknown": "not fully in the evidence"}.get(
        path["state"], "verified"
    )
    label = f"{path['service']} to {end}, hop by hop: {said}"
    hops = [_hop(hop) for hop in path["hops"]]
    return [
        f'<figure class="path {_e(path["state"])}" data-service="{_e(path["service"])}">',
        f"<figcaption><code>{_e(path['service'])}</code> → {_e(end)}: {_e(said)}</figcaption>",
        f'<ol class="hops" aria-label="{_e(label)}">',
        f'<li class="ends"><span class="hop-box">{_e(path["service"])}</span></li>',
        *hops,
        f'<li class="ends"><span class="hop-box">{_e(end)}</span></li>',
        "</ol>",
        "</figure>",
    ]


def _hop(hop: dict[str, Any]) -> str:
    state = hop["state"]
    why = ""
    if state == "broken":
        fields = "".join(f" <code>{_e(field)}</code>" for field in hop["evidence"])
        why = f'<p class="hop-why">{_e(hop["detail"])}' + (f" (read from{fields})" if fields else "") + "</p>"
    elif state == "unknown":
        export = f" Export: <code>{_e(hop['export'])}</code>" if hop["export"] else ""
        why = f'<p class="hop-why">{_e(str(hop["detail"]).rstrip("."))}.{export}</p>'
    return (
        f'<li class="hop {_e(state)}" data-kind="{_e(hop["kind"])}"><div class="hop-body">'
        f'<span class="hop-box" title="{_e(hop["detail"])}"><span class="mark" aria-hidden="true">'
        f"{_HOP_MARK.get(state, '?')}</span>{_e(hop['label'])}"
        f'<span class="sr-only"> ({_e(_HOP_STATE.get(state, state))})</span></span>{why}</div></li>'
    )


def _unverified(unverified: list[dict[str, Any]]) -> list[str]:
    if not unverified:
        return []
    items = [
        f"<li><strong><code>{_e(u['rule'])}</code></strong>: {_e(u['reason'])}"
        + (f" <em>({_e(u['hint'])})</em>" if u["hint"] else "")
        + "</li>"
        for u in unverified
    ]
    return ['<h2 id="unverified">Could not verify</h2>', '<ul class="unverified">', *items, "</ul>"]


def _others(changes: list[dict[str, Any]]) -> list[str]:
    if not changes:
        return []
    rows = []
    for change in changes:
        baseline, target = change_cells(change["baseline"], change["target"])
        path = _e(display_path(change["path"]))
        rows.append(f"<tr><td><code>{path}</code></td><td>{_e(baseline)}</td><td>{_e(target)}</td></tr>")
    head = "<thead><tr><th>path</th><th>baseline</th><th>target</th></tr></thead>"
    return ["<h2>Other differences (no rule matched)</h2>", '<div class="table-wrap"><table class="others">', head,
            "<tbody>", *rows, "</tbody></table></div>"]  # fmt: skip


def _changes(changes: list[dict[str, Any]]) -> list[str]:
    """Informational, not findings: one table per pair of snapshots, its two timestamps in the caption."""
    if not changes:
        return []
    lines = ['<h2 id="changes">Changes since the previous snapshot</h2>']
    head = "<thead><tr><th>service</th><th>path</th><th>from</th><th>to</th></tr></thead>"
    for (before, after), group in snapshot_pairs(changes):
        rows = []
        for change in group:
            old, new = change_cells(change["from"], change["to"])
            service = f"<code>{_e(change['service'])}</code>" if change["service"] else "—"
            path = _e(display_path(change["path"]))
            rows.append(f'<tr data-kind="{_e(change["kind"])}"><td>{service}</td><td><code>{path}</code>'
                        f"</td><td>{_e(old)}</td><td>{_e(new)}</td></tr>")  # fmt: skip
        caption = (f'<caption><time datetime="{_e(before)}">{_e(before)}</time> → '
                   f'<time datetime="{_e(after)}">{_e(after)}</time></caption>')  # fmt: skip
        lines += ['<div class="table-wrap"><table class="changes">', caption, head, "<tbody>", *rows,
                  "</tbody></table></div>"]  # fmt: skip
    return lines
