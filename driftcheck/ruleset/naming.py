"""How sentences name what they compare: a service by its `label`, a container by its `display`.

A container is keyed `ingress` in the model when it serves, whatever each tool named it (gcloud leaves it unnamed,
the console calls it `IMAGE-1`, Terraform ""), so that the forms of one service compare equal; a reader sees its
own name (`container api`), or, unnamed, plain `container` as gcloud shows it, never `ingress`, which reads like the
service's ingress setting. Two compared services of one name (one per project, or per file) are told apart in
every sentence: `api (project P)`, else `api (FILE)`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from driftcheck.kinds.service.common import INGRESS_KEY
from driftcheck.model import Container


def container_display(key: str, container: Container, count: int) -> str:
    """`container api`; an unnamed serving container is `container`, or `serving container` beside sidecars."""
    if container.name:
        return f"container {container.name}"
    if key == INGRESS_KEY:
        return "container" if count == 1 else "serving container"
    return f"unnamed {key}"  # container-N: its index in the file


def with_labels(variables: dict[str, Any]) -> dict[str, Any]:
    """A pair's CEL variables (target, baseline, baselines) with `label` telling apart compared services that
    share a name; unchanged (the same objects) when every name differs, as in nearly every pair."""
    target, baselines = variables.get("target"), list(variables.get("baselines") or ())
    services = [s for s in (target, *baselines) if isinstance(s, dict)]
    if all(count == 1 for count in Counter(s.get("name") for s in services).values()):
        return variables
    named = [(s["name"], s.get("project"), str(s.get("origin"))) for s in services]
    relabelled = {id(s): {**s, "label": label} for s, label in zip(services, labels(named), strict=True)}
    return {
        **variables,
        "target": relabelled.get(id(target), target),
        "baseline": relabelled.get(id(variables.get("baseline")), variables.get("baseline")),
        "baselines": [relabelled.get(id(b), b) for b in baselines],
    }


def labels(services: list[tuple[str, Any, str]]) -> list[str]:
    """(name, project, origin) of each compared service -> how a sentence names it: the name, or, when another
    one has it too, `name (project P)` if the projects tell them apart, else `name (FILE)`."""
    found = []
    for name, project, origin in services:
        same = [(p, o) for n, p, o in services if n == name]
        if len(same) < 2:
            found.append(name)
        elif all(isinstance(p, str) for p, _ in same) and len({p for p, _ in same}) == len(same):
            found.append(f"{name} (project {project})")
        else:
            files = [PurePosixPath(o).name for _, o in same]
            found.append(f"{name} ({PurePosixPath(origin).name if len(set(files)) == len(files) else origin})")
    return found
