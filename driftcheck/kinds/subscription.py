"""A Pub/Sub subscription: `gcloud pubsub subscriptions describe SUB --format=json > SUB.json`.

A push subscription posts each message to an endpoint, a Cloud Run service's URL, with an OIDC token of its push
identity (a service account). When that identity may not invoke the service, every push gets 403 and the messages
pile up in the subscription. A pull subscription has no endpoint. No live read: the subscriptions that push to a
service are not named by the service, so they come from exports and Terraform alone.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, register
from driftcheck.model import Inventory, Unknown

KIND = "Pub/Sub subscription (gcloud pubsub subscriptions describe SUB --format=json)"
_NAME = re.compile(r"^projects/[^/]+/subscriptions/[^/]+$")


@dataclass(frozen=True, slots=True)
class PubsubSubscription:
    name: str  # projects/P/subscriptions/S
    topic: str | None
    push_endpoint: str | Unknown | None  # the host it pushes to; None for a pull subscription
    push_identity: str | Unknown | None  # the service account whose OIDC token it sends; None: it sends no token
    origin: str
    provenance: dict[str, str] = field(default_factory=dict)


def matches(data: Any) -> bool:
    """What only `subscriptions describe` writes: a `projects/P/subscriptions/S` name and its topic."""
    return isinstance(data, dict) and bool(_NAME.match(str(data.get("name", "")))) and "topic" in data


def load(doc: Document, inventory: Inventory) -> None:
    subscription = parse_subscription(doc.data, doc.label)
    inventory.of(SUBSCRIPTION.name)[subscription.name] = subscription


def parse_subscription(data: dict[str, Any], origin: str) -> PubsubSubscription:
    """The API's (and gcloud's) JSON; Terraform's push_config is rewritten to it first."""
    push = data.get("pushConfig") or {}
    endpoint = str(push.get("pushEndpoint") or "")
    identity = (push.get("oidcToken") or {}).get("serviceAccountEmail")
    return PubsubSubscription(
        name=str(data["name"]),
        topic=str(data["topic"]) if data.get("topic") else None,
        push_endpoint=urlsplit(endpoint).hostname if endpoint else None,
        push_identity=str(identity) if identity else None,
        origin=origin,
        provenance={
            "push_endpoint": f"{origin}:pushConfig.pushEndpoint",
            "push_identity": f"{origin}:pushConfig.oidcToken.serviceAccountEmail",
        },
    )


def _from_snapshot(key: str, stored: Any, origin: str, scope: str | Unknown) -> PubsubSubscription | None:
    """None for a stored error: the registry reads the error, and the subscription stays unknown."""
    return None if "error" in stored else parse_subscription(stored, f"{origin}#pubsub_subscription:{key}")


SUBSCRIPTION = register(
    Kind(
        name="pubsub_subscription",
        title="Pub/Sub subscription",
        model=PubsubSubscription,
        readers=(sys.modules[__name__],),
        key=lambda subscription: str(subscription.name),
        snapshot_key="pubsub_subscriptions",
        from_snapshot=_from_snapshot,
        # a service names no subscription: rules find those pushing to it by host (refs.pushed_by)
        terraform_types=("google_pubsub_subscription",),
    )
)
