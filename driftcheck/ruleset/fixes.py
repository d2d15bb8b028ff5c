"""Fixes as data: a rule names typed actions (set-port, update-secrets, grant-secret-access, ...) with their
arguments as CEL values; one renderer turns them into gcloud commands and a Terraform snippet.

Contract (used by ruleset/render.py, and by ruleset/group.py when several findings become one):
- `FixAction(action, args, service)`: one action with plain (already evaluated) arguments, and the service it
  applies to (`ServiceRef`, from `service_ref(service)`), which the caller gives: a rule never spells it.
- `render(actions)`: {"gcloud": ..., "terraform": ...} for a list of actions, merging actions that act on the same
  service into one command (several `update-secrets` of one service become one `gcloud run services update
  --update-secrets A=a:1,B=b:latest`) and one Terraform snippet. A key is left out when no runnable command
  exists: never `?`, `unknown` or a raw template. Commands of their own (a grant) come first, joined by `&&`;
  a service that `terraform apply` restores gets no snippet setting what its configuration declares already.
The actions are defined in ruleset/actions/ (one module per thing they change; `__init__.py` names them), of the
parts in ruleset/fixparts.py; ruleset/hcl.py writes the Terraform.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from driftcheck.kinds.service.common import own_name
from driftcheck.model import Service, Unknown
from driftcheck.ruleset import hcl
from driftcheck.ruleset.actions import ACTIONS
from driftcheck.ruleset.fixparts import ContainerRef, Flag, Parts, ServiceRef, cpu_units, quantity

__all__ = ["ACTIONS", "ContainerRef", "FixAction", "ServiceRef", "context_ref", "problem", "render", "service_ref"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class FixAction:
    action: str  # a key of ACTIONS, e.g. "update-secrets", "grant-secret-access"
    args: dict[str, Any] = field(default_factory=dict)  # plain values; None (or absent) when unknown
    service: ServiceRef | None = None


def problem(action: str, arg_names: Iterable[str]) -> tuple[str, str] | None:
    """What is wrong with an action as a rule spells it, as (field, message); None when it is fine."""
    known = ACTIONS.get(action)
    if known is None:
        return "action", f"unknown action {action!r} (known: {', '.join(sorted(ACTIONS))})"
    names, allowed = set(arg_names), {a.name for a in known.args}
    for arg in known.args:
        if arg.required and arg.name not in names:
            return f"args.{arg.name}", f"required by {action}"
    unknown = sorted(names - allowed)
    if unknown:
        return f"args.{unknown[0]}", f"{action} takes {', '.join(sorted(allowed)) or 'no arguments'}"
    return None


def service_ref(service: Service) -> ServiceRef:
    """What a fix needs to know of its service: where it runs, how Terraform addresses it, its containers."""
    containers = tuple(
        ContainerRef(key, c.name, c.port, _known(cpu_units, c.cpu), _known(quantity, c.memory_bytes))
        for key, c in service.containers.items()
    )
    return ServiceRef(
        name=own_name(service),  # a revision compare's `api@latest (api-00042-fix)` is fixed as `api`
        region=None if isinstance(service.region, Unknown) else service.region,
        project=None if isinstance(service.project, Unknown) else service.project,
        address=service.metadata.address,
        containers=containers,
        cloudsql_instances=tuple(service.cloudsql_instances),
    )


def context_ref(plain: Any) -> ServiceRef | None:
    """The same from a service's context as rules see it (`target`); an unknown value (a map) is left out."""
    if not isinstance(plain, dict) or not isinstance(plain.get("name"), str):
        return None
    containers, metadata, instances = (_of(plain.get(key), kind) for key, kind in _CONTEXT_SHAPE)
    return ServiceRef(
        name=plain["name"],
        region=_text(plain.get("region")),
        project=_text(plain.get("project")),
        address=_text(metadata.get("address")),
        containers=tuple(_container_ref(key, c) for key, c in containers.items() if isinstance(c, dict)),
        cloudsql_instances=tuple(i for i in instances if isinstance(i, str)),
    )


_CONTEXT_SHAPE: tuple[tuple[str, type], ...] = (("containers", dict), ("metadata", dict), ("cloudsql_instances", list))


def _of(value: Any, kind: type) -> Any:
    """The value when it has the expected shape, else an empty one (an unknown marker is a map, not a list)."""
    return value if isinstance(value, kind) else kind()


