"""What a fix action is made of: the service it applies to, its arguments, and the parts it renders to (flags of
the service's one gcloud command, settings of its one Terraform resource, or commands of its own); and the parsers
that turn an evaluated argument into a value to write, or None when it is none."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftcheck.ruleset.hcl import Setting


@dataclass(frozen=True)
class ContainerRef:
    key: str  # canonical key: `ingress` for the serving container, else the sidecar's name
    name: str  # as deployed: what `--container` needs
    port: int | None = None
    cpu: str | None = None  # current limits, restated when Terraform's `limits` map is written whole
    memory: str | None = None


@dataclass(frozen=True)
class ServiceRef:
    """The service a fix applies to: given by the caller, never spelled in a rule."""

    name: str
    region: str | None = None
    project: str | None = None
    address: str | None = None  # Terraform address, for a service read from state or a plan
    containers: tuple[ContainerRef, ...] = ()
    cloudsql_instances: tuple[str, ...] = ()

    @property
    def v1(self) -> bool:
        """google_cloud_run_service (v1) keeps settings in annotations and `spec`, not first-class attributes."""
        return bool(self.address and re.search(r"(^|\.)google_cloud_run_service\.", self.address))

    @property
    def terraform_address(self) -> str:
        return self.address or f"google_cloud_run_v2_service.{self.name}"

    def container(self, key: str) -> ContainerRef | None:
        return next((c for c in self.containers if c.key == key), None)


@dataclass(frozen=True)
class Flag:
    name: str
    value: str | None = None  # None: a switch (--no-cpu-throttling)
    container: str | None = None  # a container key: the flag follows `--container NAME`
    multi: bool = False  # KEY=VALUE lists: several actions' values join into one flag


@dataclass(frozen=True)
class Parts:
    flags: tuple[Flag, ...] = ()  # of the service's `gcloud run services update`
    settings: tuple[Setting, ...] = ()  # of the service's Terraform resource
    commands: tuple[tuple[str, ...], ...] = ()  # gcloud commands of their own (argv)
    snippets: tuple[str, ...] = ()  # Terraform of its own: a new resource, or a terraform command
    restores: bool = False  # `terraform apply` of the service: its declared settings need no snippet


@dataclass(frozen=True)
class Arg:
    name: str
    required: bool = False  # must be given in the rule (its value may still turn out unknown)
    nullable: bool = False  # null is a value (unset: the platform default), not a missing argument


Args = dict[str, Any]
Build = Callable[[Args, ServiceRef | None], Parts | None]


@dataclass(frozen=True)
class Action:
    args: tuple[Arg, ...]
    build: Build
    renders: str  # what it runs and sets, for `driftcheck rules show`


def on_service(build: Callable[[Args, ServiceRef], Parts | None]) -> Build:
    """An action that changes the service itself: nothing to build without one."""
    return lambda args, ref: build(args, ref) if ref is not None else None


def number(value: Any, low: int = 0, high: int = 2**31) -> int | None:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        return None
    return int(value) if low <= int(value) <= high else None


def name_like(value: Any) -> str | None:
    """A name, path or email to paste: a non-empty string without blanks; anything else is no argument."""
    return value if isinstance(value, str) and value and not any(c.isspace() for c in value) else None


def quantity(value: Any) -> str | None:
    """Memory as Kubernetes writes it: bytes become Gi, Mi or Ki; `512Mi` stays itself."""
    if isinstance(value, str) and re.fullmatch(r"\d+(Ki|Mi|Gi|Ti|k|M|G|T)", value):
        return value
    count = number(value, 1, 2**50)
    if count is None:
        return None
    unit = next(((n, u) for n, u in ((2**30, "Gi"), (2**20, "Mi"), (2**10, "Ki")) if count % n == 0), (1, ""))
    return f"{count // unit[0]}{unit[1]}"


def cpu_units(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?m?", value):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return f"{value:g}"
    return None
