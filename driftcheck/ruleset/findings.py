"""What the engine hands to reporters: ranked findings with evidence, and what could not be verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing them would load deepdiff, the network paths and the fixes for
    # every command that names a severity (cli/app.py), where a run needs none of them
    from driftcheck.compare.diff import Change
    from driftcheck.compare.timeline_change import TimelineChange
    from driftcheck.paths import NetworkPath
    from driftcheck.ruleset.fixes import FixAction
    from driftcheck.ruleset.logs import LogDigest

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Evidence:
    path: str  # canonical path (or a label for a cross-resource fact)
    baseline: Any
    target: Any
    baseline_source: str | None
    target_source: str | None


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    title: str
    explanation: str
    evidence: tuple[Evidence, ...]
    remediation: dict[str, str]
    docs: str
    confirmations: tuple[str, ...] = ()  # cross-resource facts or status messages that back this finding
    peers_agreeing: int = 0  # baselines on which this difference shows
    peers_total: int = 0
    peers_text: str | None = None  # what the agreeing peers have, from the rule's `peers` template
    subject: str | None = None  # the service it is about (project/region/service) when one report covers many
    fix: tuple[FixAction, ...] = ()  # typed actions; `remediation` is their rendering (ruleset/fixes.py)
    status_quote: str | None = None  # the words of the target's stated failure this finding explains
    log_quote: str | None = None  # the log signature (log and normalised text) its `log_match` found (ruleset/logs.py)
    peers_likeness: float = 0.0  # the agreeing baselines' share of all baselines, each weighted by its likeness
    items: int = 1  # how many hits of the rule this one finding stands for (ruleset/group.py)
    corroborated_by: tuple[str, ...] = ()  # rules whose findings were folded into this one as corroboration
    # What makes it one cause, whatever items it lists (report/fingerprint.py: its identity across runs): the
    # peers its hits hold against ('' for all of them, or none needed: ruleset/causes.py), the root cause of a
    # group of drifted fields (jobs/drift.py). None for a finding of one item by design (its path is its key).
    group: str | None = None

    @property
    def strength(self) -> int:
        return len(self.confirmations)

    @property
    def explains_status(self) -> bool:
        return self.status_quote is not None

    @property
    def peer_summary(self) -> str | None:
        if not self.peers_total:
            return None
        only = " (only the target differs)" if self.peers_agreeing == self.peers_total else ""
        what = self.peers_text or "differ from the target here"
        return f"{self.peers_agreeing}/{self.peers_total} peers {what}{only}"


@dataclass(frozen=True)
class Unverified:
    """A check that needed a value nobody could read; never a finding, always said."""

    rule: str
    title: str
    reason: str
    hint: str | None = None


@dataclass(frozen=True)
class KnownFinding:
    """One entry of a findings baseline file (`--baseline-file`): a finding accepted as known, by its fingerprint
    (report/fingerprint.py: the one SARIF carries). Rule, subject and reason are for the reviewer of the file."""

    rule: str
    subject: str
    reason: str
    fingerprint: str


@dataclass(frozen=True)
class FindingsBaseline:
    """The known findings a run is judged against: only a finding not among them fails the gate."""

    file: str
    known: tuple[KnownFinding, ...]


@dataclass(frozen=True)
class Result:
    target: str
    baselines: tuple[str, ...]
    status: dict[str, Any]
    findings: tuple[Finding, ...]
    unverified: tuple[Unverified, ...] = ()
    other_differences: tuple[Change, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    unread: dict[str, str] = field(default_factory=dict)  # resource -> why it could not be read
    located_at: str = "target"  # whose sources say where to fix: the target's, or (drift) the declaration's
    changes: tuple[TimelineChange, ...] = ()  # an audit: what changed since the previous snapshot (not findings)
    # baseline -> how alike it is to the target (driftcheck/compare/likeness.py)
    peer_likeness: dict[str, float] = field(default_factory=dict)
    findings_baseline: FindingsBaseline | None = None  # --baseline-file: which findings are known (not new)
    # how the target (then each baseline) reaches its dependencies over the network, hop by hop (driftcheck/paths/)
    paths: tuple[NetworkPath, ...] = ()
    # the compared services' recent logs, top signatures first (ruleset/logs.py); () when the evidence holds none
    logs: tuple[LogDigest, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.unverified or self.unread)
