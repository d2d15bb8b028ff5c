"""Terraform configuration folders (`*.tf`, read with python-hcl2): what a service will be, before any plan exists.

Literals are used as written; `var.NAME` resolves from a variable's default or a tfvars file (provenance says
which); `each.*` and `count.index` resolve inside literal `for_each` / `count` expansions; a resource without its own
project or location takes the provider's (the aliased one its `provider = google.eu` names); a secret's `.secret_id`,
`.id` and `.name` resolve to the secret the folder declares. Everything else (locals, other resources' attributes,
functions, unresolvable `${...}` templates, non-literal `dynamic` blocks) becomes
`Unknown("unresolved: <expression>")`: never compared, never reported as a difference.

The resolved attributes have the shape of Terraform state (every nested block a list), so they go through the same
mapping as state and plans (terraform_resources), and a service in a .tf folder compares equal to it exported.

The package, in the order a folder goes through it: parse (files), resolve (expressions), instances (resource
blocks to state shape), canonical (to the model, with unknowns), secrets (Secret Manager declarations, once the
whole tree is read), and here the folder and the modules it calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import Inventory, Service
from driftcheck.sources.terraform_hcl.canonical import load_instance
from driftcheck.sources.terraform_hcl.instances import PLACEHOLDER, TfInstance, resource_instances
from driftcheck.sources.terraform_hcl.parse import Expr, TfFile, blocks, parse_file, where
from driftcheck.sources.terraform_hcl.resolve import Scope, Value, as_written, has_unresolved, resolve, variables
from driftcheck.sources.terraform_hcl.secrets import KINDS, load_secrets, secret_references

__all__ = ["PLACEHOLDER", "load_tf_dir", "service_at"]


def load_tf_dir(path: Path, tfvars: tuple[Path, ...] = ()) -> Inventory:
    """Every modelled resource a .tf folder declares (and the local modules it calls), as the canonical model."""
    inventory = Inventory()
    declared_secrets: list[TfInstance] = []
    _load_folder(path, tuple(tfvars), {}, "", inventory, declared_secrets)
    load_secrets(declared_secrets, inventory)  # after the whole tree: a grant in any module may name any secret
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
    declared_secrets: list[TfInstance],  # Secret Manager instances, loaded once the whole tree is read
    providers: dict[str, dict[str, Value]] | None = None,  # the caller's, for a module
) -> None:
    """One folder's resources into the inventory, then the local modules it calls (prefix: the module's address)."""
    if not folder.is_dir():
        raise InputError("not a folder of .tf files", file=str(folder))
    files = [parse_file(p) for p in sorted(folder.glob("*.tf"))]
    if not files:
        raise InputError("no .tf files in this folder", file=str(folder))
    scope = Scope(variables(files, folder, tfvars, given), providers=dict(providers or {}))
    for _, provider, body in blocks(files, "provider"):
        _provider(provider, body, scope)
    scope.references = secret_references(files, scope)
    for found in resource_instances(files, scope, prefix, inventory.errors):
        if found.instance.type in KINDS:
            declared_secrets.append(found)
        else:
            load_instance(found, inventory)
    for tf, name, body in blocks(files, "module"):
        _module(folder, tf, name, body, scope, prefix, inventory, declared_secrets)


def _provider(provider: str, body: dict[str, Any], scope: Scope) -> None:
    """A provider block's project and region (with the variables they came from), by `google` or `google.ALIAS`."""
    alias = body.get("alias")
    key = f"{provider}.{alias}" if isinstance(alias, str) else provider
    scope.providers[key] = {}  # a block of its own replaces what a module inherited
    for attribute in ("project", "region"):
        if attribute in body:
            value = resolve(body[attribute], scope, attribute)
            used = "".join(f", {note}" for _, note in scope.notes)
            scope.notes.clear()
            scope.providers[key][attribute] = Value(value, f"the {key} provider's {attribute}{used}")


def _module(
    folder: Path,
    tf: TfFile,
    name: str,
    body: dict[str, Any],
    scope: Scope,
    prefix: str,
    inventory: Inventory,
    declared_secrets: list[TfInstance],
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
    # A module inherits the default providers; `providers = { google = google.eu }` passes an aliased one.
    providers = {key: value for key, value in scope.providers.items() if "." not in key}
    passed = body.get("providers")
    for child, parent in (passed if isinstance(passed, dict) else {}).items():
        if isinstance(parent, Expr):
            providers[child] = scope.providers.get(parent.text.strip(), {})
    module = (folder / source).resolve()
    _load_folder(module, None, inputs, f"{address}.", inventory, declared_secrets, providers)
