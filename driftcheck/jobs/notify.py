"""`--webhook URL`: after the report is written, POST a short JSON summary of it; Slack shows its `text` field.

Built from the redacted report document, so a credential cannot leak through a chat. Posting is the last step and
its failure is only a warning: the report and the snapshot are already safe. A webhook URL usually carries its
own secret (Slack's does), so an error names only the host.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from driftcheck import __version__
from driftcheck.report import document
from driftcheck.ruleset.findings import SEVERITIES, Result

TIMEOUT_S = 10.0
LISTED = 10  # findings named in the summary; the report has them all


def summary(result: Result, fail_on: str, reports: list[str]) -> dict[str, Any]:
    built = document.build(result)
    findings = built["findings"]
    counts = Counter(f["severity"] for f in findings)
    failing = fail_on != "none" and any(SEVERITIES.index(s) <= SEVERITIES.index(fail_on) for s in counts)
    payload = {
        "tool": {"name": "driftcheck", "version": __version__},
        "target": built["target"],
        "verdict": "failing" if failing else "passing",
        "fail_on": fail_on,
        "incomplete": built["incomplete"],
        "counts": {severity: counts[severity] for severity in SEVERITIES},
        "findings": [
            {"rule": f["rule"], "severity": f["severity"], "subject": f.get("subject"), "title": f["title"]}
            for f in findings[:LISTED]
        ],
        "changes": len(built.get("changes") or ()),
        "unread": len(result.unread),
        "reports": reports,
    }
    payload["text"] = _text(payload, findings)
    return payload


def _text(payload: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    counted = ", ".join(f"{n} {severity}" for severity, n in payload["counts"].items() if n)
    head = f"driftcheck {payload['target']}: {payload['verdict']}"
    head += f" — {len(findings)} findings ({counted})" if findings else " — no findings"
    if payload["changes"]:
        head += f", {payload['changes']} changes since the previous snapshot"
    if payload["incomplete"]:
        head += f"; incomplete ({payload['unread']} resources could not be read)"
    lines = [head]
    lines += [
        f"• {f['severity'].upper()} {f['subject'] + ': ' if f.get('subject') else ''}{f['title']}"
        for f in findings[:LISTED]
    ]
    if len(findings) > LISTED:
        lines.append(f"… and {len(findings) - LISTED} more in the report")
    lines += [f"report: {report}" for report in payload["reports"]]
    return "\n".join(lines)


def post(url: str, payload: dict[str, Any], timeout: float = TIMEOUT_S) -> str | None:
    """POST the payload; None when it was accepted (2xx), otherwise why not, without the URL's secret parts."""
    host = urlsplit(url).netloc or "the webhook"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": f"driftcheck/{__version__}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the caller allows http(s) only
            response.read()
    except urllib.error.HTTPError as exc:
        return f"webhook {host} answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"webhook {host} could not be reached ({reason})"
    return None
