"""A findings baseline file (`--baseline-file`, written by `--update-baseline`): the findings a CI gate knows of, so
it fails only on a new one. Reviewable in a pull request: JSON, one finding per entry, sorted, stable bytes:

    {
      "version": 1,
      "findings": [
        {"rule": "...", "subject": "api", "reason": "No VPC access where the peer has it", "fingerprint": "..."}
      ]
    }

- `fingerprint` (32 lowercase hex) is the finding's identity (report/fingerprint.py), the one SARIF carries; it is
  all that matching reads. `rule` and `subject` (the compared service, or an audit's project/region/service) say
  what it is; `reason` is the finding's title when written, and may be edited to say why it is accepted: an update
  keeps the reason of an entry it keeps.
- entries are sorted by subject, rule and fingerprint, so an update's diff shows only what changed.
- anything else is an input error naming the file and the field: not JSON, another version, a missing or mistyped
  field, a fingerprint of another form, one listed twice, a string with a control character or over 1,000
  characters, more than 100,000 entries, or a file over 10 MB.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.report import document
from driftcheck.ruleset.findings import Finding, FindingsBaseline, KnownFinding, Result

VERSION = 1
FIELDS = ("rule", "subject", "reason", "fingerprint")
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_BYTES = 10 * 1024 * 1024
_MAX_ENTRIES = 100_000
_MAX_TEXT = 1_000


def read(path: Path) -> FindingsBaseline:
    """The baseline file at `path`; any problem with it is one InputError naming the file and the field."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise InputError(f"baseline file of {size} bytes, over the 10 MB limit", file=name)
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError("no such baseline file (write it with --update-baseline)", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the baseline file: {exc}", file=name) from None
    return parse(text, name)


def parse(text: str, name: str) -> FindingsBaseline:
    try:
        raw = json.loads(text, object_pairs_hook=_no_repeated_key)
    except RecursionError:
        raise InputError("not a driftcheck baseline file: nested too deep", file=name) from None
    except ValueError as exc:
        raise InputError(f"not a driftcheck baseline file: not JSON ({exc})", file=name) from None
    if not isinstance(raw, dict):
        raise InputError("not a driftcheck baseline file: expected a JSON object", file=name)
    version = raw.get("version")
    if type(version) is not int or version != VERSION:
        raise InputError(f"expected version {VERSION}, found {_shown(version)}", file=name, where="version")
    unknown = sorted(set(raw) - {"version", "findings"})
    if unknown:
        raise InputError("unknown field (expected version and findings)", file=name, where=_shown(unknown[0]))
    findings = raw.get("findings")
    if not isinstance(findings, list):
        raise InputError(f"expected a list, found {_shown(findings)}", file=name, where="findings")
    if len(findings) > _MAX_ENTRIES:
        raise InputError(f"{len(findings)} entries, over the limit of {_MAX_ENTRIES}", file=name, where="findings")
    known, seen = [], set[str]()
    for number, entry in enumerate(findings):
        item = _entry(entry, name, f"findings[{number}]")
        if item.fingerprint in seen:
            raise InputError("fingerprint listed twice", file=name, where=f"findings[{number}].fingerprint")
        seen.add(item.fingerprint)
        known.append(item)
    return FindingsBaseline(file=name, known=tuple(known))


def render(result: Result, previous: FindingsBaseline | None = None) -> str:
    """The baseline file for the run's findings, sorted; an entry the previous file had keeps its reason."""
    doc = document.build(result)
    reasons = {entry.fingerprint: entry.reason for entry in previous.known} if previous else {}
    entries = [document.baseline_entry(finding, doc["target"]) for finding in doc["findings"]]
    for entry in entries:
        entry["reason"] = reasons.get(entry["fingerprint"], entry["reason"])
    entries.sort(key=lambda e: (e["subject"], e["rule"], e["fingerprint"]))
    return json.dumps({"version": VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"


def _entry(entry: Any, name: str, where: str) -> KnownFinding:
    if not isinstance(entry, dict):
        raise InputError(f"expected an object, found {_shown(entry)}", file=name, where=where)
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown field (expected {', '.join(FIELDS)})", file=name, where=f"{where}.{unknown[0]}")
    values = {}
    for field in FIELDS:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"expected a non-empty string, found {_shown(value)}", file=name, where=f"{where}.{field}")
        if len(value) > _MAX_TEXT or _CONTROL.search(value):
            raise InputError("a control character, or over 1000 characters", file=name, where=f"{where}.{field}")
        values[field] = value
    if not _FINGERPRINT.fullmatch(values["fingerprint"]):
        raise InputError("expected 32 lowercase hex digits", file=name, where=f"{where}.fingerprint")
    return KnownFinding(**values)


def _no_repeated_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} repeated in one object")
        seen.add(key)
    return dict(pairs)


def _shown(value: Any) -> str:
    """A value the file holds, as a message may quote it: its type for a container, at most 40 characters."""
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def gating(result: Result) -> tuple[Finding, ...]:
    """The findings that may fail the gate: every one, or with a baseline file only the new ones."""
    if result.findings_baseline is None:
        return result.findings
    states = [finding["baseline"] for finding in document.build(result)["findings"]]
    return tuple(finding for finding, state in zip(result.findings, states, strict=True) if state == "new")


def summary(result: Result) -> str:
    """`1 new, 3 known, 1 fixed`, or '' with no baseline file."""
    section = document.build(result)["baseline"] if result.findings_baseline else None
    return counted(section["counts"]) if section else ""


def counted(counts: dict[str, int]) -> str:
    return f"{counts['new']} new, {counts['known']} known, {counts['fixed']} fixed"
