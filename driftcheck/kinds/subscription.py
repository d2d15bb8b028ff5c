"""A Pub/Sub subscription: `gcloud pubsub subscriptions describe SUB --format=json > SUB.json`.

A push subscription posts each message to an endpoint, a Cloud Run service's URL, with an OIDC token of its push
identity (a service account). When that identity may not invoke the service, every push gets 403 and the messages
pile up in the subscription. A pull subscription has no endpoint. A service names no subscription, so the live read
is a listing: each compared service's project is listed once (paged), and the subscriptions that push to one of the
services' own hosts are kept, in the snapshot by their full name. A listing that is denied is stored as an error
under `projects/P`: what it would have held is unknown (the report says what to grant), never "no subscriptions".
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import LIST, Kind, LiveRead, register
from driftcheck.kinds.service.common import own_hosts
from driftcheck.model import Inventory, Service, Unknown

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


def _listed_in(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The project whose subscriptions may push to the service (one it can be called at, by a URL)."""
    known = isinstance(service.project, str) and service.project and own_hosts(service)
    return (f"projects/{service.project}",) if known else ()


def _pushing_to(services: Sequence[Service], inventory: Inventory) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed subscription (the API's JSON) pushes to one of the services' own hosts: what rules match it
    on (refs.pushed_by). A pull subscription, or one pushing elsewhere, is not kept."""
    hosts = {host for service in services for host in own_hosts(service)}

    def pushes(raw: dict[str, Any]) -> bool:
        endpoint = str((raw.get("pushConfig") or {}).get("pushEndpoint") or "")
        return bool(endpoint) and urlsplit(endpoint).hostname in hosts

    return pushes


SUBSCRIPTION = register(
    Kind(
        name="pubsub_subscription",
        title="Pub/Sub subscription",
        model=PubsubSubscription,
        readers=(sys.modules[__name__],),
        key=lambda subscription: str(subscription.name),
        snapshot_key="pubsub_subscriptions",
        from_snapshot=_from_snapshot,
        # a service names no subscription: rules find those pushing to it by host (refs.pushed_by), and the live
        # read lists its project's. roles/pubsub.viewer: read-only on topics, subscriptions and snapshots
        live_reads=(LiveRead(LIST, "pubsub.subscriptions.list", "roles/pubsub.viewer"),),
        listed_in=_listed_in,
        listed_for=_pushing_to,
        terraform_types=("google_pubsub_subscription",),
    )
)
