"""Where a fix's settings sit in the service's Terraform resource (v1 or v2): template, container, annotation."""

from __future__ import annotations

from driftcheck.ruleset.fixparts import ServiceRef
from driftcheck.ruleset.hcl import Block, Setting, literal

INGRESS_KEY = "ingress"  # the serving container's canonical key (kinds/service/common.py)


def template(ref: ServiceRef) -> tuple[Block, ...]:
    return (Block("template"), Block("spec")) if ref.v1 else (Block("template"),)


def container(ref: ServiceRef, key: str) -> tuple[Block, ...]:
    """The container's block; `name = ...` tells containers apart only when there are several."""
    known = ref.container(key)
    ident = (("name", literal(known.name)),) if len(ref.containers) > 1 and known and known.name else ()
    return (*template(ref), Block("containers", ident))


def annotation(key: str, value: str, level: str = "template") -> Setting:
    base = (Block("template"), Block("metadata")) if level == "template" else (Block("metadata"),)
    return Setting((*base, Block("annotations", is_map=True)), literal(key), literal(value))
