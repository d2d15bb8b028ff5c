"""Policy Troubleshooter answers: may member M do permission P on resource R, as Google itself evaluates it.

driftcheck answers such a question locally from the IAM policies in the evidence (kinds/access/); an answer of
the Policy Troubleshooter API (v3, `TroubleshootIamPolicy`) also weighs every policy the evidence lacks (folder,
organization, groups, deny policies), so the resolver consults these first, keyed `"MEMBER PERMISSION RESOURCE"`.

Evidence: the v3 `TroubleshootIamPolicyResponse` as JSON (`overallAccessState`, `accessTuple`,
`allowPolicyExplanation`, `denyPolicyExplanation`): what `POST https://policytroubleshooter.googleapis.com/v3/
iam:troubleshoot` answers, what `gcloud policy-troubleshoot iam RESOURCE --principal-email=EMAIL
--permission=PERMISSION --format=json` writes where gcloud calls v3, and what a live run stores. gcloud 528 calls
v2alpha1 instead, whose answer (`access`, `explainedPolicies`) names no access tuple: such a file is refused with
that said, never guessed at.

Answers are asked for (`--troubleshoot-iam`), never referenced by a service: the kind has no references.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Literal

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Inventory, Unknown

KIND = "Policy Troubleshooter answer (gcloud policy-troubleshoot iam RESOURCE ... --format=json, API v3)"
Access = Literal["granted", "denied", "unknown"]

_OVERALL: dict[str, Access] = {"CAN_ACCESS": "granted", "CANNOT_ACCESS": "denied"}
_UNKNOWN_WHY = {
    "UNKNOWN_INFO": "the troubleshooter could not read every policy involved (the caller needs "
    "roles/iam.securityReviewer)",
    "UNKNOWN_CONDITIONAL": "it is granted only under a condition the troubleshooter could not evaluate",
}
_V2ALPHA1_ACCESS = {"ACCESS_STATE_UNSPECIFIED", "GRANTED", "NOT_GRANTED", "UNKNOWN_CONDITIONAL", "UNKNOWN_INFO_DENIED"}
_SERVICE_ACCOUNT_DOMAIN = ".gserviceaccount.com"

# The one API read of the kind. It is not declared as the kind's `live_reads`: those are made per resource a service
# references, in the last round, and keyed by it (fetch.py's `submit_referenced`); an answer is keyed by an access
# check that only the resources read in that round let kinds/access/ derive, so it is asked for in one more round,
# only with --troubleshoot-iam. The call itself needs no permission of its own: the troubleshooter evaluates only
# the policies the caller may read (else UNKNOWN_INFO), and Google documents Security Reviewer for that; a
# PERMISSION_DENIED mostly means the API is not enabled in the caller's project.
TROUBLESHOOT = LiveRead(
    "troubleshoot",
    "resourcemanager.projects.getIamPolicy, iam.roles.get",
    "roles/iam.securityReviewer; and policytroubleshooter.googleapis.com enabled",
)


@dataclass(frozen=True, slots=True)
class TroubleshooterAnswer:
    member: str  # IAM member form: "serviceAccount:api@p.iam.gserviceaccount.com"
    permission: str  # "secretmanager.versions.access"
    resource: str  # full resource name: "//secretmanager.googleapis.com/projects/p/secrets/s"
    access: Access
    explanation: str  # short: "granted through roles/secretmanager.secretAccessor on projects/p"
    origin: str
    # UNKNOWN_INFO: the caller could not read every policy involved, so the answer knows less than the evidence
    # may; the local answer then stands (an unknown condition, UNKNOWN_CONDITIONAL, is a real answer)
    blind: bool = False

    @property
    def key(self) -> str:
        return answer_key(self.member, self.permission, self.resource)


def answer_key(member: str, permission: str, resource: str) -> str:
    """How the inventory (and the resolver) names one access check."""
    return f"{member} {permission} {resource}"


def member_of(principal: str) -> str:
    """An access tuple's principal (an email) in IAM member form; one already in member form stays."""
    if ":" in principal:
        return principal
    kind = "serviceAccount" if principal.endswith(_SERVICE_ACCOUNT_DOMAIN) else "user"
    return f"{kind}:{principal}"


def principal_of(member: str) -> str | None:
    """The principal the troubleshooter takes for a member: the email of a service account or a user; None for
    any other member (a group, allUsers), which it cannot be asked about."""
    kind, _, email = member.partition(":")
    return email if kind in ("serviceAccount", "user") and "@" in email else None


