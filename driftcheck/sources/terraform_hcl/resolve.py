"""Resolving HCL expressions: variables (defaults, tfvars, module inputs), `each.*`, `count.index`, dynamic
iterators and the few references to other resources a folder makes known (a secret's id) to values; every other
expression (locals, other resources, functions) stays Unresolved. Also the provider defaults a resource inherits.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.sources import limits
from driftcheck.sources.terraform_hcl.parse import Expr, TfFile, blocks, parse_file, unescape
from driftcheck.sources.terraform_hcl.paths import join

_REFERENCE = re.compile(r"^\s*(?P<root>[A-Za-z_][\w-]*)\.(?P<name>[A-Za-z_][\w-]*)\s*$")
_TEMPLATE_PART = re.compile(r"(?<!\$)\$\{([^{}]*)\}")


@dataclass(frozen=True)
class Value:
    value: Any
    where: str  # "default in variables.tf", "terraform.tfvars", "module.app input"


@dataclass(frozen=True)
class Unresolved:
    expression: str


@dataclass
class Scope:
    variables: dict[str, Value]
    iterators: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # each / count / dynamic -> (key, value)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (Terraform attribute path, where a var came from)
    # "google", "google.eu" (an alias), "google-beta" -> {"project" | "region": its value, and where it came from}:
    # what a resource without its own project or location is created in
    providers: dict[str, dict[str, Value]] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)  # "google_secret_manager_secret.db.secret_id" -> value

    def bind(self, name: str, key: Any, value: Any) -> Scope:
        return dataclasses.replace(self, iterators={**self.iterators, name: (key, value)})


def provider_of(body: dict[str, Any]) -> str:
    """The provider configuration a resource uses: `provider = google.eu`, else the default `google`."""
    chosen = body.get("provider")
    return chosen.text.strip() if isinstance(chosen, Expr) else "google"


def provider_default(scope: Scope, provider: str, attribute: str) -> Value:
    """The provider's project or region; unresolved (`provider.google.region`) when its block does not set it."""
    found = scope.providers.get(provider, {}).get(attribute)
    return found or Value(Expr(f"provider.{provider}.{attribute}"), f"the {provider} provider's {attribute}")


# --- variables ----------------------------------------------------------------------------------------------------


def variables(
    files: list[TfFile], folder: Path, tfvars: tuple[Path, ...] | None, given: dict[str, Value]
) -> dict[str, Value]:
    """Terraform's precedence: defaults, terraform.tfvars, *.auto.tfvars (by name), then files given, in order.

    `tfvars` None: a module, which takes its inputs from the caller (`given`) and never reads tfvars files.
    """
    found: dict[str, Value] = {}
    for tf, name, body in blocks(files, "variable"):
        if "default" in body and not _has_expr(body["default"]):
            found[name] = Value(body["default"], f"default in {tf.path.name}")
    found.update(given)
    if tfvars is None:
        return found
    auto = [folder / "terraform.tfvars", folder / "terraform.tfvars.json", *sorted(folder.glob("*.auto.tfvars"))]
    for path in [p for p in auto if p.is_file()] + list(tfvars):
        for name, value in _tfvars(path).items():
            found[name] = Value(value, path.name)
    return found


def _tfvars(path: Path) -> dict[str, Any]:
    if path.suffix == ".json":
        limits.check_size(limits.path_size(path), str(path))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg}", file=str(path), where=str(exc.lineno)) from None
        except RecursionError:
            raise InputError(limits.too_deep_message(), file=str(path)) from None
        limits.check_depth(data, str(path))
        return dict(data) if isinstance(data, dict) else {}
    return {k: v for k, v in parse_file(path).data.items() if not _has_expr(v)}


def _has_expr(value: Any) -> bool:
    return _contains(value, Expr)


# --- expressions --------------------------------------------------------------------------------------------------


def resolve(value: Any, scope: Scope, path: str = "") -> Any:
    """Exprs to values where a literal is known; else Unresolved. `dynamic` blocks are expanded or unresolved."""
    if isinstance(value, Expr):
        return _expression(value, scope, path)
    if isinstance(value, list):
        return [resolve(v, scope, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    body = {k: resolve(v, scope, join(path, k)) for k, v in value.items() if k != "dynamic"}
    for block in value.get("dynamic") or ():
        for label, spec in block.items():
            body[label] = _dynamic(label, spec, body.get(label), scope, join(path, label))
    return body


def has_unresolved(value: Any) -> bool:
    return _contains(value, Unresolved)


def _contains(value: Any, kind: type) -> bool:
    """Is there a `kind` anywhere in the value, however deep in its maps and lists?"""
    if isinstance(value, kind):
        return True
    if isinstance(value, dict):
        return any(_contains(v, kind) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, kind) for v in value)
    return False


def as_written(value: Any) -> str:
    """How an unexpanded value reads in a message: the expression as written, or the literal as JSON."""
    return value.text if isinstance(value, Expr) else json.dumps(value, default=str)


def _expression(expr: Expr, scope: Scope, path: str) -> Any:
    if not expr.template:
        return _reference(expr.text, scope, path)
    parts = [_reference(inner, scope, path) for inner in _TEMPLATE_PART.findall(expr.text)]
    if "%{" in expr.text or any(isinstance(p, Unresolved | dict | list) for p in parts):
        # Only the interpolations are named: the literal rest of the string may hold a credential.
        inner = [
            f"${{{i.strip()}}}" for i, p in zip(_TEMPLATE_PART.findall(expr.text), parts, strict=True) if not _plain(p)
        ]
        return Unresolved(f"{', '.join(inner) or 'a %{...} directive'} in a string")
    texts = iter(_template_text(p) for p in parts)
    return unescape(_TEMPLATE_PART.sub(lambda _: next(texts).replace("\\", "\\\\").replace('"', '\\"'), expr.text))


def _plain(value: Any) -> bool:
    return not isinstance(value, Unresolved | dict | list)


def _template_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _reference(text: str, scope: Scope, path: str) -> Any:
    """var.NAME, each.key / each.value, count.index, a dynamic block's iterator and the known references."""
    if text.strip() in scope.references:
        return scope.references[text.strip()]
    match = _REFERENCE.match(text)
    if match is None:
        return Unresolved(text.strip())
    root, name = match["root"], match["name"]
    if root == "var" and name in scope.variables:
        found = scope.variables[name]
        scope.notes.append((path, f"var.{name} from {found.where}"))
        return found.value
    if root in scope.iterators and name in ("key", "value", "index"):
        key, value = scope.iterators[root]
        return value if name == "value" else key
    return Unresolved(text.strip())


def _dynamic(label: str, spec: Any, static: Any, scope: Scope, path: str) -> Any:
    """Expanded when for_each resolves to a literal list or map; otherwise the whole block list is unknown."""
    items = resolve(spec.get("for_each"), scope, path)
    content = (spec.get("content") or [{}])[0]
    iterator = spec.get("iterator")
    name = iterator.text if isinstance(iterator, Expr) else label
    if has_unresolved(items) or not isinstance(items, list | dict) or (static is not None and has_unresolved(static)):
        return Unresolved(f'dynamic "{label}" for_each = {as_written(spec.get("for_each"))}')
    pairs = items.items() if isinstance(items, dict) else enumerate(items)
    expanded = [resolve(content, scope.bind(name, key, item), path) for key, item in pairs]
    return [*(static or []), *expanded]
