"""The resolver: may a member do a permission on a resource (`may`), or hold a role in a project (`holds_role`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from driftcheck.kinds.access.checks import AccessCheck
from driftcheck.kinds.access.policies import Level, Policy, ancestor_policies, levels, project_policy
from driftcheck.kinds.access.roles import role_grants
from driftcheck.kinds.ancestry import ANCESTOR_TYPES
from driftcheck.model import Inventory

Access = Literal["granted", "denied", "unknown"]

TROUBLESHOOTER = "iam_troubleshooter"  # another module's kind: looked up by name, so this one needs none of it
_UNRESOLVED_MEMBER = ("group:", "domain:", "principalSet:", "principal:")


@dataclass(frozen=True, slots=True)
class Answer:
    access: Access
    via: str | None = None  # what grants it: "roles/secretmanager.secretAccessor on project netra-staging"
    read: tuple[Level, ...] = ()
    unread: tuple[Level, ...] = ()
    why_unknown: tuple[str, ...] = ()


def may(check: AccessCheck, inventory: Inventory) -> Answer:
    """Whether `check.member` holds `check.permission` on `check.resource`, as far as the evidence tells."""
    answered = inventory.of(TROUBLESHOOTER).get(check.key)
    if answered is not None and not getattr(answered, "blind", False):
        return _troubleshooter_answer(answered)
    policies, unread = levels(check.resource, inventory)
    why = f"no IAM policy of {_short(check.resource)} or of its project is in the evidence"
    if not policies:
        return Answer("unknown", unread=tuple(unread), why_unknown=(why,))
    read = tuple(p.level for p in policies)
    doubts: list[str] = []
    for policy in policies:
        granted, doubt = _judge(policy, check)
        if granted:
            return Answer("granted", via=granted, read=read, unread=tuple(unread))
        doubts += doubt
    if all(p.level.level in ANCESTOR_TYPES for p in policies):  # a folder's "no" says nothing of the resource's
        return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(why, *dict.fromkeys(doubts)))
    if doubts:
        return Answer("unknown", read=read, unread=tuple(unread), why_unknown=tuple(dict.fromkeys(doubts)))
    return Answer("denied", read=read, unread=tuple(unread))


def holds_role(member: str, role: str, project: str, inventory: Inventory) -> Answer:
    """Whether `member` holds `role` itself (not a permission) in the project's policy: for a role Google grants
    its own service agents, which no other role stands in for."""
    policy, missing = project_policy(project, inventory)
    above, not_read = ancestor_policies(project, inventory)
    unread = [*([missing] if missing else []), *not_read]
    if policy is None:
        return Answer("unknown", unread=tuple(unread), why_unknown=(str(missing and missing.reason),))
    levels = (policy, *above)  # a role granted on a folder or the organization is inherited
    read = tuple(p.level for p in levels)
    for level in levels:
        if member in level.bindings.get(role, ()):
            where = f"{role} on {level.level.level} {level.level.name}"
            return Answer("granted", via=where, read=read, unread=tuple(unread))
    for level in levels:
        where = f"{role} on {level.level.level} {level.level.name}"
        if member in level.conditional.get(role, ()):
            return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(f"{where} only under a condition",))
        if not level.complete:
            return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(_partial(level.level),))
    return Answer("denied", read=read, unread=tuple(unread))


def _troubleshooter_answer(answered: Any) -> Answer:
    """Policy Troubleshooter evaluated every level (folders, organization, groups, conditions): cited as read."""
    access = str(getattr(answered, "access", "unknown"))
    explanation = str(getattr(answered, "explanation", "") or "")
    origin = getattr(answered, "origin", None)
    level = Level("troubleshooter", "Policy Troubleshooter", source=str(origin) if origin else None)
    verdict: Access = access if access in ("granted", "denied") else "unknown"  # type: ignore[assignment]
    return Answer(
        verdict,
        via=(explanation or "Policy Troubleshooter") if verdict == "granted" else None,
        read=(level,),
        why_unknown=((explanation or "Policy Troubleshooter could not tell"),) if verdict == "unknown" else (),
    )


def _judge(policy: Policy, check: AccessCheck) -> tuple[str | None, list[str]]:
    """(what grants it at this level, or None; why this level cannot settle it)."""
    where = f"{policy.level.level} {policy.level.name}"
    doubts: list[str] = []
    for role, members in sorted(policy.bindings.items()):
        grants, doubt = role_grants(role, check.permission)
        if not grants and doubt is None:
            continue
        for member in members:
            if _is(member, check.member):
                if grants:
                    shown = "" if member == check.member else f" to {member}"
                    return f"{role}{shown} on {where}", []
                doubts.append(f"{role} on {where} is {doubt}")
            elif member.startswith(_UNRESOLVED_MEMBER):
                doubts.append(f"{role} on {where} is granted to {member}, whose members are not in the evidence")
    for role, members in sorted(policy.conditional.items()):
        grants, doubt = role_grants(role, check.permission)
        if (grants or doubt) and any(_is(m, check.member) or m.startswith(_UNRESOLVED_MEMBER) for m in members):
            doubts.append(f"{role} on {where} is granted only under a condition")
    if not policy.complete:
        doubts.append(_partial(policy.level))
    return None, doubts


def _partial(level: Level) -> str:
    return f"the {level.level}'s policy is known only in part (Terraform member resources)"


def _is(member: str, wanted: str) -> bool:
    """Whether a policy's member names `wanted`: itself, everyone, or (for a signed-in principal) every signed-in
    one. A deleted member never does, even when it once named the same email."""
    if member.startswith("deleted:"):
        return False
    if member == wanted or member == "allUsers":
        return True
    return member == "allAuthenticatedUsers" and wanted != "allUsers"


def _short(resource: str) -> str:
    return resource.split("googleapis.com/", 1)[-1]
