"""Terraform configuration folders (`*.tf`, read with python-hcl2): what a service will be, before any plan exists.

Literals are used as written; `var.NAME` resolves from a variable's default or a tfvars file (provenance says
which); `each.*` and `count.index` resolve inside literal `for_each` / `count` expansions. Everything else (locals,
other resources' attributes, functions, unresolvable `${...}` templates, non-literal `dynamic` blocks) becomes
`Unknown("unresolved: <expression>")`: never compared, never reported as a difference.

The resolved attributes have the shape of Terraform state (every nested block a list), so they go through the same
mapping as state and plans (terraform_resources), and a service in a .tf folder compares equal to it exported.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import EnvVar, Inventory, Service, Unknown
from driftcheck.sources import common, terraform_resources
from driftcheck.sources.terraform_resources import LIST_BLOCKS, MODELLED, SINGLE_BLOCKS, Instance, index_suffix

_MARKERS = frozenset({"__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"})
_INTERPOLATION = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")


@dataclass(frozen=True)
class Expr:
    """An HCL expression python-hcl2 left as source text: a reference, a call, or a string template."""

    text: str  # without the ${ } wrapper; a template keeps its quotes
    template: bool = False


def _clean(value: Any) -> Any:
    """The one place python-hcl2 8.x's spelling is undone: quoted strings, quoted labels, block markers.

    It keeps a literal string quoted (`'"api"'`) and writes an expression as `${...}`, so the quotes are what tells
    a literal from a reference; that distinction survives here as str versus Expr.
    """
    if isinstance(value, dict):
        return {_label(k): _clean(v) for k, v in value.items() if k not in _MARKERS}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if not isinstance(value, str):
        return value  # numbers, booleans, null
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        if _INTERPOLATION.search(value):
            return Expr(value, template=True)
        return _unescape(value)
    if value.startswith("${") and value.endswith("}"):
        return Expr(value[2:-1])
    return Expr(value)  # a bare identifier (a variable's `type = string`)


def _label(key: str) -> str:
    return _unescape(key) if len(key) >= 2 and key.startswith('"') and key.endswith('"') else key


def _unescape(quoted: str) -> str:
    try:
        text = str(json.loads(quoted))
    except json.JSONDecodeError:
        text = quoted[1:-1]
    return text.replace("$${", "${").replace("%%{", "%{")


# --- reading files ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TfFile:
    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]  # top-level block labels -> line
    inner: dict[tuple[str, ...], dict[str, int]]  # top-level block labels -> attribute path in it -> line


def parse_file(path: Path) -> TfFile:
    """One .tf or .tfvars file; a syntax error is an InputError naming the file and line."""
    import hcl2  # lazily: only a .tf folder needs the parser
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = hcl2.parses(path.read_text(encoding="utf-8"))
    except UnexpectedInput as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"HCL syntax error: {detail}", file=str(path), where=str(exc.line)) from None
    except (LarkError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not readable as HCL: {exc}".splitlines()[0], file=str(path)) from None
    options = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
    data = _clean(hcl2.serialize(tree, serialization_options=options))
    lines, inner = _block_lines(tree)
    return TfFile(path, data, lines, inner)


def _block_lines(tree: Any) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, ...], dict[str, int]]]:
    """python-hcl2 8.x's dict output has no positions (with_meta is declared but unused); its parse tree has them."""
    from hcl2.rules.base import BlockRule

    lines, inner = {}, {}
    for child in tree.body.children:
        if isinstance(child, BlockRule) and getattr(child._meta, "line", None):
            labels = tuple(_label(str(label.serialize())) for label in child.labels)
            lines[labels] = int(child._meta.line)
            inner[labels] = _body_lines(child.body, "", {})
    return lines, inner


def _body_lines(body: Any, path: str, lines: dict[str, int]) -> dict[str, int]:
    """Attribute path (`template[0].containers[0].env[2]`, as in state) -> line; dynamic blocks keep their parent's."""
    from hcl2.rules.base import AttributeRule, BlockRule

    seen: dict[str, int] = {}
    for child in body.children:
        line = getattr(child._meta, "line", None)
        if isinstance(child, AttributeRule) and line:
            lines[_join(path, str(child.identifier.serialize()))] = int(line)
        elif isinstance(child, BlockRule) and line and not child.labels[1:]:
            name = str(child.labels[0].serialize())
            seen[name] = seen.get(name, -1) + 1
            nested = f"{_join(path, name)}[{seen[name]}]"
            lines[nested] = int(line)
            _body_lines(child.body, nested, lines)
    return lines


