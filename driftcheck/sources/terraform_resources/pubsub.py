"""Pub/Sub subscriptions in Terraform (`google_pubsub_subscription`) into the subscription kind: where a push
subscription delivers, and as whom."""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import subscription
from driftcheck.model import Inventory, Unknown
from driftcheck.sources.terraform_resources.instance import Instance, first
from driftcheck.sources.terraform_resources.marks import AFTER_APPLY, UNKNOWN_MARK, resolve_marks


def load_subscription(instance: Instance, inventory: Inventory, label: str) -> None:
    """`name` is the short id (or the full name), `project` the rest of it; `push_config` and its `oidc_token`
    are one-element lists, rewritten to the API's pushConfig."""
    attrs = instance.attributes
    name, project = str(attrs.get("name") or ""), str(attrs.get("project") or "")
    if not name.startswith("projects/"):
        if not name or not project:
            raise InputError("no name and project", file=label, where=f"{instance.address}.name")
        name = f"projects/{project}/subscriptions/{name}"
    push = first(attrs.get("push_config"))
    oidc = first(push.get("oidc_token"))
    data: dict[str, Any] = {"name": name, "topic": attrs.get("topic")}
    data["pushConfig"] = {"pushEndpoint": push.get("push_endpoint")}
    data["pushConfig"]["oidcToken"] = {"serviceAccountEmail": oidc.get("service_account_email")}
    parsed: subscription.PubsubSubscription = resolve_marks(subscription.parse_subscription(data, label))
    at = f"{label}:{instance.address}"
    marked = UNKNOWN_MARK in str(push.get("push_endpoint") or "")
    inventory.of(subscription.SUBSCRIPTION.name)[parsed.name] = dataclasses.replace(
        parsed,
        push_endpoint=Unknown(AFTER_APPLY) if marked else parsed.push_endpoint,
        provenance={
            "push_endpoint": f"{at}.push_config[0].push_endpoint",
            "push_identity": f"{at}.push_config[0].oidc_token[0].service_account_email",
        },
    )
