"""The compared services' recent logs in a report: a few top signatures each, one line per signature.

Every text here comes from the report document (report/document.py), so it is redacted already; the document
carries signatures (normalised text, count, first and last time, one redacted example), never raw entries.
"""

from __future__ import annotations

from typing import Any

from driftcheck.ruleset.logs import when

HEADING = "Recent logs (top signatures, most frequent first; ◆ only the target logs it)"


def log_lines(logs: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(indent level, text): a line per service, then a line per signature shown."""
    lines: list[tuple[int, str]] = []
    for service in logs:
        if not service["known"]:
            lines.append((1, f"{service['service']}: not known ({service['reason']})"))
            continue
        window = _window(service["first"], service["last"])
        cut = ", more matched than were read" if service["truncated"] else ""
        lines.append((1, f"{service['service']}: {service['entries']} entries{window}{cut}"))
        for signature in service["signatures"]:
            lines.append((2, signature_line(signature)))
        if service["more"]:
            lines.append((2, f"… {service['more']} more signatures"))
    return lines


def signature_line(signature: dict[str, Any]) -> str:
    only = "◆ " if signature["in_peers"] == 0 else ""
    to = f" → {signature['destination']}" if signature["destination"] else ""
    window = _window(signature["first"], signature["last"])
    said = f"{signature['count']} × {signature['severity']} {signature['log']}: {signature['example']}"
    return f"{only}{said}{to}{window}"


def _window(first: str | None, last: str | None) -> str:
    if not first or not last:
        return ""
    start, end = when(first, first), when(last, last)
    if start == end:
        return f" ({start})"
    return f" ({start.removesuffix(' UTC')} – {end})" if end.endswith(" UTC") else f" ({start} – {end})"