def _blocks(files: list[TfFile], kind: str) -> Iterator[tuple[TfFile, str, dict[str, Any]]]:
    """`variable "x" {}` and `module "m" {}` blocks: (file, label, body)."""
    for tf in files:
        for block in tf.data.get(kind) or ():
            for label, body in block.items():
                yield tf, label, body if isinstance(body, dict) else {}


# --- variables ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: Any
    where: str  # "default in variables.tf", "terraform.tfvars", "module.app input"


def variables(
    files: list[TfFile], folder: Path, tfvars: tuple[Path, ...] | None, given: dict[str, Value]
) -> dict[str, Value]:
    """Terraform's precedence: defaults, terraform.tfvars, *.auto.tfvars (by name), then files given, in order.

    `tfvars` None: a module, which takes its inputs from the caller (`given`) and never reads tfvars files.
    """
    found: dict[str, Value] = {}
    for tf, name, body in _blocks(files, "variable"):
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg}", file=str(path), where=str(exc.lineno)) from None
        return dict(data) if isinstance(data, dict) else {}
    return {k: v for k, v in parse_file(path).data.items() if not _has_expr(v)}


def _has_expr(value: Any) -> bool:
    if isinstance(value, Expr):
        return True
    if isinstance(value, dict):
        return any(_has_expr(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expr(v) for v in value)
    return False


# --- resolving expressions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unresolved:
    expression: str


_REFERENCE = re.compile(r"^\s*(?P<root>[A-Za-z_][\w-]*)\.(?P<name>[A-Za-z_][\w-]*)\s*$")
_TEMPLATE_PART = re.compile(r"(?<!\$)\$\{([^{}]*)\}")


@dataclass
class Scope:
    variables: dict[str, Value]
    iterators: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # each / count / dynamic -> (key, value)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (Terraform attribute path, where a var came from)
    project: Any = None  # the google provider's project: what a resource without `project` is created in
    project_note: str = "the google provider's project"

    def bind(self, name: str, key: Any, value: Any) -> Scope:
        return dataclasses.replace(self, iterators={**self.iterators, name: (key, value)})


def resolve(value: Any, scope: Scope, path: str = "") -> Any:
    """Exprs to values where a literal is known; else Unresolved. `dynamic` blocks are expanded or unresolved."""
    if isinstance(value, Expr):
        return _expression(value, scope, path)
    if isinstance(value, list):
        return [resolve(v, scope, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    body = {k: resolve(v, scope, _join(path, k)) for k, v in value.items() if k != "dynamic"}
    for block in value.get("dynamic") or ():
        for label, spec in block.items():
            body[label] = _dynamic(label, spec, body.get(label), scope, _join(path, label))
    return body


def _join(path: str, key: str) -> str:
    step = f"[{key}]" if "." in key or "/" in key else f".{key}"
    return (path + step).lstrip(".")


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
    return _unescape(_TEMPLATE_PART.sub(lambda _: next(texts).replace("\\", "\\\\").replace('"', '\\"'), expr.text))


def _plain(value: Any) -> bool:
    return not isinstance(value, Unresolved | dict | list)


def _template_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _reference(text: str, scope: Scope, path: str) -> Any:
    """var.NAME, each.key / each.value, count.index and a dynamic block's iterator; nothing else."""
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
    if _has_unresolved(items) or not isinstance(items, list | dict) or (static is not None and _has_unresolved(static)):
        return Unresolved(f'dynamic "{label}" for_each = {_source(spec.get("for_each"))}')
    pairs = items.items() if isinstance(items, dict) else enumerate(items)
    expanded = [resolve(content, scope.bind(name, key, item), path) for key, item in pairs]
    return [*(static or []), *expanded]


def _source(value: Any) -> str:
    return value.text if isinstance(value, Expr) else json.dumps(value, default=str)


def _has_unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(_has_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unresolved(v) for v in value)
    return False


# Unresolved values the parsers validate (enums, quantities, numbers) or read as blocks are left out; any other
# unresolved value is replaced by PLACEHOLDER, which keeps list positions and block shapes. Either way the canonical
# fields they feed become Unknown after parsing (`_mark`), so neither a default nor the placeholder is ever compared.
PLACEHOLDER = "unresolved"
_LEFT_OUT = frozenset(
    {
        "ingress",
        "egress",
        "execution_environment",
        "timeout",
        "timeout_seconds",
        "cpu",
        "memory",
        "cpu_idle",
        "startup_cpu_boost",
        "session_affinity",
        "container_concurrency",
        "max_instance_request_concurrency",
        "min_instance_count",
        "max_instance_count",
        "container_port",
        "port",
        "initial_delay_seconds",
        "period_seconds",
        "failure_threshold",
        "annotations",
        "labels",
        "limits",
        "enabled",
        "ipv4_enabled",
        "activation_policy",
        "database_version",
    }
    | SINGLE_BLOCKS
    | LIST_BLOCKS
) - {"secret"}  # fmt: skip  (`secret` is also the secret id inside secret_key_ref: a placeholder keeps the ref)
_VALIDATED_MAPS = frozenset({"annotations", "limits"})  # an unresolved entry is left out, not replaced


def split(value: Any, path: str, unresolved: dict[str, str], key: str = "") -> Any:
    """Unresolved values out of the attributes (listed in `unresolved` by Terraform path), so parsers never see them.

    A list with an unresolved item, or a block whose name is unresolved, is unresolved as a whole.
    """
    if isinstance(value, Unresolved):
        unresolved[path] = value.expression
        return _DROPPED if key in _LEFT_OUT or key.startswith("run.googleapis.com/") or "/" in key else PLACEHOLDER
    if isinstance(value, list):
        bad = next((p for p in map(_item_problem, value) if p), None)
        if bad:
            unresolved[path] = bad
        items = [split(v, f"{path}[{i}]", {} if bad else unresolved, key) for i, v in enumerate(value)]
        return [PLACEHOLDER if i is _DROPPED else i for i in items]
    if isinstance(value, dict):
        keys = {k: key if key in _VALIDATED_MAPS else k for k in value}  # entries of a validated map count as it
        kept = {k: split(v, _join(path, k), unresolved, keys[k]) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROPPED}
    return value


_DROPPED = object()


def _item_problem(item: Any) -> str | None:
    if isinstance(item, Unresolved):
        return item.expression
    if isinstance(item, dict) and isinstance(item.get("name"), Unresolved):
        return str(item["name"].expression)
    return None


# --- resources ----------------------------------------------------------------------------------------------------

_META_ARGUMENTS = ("count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection")
_CLOUD_RUN = frozenset({"google_cloud_run_v2_service", "google_cloud_run_service"})


@dataclass(frozen=True)
class TfInstance:
    instance: Instance
    file: Path
    line: int | None
    unresolved: dict[str, str]  # Terraform attribute path -> expression
    notes: list[tuple[str, str]]  # (Terraform attribute path, which variable value was used)
    lines: dict[str, int] = field(default_factory=dict)  # Terraform attribute path -> line
    ignore_changes: tuple[str, ...] = ()  # lifecycle.ignore_changes, as Terraform attribute paths (or "all")


class _Unexpandable(Exception):
    """count / for_each that is not a literal: the instances (and so their addresses) are unknown."""


def resource_instances(files: list[TfFile], scope: Scope, prefix: str, errors: dict[str, str]) -> Iterator[TfInstance]:
    for tf in files:
        for block in tf.data.get("resource") or ():
            for kind, named in block.items():
                if kind not in MODELLED:
                    continue
                for name, body in named.items():
                    line = tf.lines.get(("resource", kind, name))
                    address = f"{prefix}{kind}.{name}"
                    try:
                        keyed = _instance_keys(body, scope)
                    except _Unexpandable as exc:  # the other resources are still worth comparing
                        errors[address] = f"{_where(tf.path, line)}: {exc}"
                        continue
                    for key, own in keyed:
                        yield _instance(tf, line, address + index_suffix(key), (kind, name), body, own)


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _instance_keys(body: dict[str, Any], scope: Scope) -> list[tuple[Any, Scope]]:
    """count and for_each over literals (or resolved variables): one instance each, keyed as Terraform keys them."""
    if "count" in body:
        count = resolve(body["count"], scope)
        if not isinstance(count, int) or isinstance(count, bool):
            raise _Unexpandable(f"count = {_source(body['count'])} is not a literal, so its instances are unknown")
        return [(i, scope.bind("count", i, i)) for i in range(count)]
    if "for_each" in body:
        items = resolve(body["for_each"], scope)
        if _has_unresolved(items) or not isinstance(items, dict | list):
            raise _Unexpandable(
                f"for_each = {_source(body['for_each'])} is not a literal, so its instances are unknown"
            )
        pairs = items.items() if isinstance(items, dict) else ((str(v), v) for v in items)
        return [(key, scope.bind("each", key, value)) for key, value in pairs]
    return [(None, scope)]


def _instance(
    tf: TfFile, line: int | None, address: str, labels: tuple[str, str], body: dict[str, Any], scope: Scope
) -> TfInstance:
    kind, name = labels
    own = dataclasses.replace(scope, notes=[])
    unresolved: dict[str, str] = {}
    attributes = {k: v for k, v in body.items() if k not in _META_ARGUMENTS}
    if "project" not in attributes:  # created in the provider's project; say so where the project is reported
        attributes["project"] = scope.project if scope.project is not None else Expr("provider.google.project")
        own.notes.append(("project", scope.project_note))
    values = split(resolve(attributes, own), "", unresolved)
    for key in ("name", "project", "location", "region"):
        if key in unresolved:  # the mappers build resource names from these; Unknown replaces them afterwards
            values[key] = f"{PLACEHOLDER}-{key}"
    lines = tf.inner.get(("resource", kind, name), {})
    ignored = _ignore_changes(body)
    return TfInstance(Instance(address, kind, values), tf.path, line, unresolved, own.notes, lines, ignored)


def _ignore_changes(body: dict[str, Any]) -> tuple[str, ...]:
    """`lifecycle { ignore_changes = [template[0].containers[0].image, client] }`, or `= all`."""
    listed: Any = [(block or {}).get("ignore_changes") for block in body.get("lifecycle") or ()]
    paths = []
    for entry in listed:
        items = entry if isinstance(entry, list) else [entry] if entry is not None else []
        paths += [item.text if isinstance(item, Expr) else str(item) for item in items]
    return tuple(paths)


# --- the folder ---------------------------------------------------------------------------------------------------


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
    if not folder.is_dir():
        raise InputError("not a folder of .tf files", file=str(folder))
    files = [parse_file(p) for p in sorted(folder.glob("*.tf"))]
    if not files:
        raise InputError("no .tf files in this folder", file=str(folder))
    scope = Scope(variables(files, folder, tfvars, given), project=project)
    for _, provider, body in _blocks(files, "provider"):
        if provider == "google" and "project" in body:
            scope.project = resolve(body["project"], scope, "project")
            scope.project_note += "".join(f", {note}" for _, note in scope.notes)
            scope.notes.clear()
    for found in resource_instances(files, scope, prefix, inventory.errors):
        _load_instance(found, inventory)
    for tf, name, body in _blocks(files, "module"):
        _module(folder, tf, name, body, scope, prefix, inventory)


def _module(
    folder: Path, tf: TfFile, name: str, body: dict[str, Any], scope: Scope, prefix: str, inventory: Inventory
) -> None:
    """Local modules (`source = "./modules/x"`) are followed with their inputs; registry and git sources are not."""
    address = f"{prefix}module.{name}"
    source = body.get("source")
    where = _where(tf.path, tf.lines.get(("module", name)))
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        inventory.errors[address] = f"{where}: module source {_source(source)} not followed (only local ./ modules)"
        return
    if "count" in body or "for_each" in body:
        inventory.errors[address] = f"{where}: a module with count or for_each is not followed"
        return
    inputs = {}
    for key, raw in body.items():
        if key in ("source", "version", "providers", "depends_on"):
            continue
        value = resolve(raw, scope, key)
        if not _has_unresolved(value):
            inputs[key] = Value(value, f"{address} input in {tf.path.name}")
    _load_folder((folder / source).resolve(), None, inputs, f"{address}.", inventory, scope.project)


def _load_instance(found: TfInstance, inventory: Inventory) -> None:
    if found.instance.type in _REFERENCED:
        _load_referenced(found, inventory)
        return
    if found.instance.type not in _CLOUD_RUN:
        # Secret Manager declarations are left out: an _iam_member lists one grant, and read as the secret's
        # policy it would make the access rule deny everyone else falsely; versions and payloads are not in .tf.
        return
    own = Inventory()
    terraform_resources.load_instances([found.instance], own, str(found.file))
    for service in own.services.values():
        common.add_service(inventory, _finish(service, found))


_REFERENCED = frozenset({"google_vpc_access_connector", "google_sql_database_instance"})


def _load_referenced(found: TfInstance, inventory: Inventory) -> None:
    """A connector or Cloud SQL instance the services point at; only when its name, project and region are known."""
    address, values = found.instance.address, found.instance.attributes
    missing = [k for k in ("name", "project", "region") if k in found.unresolved or not values.get(k)]
    if missing:
        inventory.errors[address] = f"{_where(found.file, found.line)}: {', '.join(missing)} not known from the .tf"
        return
    own = Inventory()
    terraform_resources.load_instances([found.instance], own, str(found.file))
    prefix = f"{found.file}:{address}."
    for collection in (own.connectors, own.sql_instances):
        for key, resource in collection.items():
            fields = {c: f.removeprefix(prefix) for c, f in resource.provenance.items()}
            for tf_path, expression in found.unresolved.items():
                for canonical in _covered(fields, tf_path):
                    resource = _mark(resource, canonical.split("."), Unknown(f"unresolved: {expression}"))
            where = f"{found.file}:{found.line}" if found.line else f"{found.file}:{address}"
            state = Unknown("a .tf declares no state (READY, RUNNABLE...); export the resource with gcloud")
            located = dataclasses.replace(resource, state=state, provenance=dict.fromkeys(resource.provenance, where))
            getattr(inventory, "connectors" if collection is own.connectors else "sql_instances")[key] = located


# --- after parsing: unresolved fields become Unknown, provenance points at the file and line ----------------------


class UnresolvedCollection(Unknown):
    """An unknown map or list (env from an unexpanded dynamic block, a list with an unresolved item).

    compare drops every change under it, as under any Unknown; code that iterates a service's maps and lists (the
    rule context walks `container.env.values()`) sees an empty one instead of failing.
    """

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def values(self) -> tuple[()]:
        return ()

    def items(self) -> tuple[()]:
        return ()

    def keys(self) -> tuple[()]:
        return ()


_TOKEN = re.compile(r"[^.\[\]]+|\[[^\]]*\]")


def _finish(service: Service, found: TfInstance) -> Service:
    address = found.instance.address
    fields = _fields(service, address, found.instance.type)
    for tf_path, expression in found.unresolved.items():
        reason = Unknown(f"unresolved: {expression}")
        for canonical in _covered(fields, tf_path):
            service = _mark(service, canonical.split("."), reason)
    service = _placeholder_connector(service, found.unresolved)
    where = str(found.line) if found.line else address
    provenance = {canonical: _located(found, where, tf_path) for canonical, tf_path in fields.items()}
    name = address if "name" in found.unresolved else service.name
    ignored = tuple(glob for tf_path in found.ignore_changes for glob in _ignored_globs(fields, tf_path))
    metadata = dataclasses.replace(service.metadata, ignore_changes=ignored)
    return dataclasses.replace(service, name=name, origin=str(found.file), provenance=provenance, metadata=metadata)


def _ignored_globs(fields: dict[str, str], tf_path: str) -> list[str]:
    """The canonical fields an ignore_changes entry covers, each with everything under it."""
    if tf_path == "all":
        return ["*"]
    covered = [c for c, f in fields.items() if _within(f, tf_path)] or _covered(fields, tf_path)
    return [glob for canonical in covered for glob in (canonical, f"{canonical}.*")]


def _placeholder_connector(service: Service, unresolved: dict[str, str]) -> Service:
    """A short connector name is expanded with the service's project and region: unknown when either one is."""
    connector = service.vpc.connector
    if not isinstance(connector, str) or f"/{PLACEHOLDER}-" not in connector:
        return service
    expression = unresolved.get("project") or unresolved.get("location") or PLACEHOLDER
    unknown = Unknown(f"unresolved: {expression} (the connector's project or region)")
    return dataclasses.replace(service, vpc=dataclasses.replace(service.vpc, connector=unknown))


def _fields(service: Service, address: str, kind: str) -> dict[str, str]:
    """Canonical path -> Terraform attribute path: the parsers' provenance, plus the fields they leave unrecorded."""
    fields = {c: f.removeprefix(f"{address}.") for c, f in service.provenance.items()}
    fields.update({"name": "name", "project": "project", "region": "location"})
    fields["vpc.connector"] = fields.get("vpc", "")
    throttling = "template[0].metadata[0].annotations[run.googleapis.com/cpu-throttling]"
    boost = "template[0].metadata[0].annotations[run.googleapis.com/startup-cpu-boost]"
    v2 = kind == "google_cloud_run_v2_service"
    ref = "value_source[0].secret_key_ref[0]" if v2 else "value_from[0].secret_key_ref[0]"
    for canonical, base in list(fields.items()):
        parts = canonical.split(".")
        if len(parts) == 4 and parts[0] == "containers" and parts[2] == "env":
            fields[f"{canonical}.value"] = f"{base}.value"
            fields[f"{canonical}.secret.secret"] = f"{base}.{ref}.{'secret' if v2 else 'name'}"
            fields[f"{canonical}.secret.version"] = f"{base}.{ref}.{'version' if v2 else 'key'}"
        if len(parts) != 2 or parts[0] != "containers":
            continue
        fields.update({f"{canonical}.{name}": f"{base}.{name}" for name in ("command", "args", "env", "image")})
        fields[f"{canonical}.cpu_always_allocated"] = f"{base}.resources[0].cpu_idle" if v2 else throttling
        fields[f"{canonical}.startup_cpu_boost"] = f"{base}.resources[0].startup_cpu_boost" if v2 else boost
    return fields


def _covered(fields: dict[str, str], tf_path: str) -> list[str]:
    """The canonical fields an unresolved value feeds: those inside it, else the most specific one holding it."""
    inside = [c for c, f in fields.items() if _within(f, tf_path) and f != tf_path]
    holders = [c for c, f in fields.items() if _within(tf_path, f)]
    if holders:
        inside.append(max(holders, key=lambda c: (len(_TOKEN.findall(fields[c])), len(c))))
    return inside


def _within(path: str, prefix: str) -> bool:
    """Is `path` at or under `prefix`? `[]` in either (`volumes[].cloud_sql_instance`) stands for any index."""
    tokens, head = _TOKEN.findall(path), _TOKEN.findall(prefix)
    if len(head) > len(tokens):
        return False
    return all(_same_step(a, b) for a, b in zip(head, tokens[: len(head)], strict=True))


def _same_step(a: str, b: str) -> bool:
    return a == b or ("[]" in (a, b) and a.startswith("[") and b.startswith("["))


def _mark(value: Any, keys: list[str], unknown: Unknown) -> Any:
    if not keys:
        return _unknown_like(value, unknown)
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _mark(value[head], rest, unknown)}
    if _is_record(value) and head in {f.name for f in dataclasses.fields(value)}:
        return dataclasses.replace(value, **{head: _mark(getattr(value, head), rest, unknown)})
    return value


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type | Unknown)


def _unknown_like(value: Any, unknown: Unknown) -> Any:
    """Unknown in the value's own place: rules read env vars, containers and volumes as objects, maps as maps."""
    if isinstance(value, Unknown):
        return value  # already unknown (two unresolved values feed it): the first reason stays, and so does its type
    if isinstance(value, EnvVar):
        return EnvVar(value=unknown)
    if isinstance(value, dict | tuple | list):
        return UnresolvedCollection(unknown.reason)
    if _is_record(value):
        changes = {f.name: _unknown_like(getattr(value, f.name), unknown) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return unknown


def _located(found: TfInstance, where: str, tf_path: str) -> str:
    """The line of the attribute (else of its block, else of the resource), so a report says `main.tf:12`; then the
    variables that fed the field."""
    holders = [path for path in found.lines if tf_path and _within(tf_path, path)]
    if holders:
        where = str(found.lines[max(holders, key=len)])
    used = sorted({note for path, note in found.notes if tf_path and _within(path, tf_path)})
    return f"{where} ({'; '.join(used)})" if used else where
