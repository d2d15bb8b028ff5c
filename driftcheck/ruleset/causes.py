"""One finding per cause: a rule's hits on each baseline weighed by how alike the peers are, grouped by cause."""

from __future__ import annotations

from dataclasses import replace

from driftcheck.compare.likeness import Likeness
from driftcheck.ruleset import cel, group
from driftcheck.ruleset.findings import SEVERITIES, Finding
from driftcheck.ruleset.pair import Hit
from driftcheck.ruleset.schema import Rule


def one_per_cause(
    rule: Rule, by_key: dict[str, list[Hit]], peers: dict[str, Likeness], compared: set[str]
) -> list[Finding]:
    """One cause, one finding: the items a rule hit on this target against the same peers are one finding (what
    every peer has and the target lacks is one cause; what one peer of two has is another, weaker one). The peers
    are the finding's `group`, its identity whatever items it lists."""
    causes: dict[frozenset[str | None], list[list[Hit]]] = {}
    for hits in by_key.values():
        causes.setdefault(frozenset(h.baseline for h in hits), []).append(hits)
    return [
        replace(_one_finding(rule, items, peers), group=_group_key(against, compared))
        for against, items in causes.items()
    ]


def _group_key(against: frozenset[str | None], compared: set[str]) -> str:
    """'' when a cause holds against every peer compared, or needs none (the usual case: a peer that joins the
    evidence, a revision name that changes, leave it alone); else the peers it holds against, by service name
    (`api (FILE)`, `api@latest (api-00042-xyz)`: `api`), so a second group of one rule is told apart."""
    names = {name for name in against if name is not None}
    if not names or names == compared:
        return ""
    return "peers:" + ",".join(sorted({name.split(" (", 1)[0].split("@", 1)[0] for name in names}))


def _one_finding(rule: Rule, items: list[list[Hit]], peers: dict[str, Likeness]) -> Finding:
    per_item = [aggregate(rule, hits, peers) for hits in items]
    if len(per_item) == 1:
        return per_item[0]
    first = items[0][0]
    if rule.summary:
        listed = [hits[0].subject for hits in items]
        explanation = cel.render(rule.summary, first.pair.cel.scoped(vars=rule.vars, items=listed))
    else:
        explanation = " ".join(dict.fromkeys(f.explanation for f in per_item))
    return group.merged(per_item, explanation)


def aggregate(rule: Rule, hits: list[Hit], peers: dict[str, Likeness]) -> Finding:
    """One item's hits on every baseline: how many peers agree, weighted by how much each is a real peer."""
    first = hits[0].finding
    if hits[0].baseline is None or not peers:  # a target rule, or a drift check: its baseline is no peer
        return first
    agreeing = {h.baseline for h in hits if h.baseline is not None}  # every baseline has a likeness in `peers`
    share = sum(peers[n].score for n in agreeing) / (sum(p.score for p in peers.values()) or 1.0)
    finding = replace(first, peers_agreeing=len(agreeing), peers_total=len(peers), peers_likeness=share)
    only_unlike = all(peers[name].unlike for name in agreeing)
    if rule.scope == "pair" and only_unlike and SEVERITIES.index(finding.severity) < SEVERITIES.index("medium"):
        finding = replace(finding, severity="medium")  # a difference from another application is a weak clue
    return finding
