"""What a rule runs on, a compared pair (a target and one baseline, or the target alone), and what it returns: hits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftcheck.compare.diff import Change
from driftcheck.model import Service
from driftcheck.ruleset.batch import PairContext
from driftcheck.ruleset.findings import Finding
from driftcheck.ruleset.logs import LogEvidence


@dataclass(frozen=True)
class Pair:
    target: Service
    baseline: Service | None
    variables: dict[str, Any]
    changes: list[Change]
    cel: PairContext  # one CEL context for every rule on this pair (see ruleset/batch.py)
    logs: LogEvidence | None = None  # the target's recent logs and its peers', for `log_match` (ruleset/logs.py)


@dataclass(frozen=True)
class Hit:
    key: str
    baseline: str | None
    finding: Finding
    subject: Any  # the hit's item or change: what a rule's `summary` lists as `items`
    pair: Pair
