"""Data flows one way: sources -> model -> compare -> ruleset -> report -> cli. No module imports up the chain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "driftcheck"
# Each stage may import only from the stages listed before it (and itself).
ORDER = ["errors", "escape", "model", "redact", "fileio", "sources", "compare", "ruleset", "report", "jobs", "cli"]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "driftcheck" and parts[1] in ORDER else None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _module_name(path: Path) -> str:
    return ".".join(("driftcheck", *path.relative_to(PACKAGE).with_suffix("").parts))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_the_chain(path: Path) -> None:
    own = _stage(_module_name(path))
    if own is None:
        return  # __init__, __main__: entry points, free to import anything
    allowed = set(ORDER[: ORDER.index(own) + 1])
    upstream = {m for m in _imports(path) if (_stage(m) or own) not in allowed}
    assert not upstream, f"{path.name} ({own}) imports downstream stages: {sorted(upstream)}"


def test_the_check_sees_real_imports() -> None:
    """Guard against a vacuous pass: the checker must find the imports that are there."""
    imports = _imports(PACKAGE / "ruleset" / "evaluate.py")
    assert "driftcheck.compare.diff" in imports
    assert _stage("driftcheck.report.table") == "report"