def _container_ref(key: str, plain: dict[str, Any]) -> ContainerRef:
    port = plain.get("port")
    return ContainerRef(
        key,
        _text(plain.get("name")) or "",
        port if isinstance(port, int) else None,
        _known(cpu_units, plain.get("cpu")),
        _known(quantity, plain.get("memory_bytes")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def render(actions: Sequence[FixAction]) -> dict[str, str]:
    commands: list[tuple[str, ...]] = []
    snippets: list[str] = []
    services: dict[ServiceRef, list[Parts]] = {}
    restored: set[ServiceRef] = set()
    for action in _unique(actions):
        parts = build(action)
        if parts is None:
            continue
        commands += parts.commands
        snippets += parts.snippets
        if action.service is not None and (parts.flags or parts.settings):
            services.setdefault(action.service, []).append(parts)
        if action.service is not None and parts.restores:
            restored.add(action.service)
    commands += [argv for ref, parts in services.items() if (argv := _update(ref, parts))]
    snippets += [text for ref, parts in services.items() if ref not in restored and (text := _snippet(ref, parts))]
    gcloud = " && ".join(shlex.join(argv) for argv in _unique(commands))
    rendered = {"gcloud": gcloud, "terraform": "; ".join(_unique(snippets))}
    return {kind: text for kind, text in rendered.items() if text}


def build(action: FixAction) -> Parts | None:
    """One action's parts; None when it is unknown or an argument it cannot do without is missing."""
    known = ACTIONS.get(action.action)
    if known is None:
        return None
    args = {arg.name: action.args.get(arg.name) for arg in known.args}
    if any(arg.required and not arg.nullable and args[arg.name] is None for arg in known.args):
        return None
    return known.build(args, action.service)


def _update(ref: ServiceRef, parts: list[Parts]) -> tuple[str, ...] | None:
    """One `gcloud run services update` for every flag on this service. Service flags come first: gcloud applies
    what follows `--container NAME` to that container only."""
    flags = [flag for p in parts for flag in p.flags]
    if not flags:
        return None
    argv = ["gcloud", "run", "services", "update", ref.name, "--region", ref.region or "REGION"]
    argv += ["--project", ref.project] if ref.project else []
    argv += _merged(f for f in flags if f.container is None)
    by_container: dict[str, list[Flag]] = {}
    for flag in flags:
        if flag.container is not None:
            by_container.setdefault(flag.container, []).append(flag)
    several = len(ref.containers) > 1
    for key, group in by_container.items():
        known = ref.container(key)
        argv += ["--container", known.name if known and known.name else key] if several else []
        argv += _merged(group)
    return tuple(argv)


def _merged(flags: Iterable[Flag]) -> list[str]:
    """A flag given twice: KEY=VALUE lists join; any other keeps its first value (the most likely cause's)."""
    values: dict[str, list[str | None]] = {}
    multi: set[str] = set()
    for flag in flags:
        if flag.multi:
            multi.add(flag.name)
        if flag.name not in values or (flag.multi and flag.value not in values[flag.name]):
            values.setdefault(flag.name, []).append(flag.value)
    argv: list[str] = []
    for name, given in values.items():
        texts = [v for v in given if v is not None]
        argv += [name, _joined(texts)] if name in multi else [name, *texts[:1]]
    return argv


def _joined(values: list[str]) -> str:
    """gcloud splits KEY=VALUE lists at commas; a value holding one needs another delimiter (`^@^A=1,2@B=3`)."""
    if not any("," in v for v in values):
        return ",".join(values)
    delimiter = next(d for d in "@;|#~" if not any(d in v for v in values))
    return f"^{delimiter}^" + delimiter.join(values)


def _snippet(ref: ServiceRef, parts: list[Parts]) -> str | None:
    body = hcl.render(s for p in parts for s in p.settings)
    return f"{ref.terraform_address}: {body}" if body else None


def _known(convert: Callable[[Any], str | None], value: Any) -> str | None:
    return None if value is None or isinstance(value, Unknown) else convert(value)


def _unique(items: Iterable[_T]) -> list[_T]:
    """In order, each once; by equality, since an action's arguments (dicts, lists) do not hash."""
    seen: list[_T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
