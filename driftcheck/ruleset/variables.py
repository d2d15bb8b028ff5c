"""The variables a rule's expressions see in each scope, typed with the declarations of the code that builds them.

A service is its model (driftcheck/model.py) as ruleset/context/ extends it; `change` is ruleset/batch.py's;
a status rule's `item` is ruleset/status.py's. The drift and audit jobs build the few that are their own (in
driftcheck/jobs/): those are declared here. ruleset/vocabulary.py turns this table into the published JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple, TypedDict, get_type_hints

from driftcheck.model import Service
from driftcheck.ruleset.batch import ChangeItem
from driftcheck.ruleset.logs import LogItem
from driftcheck.ruleset.status import StatusItem

# A service as a rule sees it: its model fields, with `label`, `refs`, `member` and each container's `display`.
ServiceContext = Annotated[dict[str, Any], Service]


class DriftItem(TypedDict):
    """One drifted field, as a drift-scope rule's `summary` lists it (the drift job)."""

    path: str  # the canonical path
    live: Any  # its live value
    state: Any  # what Terraform state says


class PeerGroupOutlier(TypedDict):
    """A peer-group rule's texts (the audit job): a service whose value differs from its group's majority."""

    split: bool  # the group has no majority: `values` lists them all
    group: str  # the peer group's name
    field: str  # the canonical path compared
    service: str  # the outlier service
    project: str  # its project
    region: str  # its region
    value: str  # the outlier's value, as text
    majority: str  # the group's majority value, as text
    values: str  # each value with its count, when split
    agree: str  # how many agree: `3/4`


class EnvironmentDifference(TypedDict):
    """An environment-parity rule's texts (the audit job): one field two environments of a service disagree on."""

    pair: str  # the environment pair's name
    path: str  # the canonical path that differs
    left: str  # the left-hand service, as project/region/service
    right: str  # the right-hand service, as project/region/service
    left_value: str  # the left-hand value, as text
    right_value: str  # the right-hand value, as text
    right_service: str  # the right-hand service's name: what a fix acts on
    right_project: str  # its project
    right_region: str  # its region


class MoreKeys(NamedTuple):
    """`Annotated` metadata: a mapping holds other keys than its declared ones, each a value of this type."""

    type: Any


class Variable(NamedTuple):
    type: Any  # a type hint
    description: str  # empty: the comment on its field in `declared_by` says it
    declared_by: type | None = None


_TARGET = Variable(ServiceContext, "the service under examination")
_BASELINE = Variable(ServiceContext, "the baseline of this pair: a healthy peer, or the declared form (drift)")
_BASELINES = Variable(list[ServiceContext], "every baseline")
_VARS = Variable(dict[str, Any], "the rule's own `vars`")
_CHANGE = Variable(ChangeItem, "a `match` rule's difference at hand")
_ITEM = Variable(Any, "the element of the rule's `for_each` list at hand")
_ITEMS = Variable(list[Any], "in `summary`: each hit's `item` (or `change`)")
_EACH = Variable(Any, "in a fix action's `when` and `args`: the element of its `for_each` list at hand")
# The named groups of the status pattern that matched are keys too: `(?P<image>...)` is `item.image`.
_STATUS_ITEM = Annotated[StatusItem, MoreKeys(str)]
# The named groups of the `log_match` pattern that matched are keys too.
_LOG_ITEM = Annotated[LogItem, MoreKeys(str)]


def _texts(declaration: type) -> dict[str, Variable]:
    """An audit declaration's keys as variables, each described by its field's comment."""
    return {name: Variable(hint, "", declaration) for name, hint in get_type_hints(declaration).items()}


# What each scope is (ruleset/schema.py's SCOPES), as the published vocabulary says it.
SCOPE_NOTES = {
    "pair": "The default: the target against each baseline in turn.",
    "target": "The target alone (`baselines` to look at peers); no single `baseline`.",
    "status": "The failure the target's status states, matched by `status_match` (or, when it states none, a line"
    " of its logs matched by `log_match`).",
    "logs": "A signature of the target's recent logs, matched by `log_match`: the peers' unlogged first; when"
    " `when` rejects it, the next that matches, until one holds (one finding).",
    "across": "The target and each other service in the evidence, as caller or callee: `baseline` is that other"
    " service, not a peer, so a finding is not weakened when it is another application.",
    "drift": "A live service against its declared (Terraform) form, in the drift job.",
    "inventory": "A service found on one side only, in the drift job: in state but not live, or live but not in state.",
    "audit": "Peer-group and environment parity, in the audit job: texts only, no service.",
}
# Which part of a rule sees which of them is ruleset/fieldcheck.py's _HIDDEN: `change` and `item` are the candidate
# at hand, `items` are in `summary` only, `each` in a fix action's `when` and `args` only.
SCOPE_VARIABLES: dict[str, dict[str, Variable]] = {
    "pair": {
        "target": _TARGET,
        "baseline": _BASELINE,
        "baselines": _BASELINES,
        "vars": _VARS,
        "change": _CHANGE,
        "item": _ITEM,
        "items": _ITEMS,
        "each": _EACH,
    },
    "across": {
        "target": _TARGET,
        "baseline": Variable(ServiceContext, "the other service: the target's callee, or its caller"),
        "baselines": _BASELINES,
        "vars": _VARS,
        "item": _ITEM,
        "items": _ITEMS,
        "each": _EACH,
    },
    "target": {
        "target": _TARGET,
        "baselines": _BASELINES,
        "vars": _VARS,
        "item": _ITEM,
        "items": _ITEMS,
        "each": _EACH,
    },
    "status": {
        "target": _TARGET,
        "baselines": _BASELINES,
        "vars": _VARS,
        "item": Variable(_STATUS_ITEM, "the failure the status states, as the first `status_match` that found it"),
        "items": Variable(list[_STATUS_ITEM], "in `summary`: each hit's `item`"),
        "each": _EACH,
    },
    "logs": {
        "target": _TARGET,
        "baselines": _BASELINES,
        "vars": _VARS,
        "item": Variable(_LOG_ITEM, "the first log signature a `log_match` pattern finds for which `when` holds"),
        "items": Variable(list[_LOG_ITEM], "in `summary`: each hit's `item`"),
        "each": _EACH,
    },
    "drift": {
        "target": Variable(ServiceContext, "the live service (in `summary`, only its `name`)"),
        "baseline": Variable(ServiceContext, "the service as Terraform state declares it"),
        "baselines": Variable(list[ServiceContext], "the declared service, alone"),
        "vars": _VARS,
        "change": Variable(ChangeItem, "the drifted field at hand"),
        "items": Variable(list[DriftItem], "in `summary`: each drifted field"),
        "each": _EACH,
    },
    "inventory": {
        "target": Variable(ServiceContext, "the service found on one side only"),
        "side": Variable(Literal["live", "state"], "where it was found: live, or only in Terraform state"),
        "each": _EACH,
    },
    "audit": {**_texts(PeerGroupOutlier), **_texts(EnvironmentDifference), "each": _EACH},
}
