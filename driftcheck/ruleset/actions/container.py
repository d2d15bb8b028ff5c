"""Fix actions on one container: its port, limits, env vars, secrets, startup probe, HTTP/2 and CPU throttling."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.redact import is_credential_key
from driftcheck.ruleset.actions import blocks
from driftcheck.ruleset.fixparts import (
    Args,
    Flag,
    Parts,
    ServiceRef,
    cpu_units,
    name_like,
    number,
    on_service,
    quantity,
)
from driftcheck.ruleset.hcl import Block, Setting, literal

_SECRET_PATH = re.compile(r"projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)")
_PROBE_KINDS = {"http": ("httpGet", "http_get"), "tcp": ("tcpSocket", "tcp_socket"), "grpc": ("grpc", "grpc")}
# (model field, gcloud --startup-probe key, Terraform attribute)
_TIMINGS: tuple[tuple[str, str, str], ...] = (
    ("initial_delay_s", "initialDelaySeconds", "initial_delay_seconds"),
    ("timeout_s", "timeoutSeconds", "timeout_seconds"),
    ("period_s", "periodSeconds", "period_seconds"),
    ("failure_threshold", "failureThreshold", "failure_threshold"),
)
_DEFAULT_PROBE = {"kind": "tcp", "initial_delay_s": 0, "timeout_s": 240, "period_s": 240, "failure_threshold": 1}


def _key(args: Args) -> str:
    return name_like(args.get("container")) or blocks.INGRESS_KEY


def _limit(args: Args, ref: ServiceRef, name: str, value: str | None) -> Parts | None:
    """--memory / --cpu; Terraform's `limits` map restates the other limit, which writing the map would drop."""
    if value is None:
        return None
    key, current = _key(args), ref.container(_key(args))
    limits = (*blocks.container(ref, key), Block("resources"), Block("limits", is_map=True))
    other = "memory" if name == "cpu" else "cpu"
    kept = getattr(current, other) if current else None
    settings = [Setting(limits, name, literal(value))]
    settings += [Setting(limits, other, literal(kept), keep=True)] if kept else []
    return Parts((Flag(f"--{name}", value, key),), tuple(settings))


@on_service
def set_port(args: Args, ref: ServiceRef) -> Parts | None:
    port, key = number(args["port"], 1, 65535), _key(args)
    if port is None:
        return None
    setting = Setting((*blocks.container(ref, key), Block("ports")), "container_port", str(port))
    return Parts((Flag("--port", str(port), key),), (setting,))


@on_service
def set_memory(args: Args, ref: ServiceRef) -> Parts | None:
    return _limit(args, ref, "memory", quantity(args["memory"]))


@on_service
def set_cpu(args: Args, ref: ServiceRef) -> Parts | None:
    return _limit(args, ref, "cpu", cpu_units(args["cpu"]))


@on_service
def set_env_vars(args: Args, ref: ServiceRef) -> Parts | None:
    name, key, value = name_like(args["name"]), _key(args), args.get("value")
    if name is None:
        return None
    # A credential never travels in a fix, and a masked value is none: then the user fills in VALUE.
    plain = isinstance(value, str | int | float) and not isinstance(value, bool) and "REDACTED" not in str(value)
    shown = str(value) if plain and str(value) and not is_credential_key(name) else "VALUE"
    env = (*blocks.container(ref, key), Block("env", (("name", literal(name)),)))
    flag = Flag("--update-env-vars", f"{name}={shown}", key, multi=True)
    return Parts((flag,), (Setting(env, "value", literal(shown)),))


def secret_path(secret: str, project: Any, ref: ServiceRef | None) -> str:
    """SECRET in the service's own project; another project's is projects/PROJECT_NUMBER/secrets/SECRET (Cloud
    Run wants that project's number, so an id becomes the PROJECT_NUMBER placeholder)."""
    match = _SECRET_PATH.fullmatch(secret)
    owner, short = (match["project"], match["secret"]) if match else (name_like(project), secret)
    if not owner or (ref is not None and owner == ref.project):
        return short
    return f"projects/{owner if owner.isdigit() else 'PROJECT_NUMBER'}/secrets/{short}"


