"""The resources a service references, as the evidence holds them: their model, or unknown with why."""

from __future__ import annotations

from driftcheck.kinds.registry import Kind
from driftcheck.model import Inventory, Service, Unknown, to_plain
from driftcheck.ruleset.context.shapes import ResourceUse


def resource_uses(kind: Kind, service: Service, inventory: Inventory) -> list[ResourceUse]:
    """Every kind's references, the same way: a kind added to the registry is seen by rules with no change here.
    Those the service names and those on its path that other resources name (`referenced`); a read that failed is
    unknown with why, and so is a listing that failed (keyed by the parent listed): what it held is not absent."""
    found = inventory.of(kind.name)
    uses: list[ResourceUse] = [
        {
            "key": key,
            "resource": to_plain(found[key])
            if key in found
            else Unknown(
                inventory.errors.get(f"{kind.snapshot_key}:{key}") or f"{kind.title} {key} is not in the evidence"
            ),
            "source": getattr(found[key], "origin", None) if key in found else None,
        }
        for key in kind.referenced(service, inventory)
    ]
    failed = (
        (parent, inventory.errors.get(f"{kind.snapshot_key}:{parent}")) for parent in kind.listed_in(service, inventory)
    )
    return uses + [{"key": parent, "resource": Unknown(error), "source": None} for parent, error in failed if error]


def unread(inventory: Inventory, kind: str, name: str) -> Unknown:
    """Why a referenced resource is not here: the API's own error when a live read failed, else absent evidence."""
    error = inventory.errors.get(f"{kind}:{name}")
    return Unknown(f"{name}: {error}" if error else f"{name} is not in the evidence")
