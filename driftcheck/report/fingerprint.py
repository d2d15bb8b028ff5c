"""A finding's fingerprint: its identity across runs, the one SARIF carries (`partialFingerprints["driftcheck/v1"]`)
and a findings baseline file (`--baseline-file`, report/baseline.py) lists. One function, so the two never disagree.

Identity, not content: a hash of the rule id, what the finding is about and what makes it one finding, never of
values, so a finding keeps its fingerprint while its values change (an image digest, a revision name, an
explanation's wording) and whatever order the evidence listed containers, env vars or services in.
- what makes it one finding: for a group of hits (every hit of one rule on one subject against the same peers is
  one finding, ruleset/causes.py; drifted fields one root cause explains, jobs/drift.py) the group's key
  (`Finding.group`), never its first item: one more missing env var in a known group, or one of them fixed,
  leaves it the same finding (the same cause, the same merged fix), where its first path would have changed with
  whichever name sorted first. A finding of one item by design (a peer-group outlier, one drifted field) is
  keyed by its first evidence path.
- what it is about: the finding's subject when it has one (an audit: project/region/service, which no change of
  the audit's scope moves), else the compared service: the target's name without what a live run adds to name a
  revision (`api@latest (api-00042-xyz)`, `api@api-00042-xyz`: `api`).
- a second finding of the same rule on the same first path (it should not happen, but two alerts must never merge)
  gets a counter, in rank order.
"""

from __future__ import annotations

import hashlib
from typing import Any

FINGERPRINT_KEY = "driftcheck/v1"


def service_of(target: str) -> str:
    """The service a compare's target names, without the revision a live run may add."""
    return target.split(" (", 1)[0].split("@", 1)[0]


def fingerprints(findings: list[dict[str, Any]], target: str, groups: list[str | None]) -> list[str]:
    """The fingerprint of each finding of a document (report/document.py), in its order; `groups`: each one's
    `Finding.group`."""
    seen: set[str] = set()
    return [_fingerprint(finding, target, group, seen) for finding, group in zip(findings, groups, strict=True)]


def subject_of(finding: dict[str, Any], target: str) -> str:
    """What a finding is about, as a fingerprint and a baseline entry name it."""
    return str(finding["subject"]) if finding["subject"] else service_of(target)


def _fingerprint(finding: dict[str, Any], target: str, group: str | None, seen: set[str]) -> str:
    path = finding["evidence"][0]["path"] if finding["evidence"] else ""
    what = path if group is None else f"group\0{group}"  # never equal to a path: a canonical path has no NUL
    key, counter = "\0".join((finding["rule"], subject_of(finding, target), what)), 1
    while (digest := hashlib.sha256(f"{key}\0{counter}".encode()).hexdigest()[:32]) in seen:
        counter += 1
    seen.add(digest)
    return digest
