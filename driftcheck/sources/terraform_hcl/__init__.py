"""Terraform configuration folders (`*.tf`, read with python-hcl2): what a service will be, before any plan exists.

Literals are used as written; `var.NAME` resolves from a variable's default or a tfvars file (provenance says
which); `each.*` and `count.index` resolve inside literal `for_each` / `count` expansions. Everything else (locals,
other resources' attributes, functions, unresolvable `${...}` templates, non-literal `dynamic` blocks) becomes
`Unknown("unresolved: <expression>")`: never compared, never reported as a difference.

The resolved attributes have the shape of Terraform state (every nested block a list), so they go through the same
mapping as state and plans (terraform_resources), and a service in a .tf folder compares equal to it exported.

The package, in the order a folder goes through it: parse (files), resolve (expressions), instances (resource
blocks to state shape), canonical (to the model, with unknowns), and here the folder and the modules it calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import Inventory, Service
from driftcheck.sources.terraform_hcl.canonical import load_instance
from driftcheck.sources.terraform_hcl.instances import PLACEHOLDER, resource_instances
from driftcheck.sources.terraform_hcl.parse import TfFile, blocks, parse_file, where
from driftcheck.sources.terraform_hcl.resolve import Scope, Value, as_written, has_unresolved, resolve, variables

__all__ = ["PLACEHOLDER", "load_tf_dir", "service_at"]


def load_tf_dir(path: Path, tfvars: tuple[Path, ...] = ()) -> Inventory:
    """Every modelled resource a .tf folder declares (and the local modules it calls), as the canonical model."""
    inventory = Inventory()
    _load_folder(path, tuple(tfvars), {}, "", inventory)
    if not inventory.services and not inventory.errors:
        raise InputError("declares no google_cloud_run_v2_service or google_cloud_run_service", file=str(path))
    return inventory


def service_at(inventory: Inventory, address: str) -> Service:
    """The service a Terraform address names (`module.app.google_cloud_run_v2_service.api["blue"]`)."""
    for service in inventory.services.values():
        if service.metadata.address == address:
            return service
    if address in inventory.errors:
        raise InputError(inventory.errors[address])
    known = ", ".join(sorted(str(s.metadata.address) for s in inventory.services.values())) or "none"
    raise InputError(f"no Cloud Run service at {address!r} (services declared: {known})")


def _load_folder(
    folder: Path,
    tfvars: tuple[Path, ...] | None,  # None: a module (no tfvars of its own)
    given: dict[str, Value],
    prefix: str,
    inventory: Inventory,
    project: Any = None,
) -> None:
    """One folder's resources into the inventory, then the local modules it calls (prefix: the module's address)."""
    if not folder.is_dir():
        raise InputError("not a folder of .tf files", file=str(folder))
    files = [parse_file(p) for p in sorted(folder.glob("*.tf"))]
    if not files:
        raise InputError("no .tf files in this folder", file=str(folder))
    scope = Scope(variables(files, folder, tfvars, given), project=project)
    for _, provider, body in blocks(files, "provider"):
        if provider == "google" and "project" in body:
            scope.project = resolve(body["project"], scope, "project")
            scope.project_note += "".join(f", {note}" for _, note in scope.notes)
            scope.notes.clear()
    for found in resource_instances(files, scope, prefix, inventory.errors):
        load_instance(found, inventory)
    for tf, name, body in blocks(files, "module"):
        _module(folder, tf, name, body, scope, prefix, inventory)


def _module(
    folder: Path, tf: TfFile, name: str, body: dict[str, Any], scope: Scope, prefix: str, inventory: Inventory
) -> None:
    """Local modules (`source = "./modules/x"`) are followed with their inputs; registry and git sources are not."""
    address = f"{prefix}module.{name}"
    source = body.get("source")
    at = where(tf.path, tf.lines.get(("module", name)))
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        inventory.errors[address] = f"{at}: module source {as_written(source)} not followed (only local ./ modules)"
        return
    if "count" in body or "for_each" in body:
        inventory.errors[address] = f"{at}: a module with count or for_each is not followed"
        return
    inputs = {}
    for key, raw in body.items():
        if key in ("source", "version", "providers", "depends_on"):
            continue
        value = resolve(raw, scope, key)
        if not has_unresolved(value):
            inputs[key] = Value(value, f"{address} input in {tf.path.name}")
    _load_folder((folder / source).resolve(), None, inputs, f"{address}.", inventory, scope.project)
