"""`--format junit`: JUnit XML for CI test dashboards (GitLab, Jenkins, Azure DevOps, GitHub test reporters).

Built from the redacted document (report/document.py). What a dashboard shows agrees with the exit code, so the
report takes the run's `--fail-on` (default high):
- `<testsuites>` holding one `<testsuite name="driftcheck">`, whose `<properties>` say target, baselines, fail-on
  and incomplete.
- one `<testcase>` per finding, named `RULE (FIRST EVIDENCE PATH)` (the identity SARIF fingerprints, stable across
  runs, so a dashboard keeps its history), `SUBJECT: RULE (FIRST EVIDENCE PATH)` when the finding names the service
  it is about (an audit, which covers many), class `driftcheck.TARGET`:
  - at or above `--fail-on`: a `<failure type="SEVERITY" message="TITLE">` whose text is the explanation, the
    evidence (both values and their sources) and the fix;
  - below it, or known (listed in the `--baseline-file`): a passing testcase with the same text in `<system-out>`,
    so a low or known finding is seen but not red;
- one skipped testcase per check that could not be verified, `RULE (could not verify)`, with the reason and hint:
  not checked is neither a pass nor a failure;
- when no finding fails the run, one passing testcase `no failing finding`, so a clean run still counts one test
  and a dashboard can chart the gate itself;
- an audit's changes since the previous snapshot, which are not tests, in the suite's `<system-out>`, one a line.
The `baselines` property is left out when there are none (an audit).
No timestamps or durations: the same evidence gives the same bytes (the goldens rely on it).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from driftcheck.report import document
from driftcheck.report.document import change_cells, display, display_path, snapshot_pairs
from driftcheck.ruleset.findings import SEVERITIES, Result

CLEAN = "no failing finding"
# Characters XML 1.0 cannot carry at all, even escaped: an env value may hold one; the parser would refuse the file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(result: Result, fail_on: str = "high") -> str:
    doc = document.build(result)
    suite = ET.Element("testsuite", name="driftcheck")
    _properties(suite, doc, fail_on)
    failures = 0
    for finding in doc["findings"]:
        fails = _fails(finding["severity"], fail_on) and finding["baseline"] != "known"  # known: never fails
        failures += _finding(suite, finding, doc["target"], fails)
    for unverified in doc["unverified"]:
        _unverified(suite, unverified, doc["target"])
    if not failures:
        _clean(suite, doc["target"], fail_on)
    if doc["changes"]:
        ET.SubElement(suite, "system-out").text = _text(_changes(doc["changes"]))
    counts = _counts(suite, failures)
    suite.attrib.update(counts)
    root = ET.Element("testsuites", {"name": "driftcheck", **counts})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _fails(severity: str, fail_on: str) -> bool:
    return fail_on != "none" and SEVERITIES.index(severity) <= SEVERITIES.index(fail_on)


def _properties(suite: ET.Element, doc: dict[str, Any], fail_on: str) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {
        "target": doc["target"],
        **({"baselines": ", ".join(doc["baselines"])} if doc["baselines"] else {}),
        "fail-on": fail_on,
        "incomplete": str(doc["incomplete"]).lower(),
    }
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=_text(value))


def _finding(suite: ET.Element, finding: dict[str, Any], target: str, fails: bool) -> int:
    about = f"{finding['subject']}: " if finding["subject"] else ""
    where = f" ({display_path(finding['evidence'][0]['path'])})" if finding["evidence"] else ""
    name = about + finding["rule"] + where
    case = _case(suite, target, name)
    if fails:
        failure = ET.SubElement(case, "failure", type=finding["severity"], message=_text(about + finding["title"]))
        failure.text = _text(_body(finding))
    else:
        out = ET.SubElement(case, "system-out")
        out.text = _text(f"[{finding['severity'].upper()}] {about}{finding['title']}\n{_body(finding)}")
    return int(fails)


def _body(finding: dict[str, Any]) -> str:
    lines = [finding["explanation"], ""]
    if finding["peers"]:
        lines.append(f"Peers: {finding['peers']}")
    lines += [f"Confirmed: {c}" for c in finding["confirmations"]]
    for e in finding["evidence"]:
        path = display_path(e["path"])
        lines.append(f"Evidence {path}: baseline {display(e['baseline'])}, target {display(e['target'])}")
        lines += [f"  {side} source: {source}" for side, source in e["source"].items() if source]
    lines += [f"Fix ({kind}): {command}" for kind, command in finding["remediation"].items()]
    if finding["docs"]:
        lines.append(f"Docs: {finding['docs']}")
    return "\n".join(lines)


def _changes(changes: list[dict[str, Any]]) -> str:
    lines = ["Changes since the previous snapshot:"]
    for (before, after), group in snapshot_pairs(changes):
        lines.append(f"{before} → {after}")
        for c in group:
            where = " ".join(filter(None, (c["service"], display_path(c["path"]))))
            lines.append(f"  {where}: {' → '.join(change_cells(c['from'], c['to']))}")
    return "\n".join(lines)


def _unverified(suite: ET.Element, unverified: dict[str, Any], target: str) -> None:
    case = _case(suite, target, f"{unverified['rule']} (could not verify)")
    skipped = ET.SubElement(case, "skipped", message=_text(f"could not verify: {unverified['reason']}"))
    skipped.text = _text(f"{unverified['title']}\n{unverified['hint'] or ''}".strip())


def _clean(suite: ET.Element, target: str, fail_on: str) -> None:
    case = _case(suite, target, CLEAN)
    out = ET.SubElement(case, "system-out")
    out.text = "--fail-on none: no finding fails the run" if fail_on == "none" else f"no finding at or above {fail_on}"


def _case(suite: ET.Element, target: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=_text(f"driftcheck.{target}"), name=_text(name))


def _counts(suite: ET.Element, failures: int) -> dict[str, str]:
    cases = suite.findall("testcase")
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    return {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}


def _text(value: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", value)
