"""Find and read rule files: the built-in library shipped with driftcheck, plus any `--rules DIR`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftcheck.errors import InputError, RuleError
from driftcheck.ruleset.cel import check_rule
from driftcheck.ruleset.schema import Rule, parse_rule
from driftcheck.sources import limits

EXPECTED_KEY = "expected_differences"
EXPECTED_DRIFT_KEY = "expected_differences_in_drift"


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    expected_differences: tuple[str, ...]  # canonical path globs that differ between any two services
    # ...and between a live service and its own declared form: far fewer (a new image IS drift)
    expected_drift_differences: tuple[str, ...] = ()

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def builtin_rules_dir() -> Path:
    """Inside a wheel the library is packed as driftcheck/_builtin_rules; in a checkout it is the top-level rules/.
    The package folder is found from this file, as `importlib.resources.files("driftcheck")` would find it for a
    package on disk, without importing importlib.resources (and with it zipfile, tempfile: ~4 ms of every run)."""
    packed = Path(__file__).parents[1] / "_builtin_rules"
    return packed if packed.is_dir() else Path(__file__).resolve().parents[2] / "rules"


def load_ruleset(extra_dirs: list[Path] | None = None) -> RuleSet:
    rules: dict[str, Rule] = {}
    expected: dict[str, list[str]] = {EXPECTED_KEY: [], EXPECTED_DRIFT_KEY: []}
    builtin = builtin_rules_dir()
    for directory in [builtin, *(extra_dirs or [])]:
        if not directory.is_dir():
            raise RuleError(f"{directory}: rules folder not found")
        for path in sorted(directory.glob("*.y*ml")):
            raw = _read(path)
            if EXPECTED_KEY in raw or EXPECTED_DRIFT_KEY in raw:
                for key, globs in expected.items():
                    globs.extend(_expected(raw, path, key))
                continue
            rule = parse_rule(raw, str(path))
            if directory != builtin:  # the built-in ones are checked by tests (test_vocabulary.py,
                # test_builtin_rules_compile.py), and their expressions compiled only when evaluated: a compare
                # evaluates ~90 of their ~460, and compiling all of them cost ~30 ms of every run
                check_rule(rule)  # every CEL expression compiles, now, naming the rule
                from driftcheck.ruleset.fieldcheck import check_fields  # user rules only: its CEL parser's ~5 ms

                check_fields(rule)  # every name it uses is in the published vocabulary
            if rule.id in rules and directory == builtin:
                raise RuleError(f"{path}: rule id {rule.id!r} is also defined in {rules[rule.id].origin}")
            rules[rule.id] = rule  # a user rule with a built-in id replaces it
    return RuleSet(tuple(rules.values()), tuple(expected[EXPECTED_KEY]), tuple(expected[EXPECTED_DRIFT_KEY]))


def _read(path: Path) -> dict[str, Any]:
    """One rule file, under the limits evidence files have (sources/limits.py): no alias, no deep nesting."""
    try:
        limits.check_size(limits.path_size(path), str(path))
        text = path.read_text(encoding="utf-8")
        limits.refuse_yaml_aliases(text, str(path))
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        limits.check_depth(raw, str(path))
    except InputError as exc:
        raise RuleError(str(exc)) from None
    except RecursionError:
        raise RuleError(f"{path}: {limits.too_deep_message()}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}{line}: malformed YAML") from None
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: a rule file holds one mapping (a rule, or {EXPECTED_KEY})")
    return raw


def _expected(raw: dict[str, Any], path: Path, key: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{path}: {key}: must be a list of canonical path globs")
    return value
