"""deepdiff over canonical forms: what differs between a target service and one baseline, with where it came from."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from driftcheck.model import Redacted, Service, Unknown, to_plain
from driftcheck.redact import fingerprint, redact_args

# Lists whose order means nothing; every other list (command, args) keeps its order.
_UNORDERED = ("cloudsql_instances", "tags")
_UNKNOWN_TOKEN = "\x00unknown"
_KINDS = {
    "values_changed": "changed",
    "type_changes": "changed",
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_added": "added",
    "iterable_item_removed": "removed",
    "attribute_added": "added",
    "attribute_removed": "removed",
}


@dataclass(frozen=True)
class Change:
    """One difference. `added` means the target has it and the baseline does not; `removed` the reverse."""

    path: str
    kind: str  # added | removed | changed
    baseline: Any
    target: Any
    baseline_source: str
    target_source: str


def compare_services(
    target: Service,
    baseline: Service,
    expected: Iterable[str] = (),
    trees: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> list[Change]:
    """Differences between two services, minus the expected ones and anything either side could not read.
    `trees`: (to_plain(target), to_plain(baseline)), when the caller has them already."""
    patterns = tuple(expected)
    target_plain, baseline_plain = trees or (to_plain(target), to_plain(baseline))
    target_tree, baseline_tree = _pruned(target_plain, patterns), _pruned(baseline_plain, patterns)
    unknown = _unknown_paths(target_tree) | _unknown_paths(baseline_tree)
    before, after = _comparable(baseline_tree), _comparable(target_tree)
    if before == after:  # the common case in a drift audit: nothing for deepdiff to explain
        return []
    diff = _deepdiff()(
        before,
        after,
        view="tree",
        ignore_order_func=_is_unordered,
        verbose_level=2,
        threshold_to_diff_deeper=0,  # keyed maps with nothing in common still differ key by key, never wholesale
    )
    changes = []
    for report_type, levels in diff.items():
        for level in levels:
            keys = [str(k) for k in level.path(output_format="list")]
            change = _change(report_type, keys, level, target, baseline)
            if not _under(change.path, unknown) and not any(fnmatchcase(change.path, p) for p in patterns):
                changes.append(change)
    return sorted(changes, key=lambda c: c.path)


def _deepdiff() -> Any:
    """deepdiff's DeepDiff, imported at the first real difference, so a run that diffs no two services (rules list,
    --help, a check of one service) does not pay for it: ~35 ms of CPU, most of it cachebox, which imports asyncio
    (`deepdiff.diff` would cost the same: the package's __init__ runs first).

    Without pydantic: deepdiff's helper module tries `from pydantic.main import BaseModel` (to diff pydantic models,
    which driftcheck never passes it), ~60 ms of CPU wherever pydantic is installed. A None in sys.modules makes that
    import fail as if pydantic were absent; the mask is lifted right after, so a later `import pydantic` works. Not
    when pydantic is loaded already: then it costs nothing, and deepdiff keeps its pydantic support."""
    if "deepdiff" in sys.modules or "pydantic" in sys.modules:
        from deepdiff import DeepDiff

        return DeepDiff
    sys.modules["pydantic"] = None  # type: ignore[assignment]
    try:
        from deepdiff import DeepDiff
    finally:
        if "pydantic" in sys.modules and sys.modules["pydantic"] is None:
            del sys.modules["pydantic"]
    return DeepDiff


def _pruned(tree: dict[str, Any], patterns: tuple[str, ...]) -> dict[str, Any]:
    """Without the top-level fields expected to differ whole (`name`, a string; `status` with `status.*`): what
    deepdiff would only walk to throw away."""
    whole = {
        key
        for key, value in tree.items()
        if key in patterns and (f"{key}.*" in patterns or not isinstance(value, dict | list))
    }
    return {key: value for key, value in tree.items() if key not in whole} if whole else tree


def _change(report_type: str, keys: list[str], level: Any, target: Service, baseline: Service) -> Change:
    kind = _KINDS.get(report_type, "changed")
    if keys and keys[-1].isdigit() and report_type.startswith("iterable"):
        keys = keys[:-1]  # a set-like list: the list is the place, the item is the value
    path = ".".join(keys)
    before = None if kind == "added" else _restore(level.t1)
    after = None if kind == "removed" else _restore(level.t2)
    return Change(path, kind, before, after, source_of(baseline, path), source_of(target, path))


def _restore(value: Any) -> Any:
    """deepdiff saw tokens; reports show the model's own values, at any depth (a whole env var added holds its
    redacted value one level down)."""
    if isinstance(value, str) and value.startswith("redacted:"):
        return Redacted(value.removeprefix("redacted:"))
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def source_of(service: Service, path: str) -> str:
    """The longest recorded prefix of the canonical path, as `file:field`."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        field = service.provenance.get(".".join(parts[:end]))
        if field:
            return f"{service.origin}:{field}"
    return service.origin


def _comparable(tree: Any) -> Any:
    if isinstance(tree, Unknown):
        return _UNKNOWN_TOKEN
    if isinstance(tree, Redacted):
        return f"redacted:{tree.fingerprint}"
    if isinstance(tree, dict):
        return {k: _comparable(v) for k, v in tree.items()}
    if isinstance(tree, list):  # `--password`, `hunter2`: an item that is a credential only beside its flag
        return [_comparable(v) for v in redact_args(tree, fingerprint)]
    return tree


def _unknown_paths(tree: Any, prefix: str = "") -> set[str]:
    if isinstance(tree, Unknown):
        return {prefix}
    if isinstance(tree, dict):
        return {p for k, v in tree.items() for p in _unknown_paths(v, f"{prefix}.{k}" if prefix else str(k))}
    return set()


def _under(path: str, prefixes: set[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _is_unordered(level: Any) -> bool:
    keys = level.path(output_format="list")
    return bool(keys) and str(keys[-1]) in _UNORDERED
