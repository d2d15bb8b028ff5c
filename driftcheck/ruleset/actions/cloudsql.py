"""Fix actions on the Cloud SQL instances a service attaches: add, remove or set the list of connection names."""

from __future__ import annotations

import re

from driftcheck.ruleset.actions import blocks
from driftcheck.ruleset.fixparts import Args, Flag, Parts, ServiceRef, on_service
from driftcheck.ruleset.hcl import Block, Setting, literal

_CONNECTION_NAME = re.compile(r"[^:\s,]+:[^:\s,]+:[^:\s,]+")


@on_service
def add_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--add-cloudsql-instances keeps what the service has (--set-… would drop it); Terraform lists them all."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    new = [n for n in dict.fromkeys(str(n).strip() for n in names) if _CONNECTION_NAME.fullmatch(n)]
    new = [n for n in new if n not in ref.cloudsql_instances]
    if not new:
        return None
    every, flags = (*ref.cloudsql_instances, *new), tuple(Flag("--add-cloudsql-instances", n, multi=True) for n in new)
    return Parts(flags, _instances_settings(every, ref))


@on_service
def remove_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--remove-cloudsql-instances keeps the others; Terraform lists those that stay. With none left, Terraform
    drops the whole Cloud SQL volume, which one setting cannot say: then gcloud alone."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    gone = [n for n in dict.fromkeys(str(n).strip() for n in names) if n in ref.cloudsql_instances]
    if not gone:
        return None
    kept = tuple(n for n in ref.cloudsql_instances if n not in gone)
    flags = tuple(Flag("--remove-cloudsql-instances", n, multi=True) for n in gone)
    if not kept:
        return Parts(flags)
    if ref.v1:
        path = (Block("template"), Block("metadata"), Block("annotations", is_map=True))
        return Parts(flags, (Setting(path, literal("run.googleapis.com/cloudsql-instances"), kept, joined=","),))
    volume = (Block("template"), Block("volumes", (("name", literal("cloudsql")),)), Block("cloud_sql_instance"))
    return Parts(flags, (Setting(volume, "instances", kept),))


@on_service
def set_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--set-cloudsql-instances replaces the whole list: the one way to drop a malformed name, which
    --remove-cloudsql-instances would first rewrite (gcloud reads a plain name as PROJECT:REGION:NAME). Every name
    given must be a connection name, and the list must change something."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    every = tuple(dict.fromkeys(str(n).strip() for n in names))
    if not every or not all(_CONNECTION_NAME.fullmatch(n) for n in every) or set(every) == set(ref.cloudsql_instances):
        return None
    return Parts((Flag("--set-cloudsql-instances", ",".join(every)),), _instances_settings(every, ref))


def _instances_settings(every: tuple[str, ...], ref: ServiceRef) -> tuple[Setting, ...]:
    """The whole list of attached instances, as Terraform declares it: an annotation (v1), or the Cloud SQL volume
    and its mount (v2)."""
    if ref.v1:
        path = (Block("template"), Block("metadata"), Block("annotations", is_map=True))
        return (Setting(path, literal("run.googleapis.com/cloudsql-instances"), every, joined=","),)
    volume = (Block("template"), Block("volumes", (("name", literal("cloudsql")),)), Block("cloud_sql_instance"))
    mount = (*blocks.container(ref, blocks.INGRESS_KEY), Block("volume_mounts", (("name", literal("cloudsql")),)))
    return (Setting(volume, "instances", every), Setting(mount, "mount_path", literal("/cloudsql")))