@on_service
def update_secrets(args: Args, ref: ServiceRef) -> Parts | None:
    name, secret, key = name_like(args["name"]), name_like(args["secret"]), _key(args)
    version = name_like(str(args.get("version") or "")) or "latest"
    if name is None or secret is None:
        return None
    path = secret_path(secret, args.get("project"), ref)
    env = (*blocks.container(ref, key), Block("env", (("name", literal(name)),)))
    names = ("value_from", "name", "key") if ref.v1 else ("value_source", "secret", "version")
    source = (*env, Block(names[0]), Block("secret_key_ref"))
    settings = (Setting(source, names[1], literal(path)), Setting(source, names[2], literal(version)))
    return Parts((Flag("--update-secrets", f"{name}={path}:{version}", key, multi=True),), settings)


@on_service
def set_startup_probe(args: Args, ref: ServiceRef) -> Parts | None:
    """The peer's probe, every field of it. None is Cloud Run's default (TCP on the serving port, 240 s), which
    removing the probe (`--startup-probe ''`) gives back."""
    probe, key = args["probe"], _key(args)
    if probe is None:
        current = ref.container(key)
        return _probe({**_DEFAULT_PROBE, "port": current.port if current else None}, key, ref, "")
    return _probe(probe, key, ref, None) if isinstance(probe, dict) else None


def _probe(probe: dict[str, Any], key: str, ref: ServiceRef, flag: str | None) -> Parts | None:
    kinds, timings = _PROBE_KINDS.get(str(probe.get("kind"))), [number(probe.get(t[0])) for t in _TIMINGS]
    if kinds is None or None in timings:
        return None
    port, path = number(probe.get("port"), 1, 65535), name_like(probe.get("path"))
    where = [(f"{kinds[0]}.port", port), (f"{kinds[0]}.path", path)]
    pairs = [*((t[1], v) for t, v in zip(_TIMINGS, timings, strict=True)), *where]
    value = flag if flag is not None else ",".join(f"{k}={v}" for k, v in pairs if v is not None)
    block = (*blocks.container(ref, key), Block("startup_probe"))
    settings = [Setting(block, t[2], str(v)) for t, v in zip(_TIMINGS, timings, strict=True)]
    check = (*block, Block(kinds[1]))
    settings.append(Setting(check, "port", str(port)) if port else Setting(check, None))
    settings += [Setting(check, "path", literal(path))] if path else []
    return Parts((Flag("--startup-probe", value, key),), tuple(settings))


@on_service
def set_cpu_throttling(args: Args, ref: ServiceRef) -> Parts | None:
    """CPU only during requests (throttled) or always allocated."""
    throttled = {True: True, False: False, "true": True, "false": False}.get(args["throttled"])
    if throttled is None:
        return None
    flag = Flag("--cpu-throttling" if throttled else "--no-cpu-throttling")
    if ref.v1:
        return Parts((flag,), (blocks.annotation("run.googleapis.com/cpu-throttling", str(throttled).lower()),))
    path = (*blocks.container(ref, _key(args)), Block("resources"))
    return Parts((flag,), (Setting(path, "cpu_idle", str(throttled).lower()),))


@on_service
def set_http2(args: Args, ref: ServiceRef) -> Parts | None:
    """End-to-end HTTP/2: the serving port named h2c, or http1. The port is restated: the block is written whole."""
    enabled = {True: True, False: False, "true": True, "false": False}.get(args["enabled"])
    if enabled is None:
        return None
    key, current = _key(args), ref.container(_key(args))
    ports = (*blocks.container(ref, key), Block("ports"))
    settings = [Setting(ports, "name", literal("h2c" if enabled else "http1"))]
    settings += [Setting(ports, "container_port", str(current.port), keep=True)] if current and current.port else []
    return Parts((Flag("--use-http2" if enabled else "--no-use-http2", None, key),), tuple(settings))