def matches(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if "overallAccessState" in data and isinstance(data.get("accessTuple"), dict):
        return True
    # gcloud's v2alpha1 answer: recognized only to say why it cannot be read (load refuses it)
    return data.get("access") in _V2ALPHA1_ACCESS and set(data) <= {"access", "explainedPolicies"}


def load(doc: Document, inventory: Inventory) -> None:
    if "overallAccessState" not in doc.data:
        raise InputError(
            "a Policy Troubleshooter v2alpha1 answer names no access tuple (principal, resource, permission): "
            "give the v3 answer (POST https://policytroubleshooter.googleapis.com/v3/iam:troubleshoot)",
            file=doc.label,
            where="access",
        )
    answer = parse_answer(doc.data, doc.label)
    inventory.of(TROUBLESHOOTER.name)[answer.key] = answer


def parse_answer(data: dict[str, Any], origin: str) -> TroubleshooterAnswer:
    """The v3 response JSON (camelCase, enum names), as the API, gcloud and a snapshot spell it."""
    access_tuple = data.get("accessTuple") or {}
    missing = [field for field in ("principal", "fullResourceName", "permission") if not access_tuple.get(field)]
    if missing:
        raise InputError(f"the access tuple has no {', '.join(missing)}", file=origin, where="accessTuple")
    state = str(data.get("overallAccessState") or "OVERALL_ACCESS_STATE_UNSPECIFIED")
    access = _OVERALL.get(state, "unknown")
    return TroubleshooterAnswer(
        member=member_of(str(access_tuple["principal"])),
        permission=str(access_tuple["permission"]),
        resource=str(access_tuple["fullResourceName"]),
        access=access,
        explanation=_explanation(access, state, data),
        origin=origin,
        blind=state == "UNKNOWN_INFO",
    )


def _explanation(access: Access, state: str, data: dict[str, Any]) -> str:
    allow = data.get("allowPolicyExplanation") or {}
    policies = [p for p in allow.get("explainedPolicies") or () if isinstance(p, dict)]
    if access == "granted":
        grants = _bindings(policies, "ALLOW_ACCESS_STATE_GRANTED")
        return "granted through " + "; ".join(grants) if grants else "granted (the answer names no binding)"
    if access == "denied":
        deny = data.get("denyPolicyExplanation") or {}
        if deny.get("denyAccessState") == "DENY_ACCESS_STATE_DENIED":
            where = [
                _short(str(r.get("fullResourceName", "")))
                for r in deny.get("explainedResources") or ()
                if isinstance(r, dict) and r.get("denyAccessState") == "DENY_ACCESS_STATE_DENIED"
            ]
            return "denied by a deny policy" + (f" on {', '.join(where)}" if where else "")
        checked = [_short(str(p.get("fullResourceName", ""))) for p in policies if p.get("fullResourceName")]
        return "no allow policy grants it" + (f" (checked: {', '.join(checked)})" if checked else "")
    why = _UNKNOWN_WHY.get(state, f"the troubleshooter answered {state}")
    if state == "UNKNOWN_CONDITIONAL":
        conditional = _bindings(policies, "ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL")
        why += f" ({'; '.join(conditional)})" if conditional else ""
    return f"could not be determined: {why}"


def _bindings(policies: list[dict[str, Any]], state: str) -> list[str]:
    """Each binding of that state, as "ROLE on RESOURCE", with its condition's title."""
    found = []
    for policy in policies:
        where = _short(str(policy.get("fullResourceName", "")))
        for binding in policy.get("bindingExplanations") or ():
            if isinstance(binding, dict) and binding.get("allowAccessState") == state and binding.get("role"):
                title = (binding.get("condition") or {}).get("title")
                found.append(f"{binding['role']} on {where}" + (f" if {title!r}" if title else ""))
    return found


def _short(full_resource_name: str) -> str:
    """//cloudresourcemanager.googleapis.com/projects/p -> projects/p: the host says nothing a reader needs."""
    if full_resource_name.startswith("//"):
        return full_resource_name[2:].partition("/")[2] or full_resource_name
    return full_resource_name


def _from_snapshot(key: str, stored: Any, origin: str, scope: str | Unknown) -> TroubleshooterAnswer | None:
    """A stored answer, keyed by the question asked (the answer's own tuple may spell it otherwise: a principal in
    another case); a stored error (the call failed) is no answer: the local one stands, and `errors` says why."""
    if not isinstance(stored, dict) or "error" in stored:
        return None
    answer = parse_answer(stored, f"{origin}#iam_troubleshooter:{key}")
    asked = key.split(" ")
    if len(asked) == 3:
        member, permission, resource = asked
        answer = dataclasses.replace(answer, member=member, permission=permission, resource=resource)
    return answer


TROUBLESHOOTER = register(
    Kind(
        name="iam_troubleshooter",
        title="Policy Troubleshooter answer",
        model=TroubleshooterAnswer,
        readers=(sys.modules[__name__],),
        key=lambda answer: str(answer.key),
        snapshot_key="iam_troubleshooter_answers",
        from_snapshot=_from_snapshot,
        # references: none (answers are asked for, not referenced); live_reads: none, see TROUBLESHOOT above
    )
)
