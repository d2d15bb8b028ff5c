"""Who may call the service: the members granted run.invoker, and the Pub/Sub subscriptions that push to it."""

from __future__ import annotations

from driftcheck.kinds import access
from driftcheck.kinds.run_iam import INVOKER, RUN_IAM, RunServiceIamPolicy
from driftcheck.kinds.service.common import own_hosts
from driftcheck.kinds.subscription import SUBSCRIPTION, PubsubSubscription
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.ruleset.context.access import access_answer
from driftcheck.ruleset.context.shapes import AccessAnswer, Invoker, PushedBy


def invokers(service: Service, inventory: Inventory) -> list[Invoker]:
    """Every member some service's policy names as an invoker, asked of this service through the resolver (so a
    project-level grant, allUsers or allAuthenticatedUsers counts): a rule compares a peer's callers with it."""
    policies: dict[str, RunServiceIamPolicy] = inventory.of(RUN_IAM.name)
    members = sorted(
        {m for p in policies.values() for m in p.bindings.get(INVOKER, ()) if not m.startswith("deleted:")}
    )
    why = "the service's project or region is not known"
    return [{"member": m, "invoke": access_answer(access.invoke_check(m, service), inventory, why)} for m in members]


def _invoke(identity: str | Unknown | None, service: Service, inventory: Inventory) -> AccessAnswer | Unknown:
    member = access.push_member(identity)
    if member is None:
        return Unknown(identity.reason if isinstance(identity, Unknown) else "its push identity is not known")
    return access_answer(
        access.invoke_check(member, service), inventory, "the service's project or region is not known"
    )


def pushed_by(service: Service, inventory: Inventory) -> list[PushedBy] | Unknown:
    """A subscription names the service only by the URL it pushes to: matched on the service's own hosts. When the
    listing of the service's project failed, those it would have held are unknown, never "none"."""
    unlisted = _subscriptions_unlisted(service, inventory)
    if unlisted is not None:
        return unlisted
    hosts = set(own_hosts(service))
    found: dict[str, PubsubSubscription] = inventory.of(SUBSCRIPTION.name)
    return [
        {
            "name": sub.name,
            "identity": sub.push_identity,
            "source": sub.provenance.get("push_identity"),
            "invoke": _invoke(sub.push_identity, service, inventory),
        }
        for _, sub in sorted(found.items())
        if sub.push_endpoint in hosts
    ]


def _subscriptions_unlisted(service: Service, inventory: Inventory) -> Unknown | None:
    """Why the subscriptions of the service's project are not known: the listing's error, stored under `projects/P`
    (by its id or its number), with what to grant when it was denied."""
    if isinstance(service.project, Unknown):
        return None
    numbers = [number for number, project in sorted(inventory.project_aliases.items()) if project == service.project]
    for name in (service.project, *numbers):
        error = inventory.errors.get(f"{SUBSCRIPTION.snapshot_key}:projects/{name}")
        if error:
            return Unknown(f"the Pub/Sub subscriptions of project {name} could not be listed ({error})")
    return None
