"""A rule's expressions checked against the published vocabulary (ruleset/vocabulary.py) when the rule loads.

A misspelt field (`target.containers.api.memry_bytes`, `target.refs.secretz`) would otherwise fail only while a
rule runs, where it reads as "could not evaluate" or a `?` in a sentence. Each expression is parsed
(ruleset/celsyntax.py) and its names followed through the schema (ruleset/schemawalk.py): variables of the rule's
scope, fields of what they hold, and comprehension variables bound to a list's elements (`.exists(s, s.name ==
...)`) or a map's keys. A key of a map keyed by data (a container, an env var, an annotation) is any key; an
unknown marker is anywhere.

The schema is the checked-in copy (SCHEMA_FILE), which tests/ruleset/test_vocabulary.py holds equal to what
ruleset/vocabulary.py generates from the code: reading it takes under a millisecond, generating it a tenth of
a second (it reads the source for its descriptions).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from driftcheck.errors import RuleError
from driftcheck.ruleset import celsyntax as syntax
from driftcheck.ruleset.cel import placeholders
from driftcheck.ruleset.schema import Rule
from driftcheck.ruleset.schemawalk import FREE, Misnamed, Schema, Typed, Walker, union

SCHEMA_FILE = Path(__file__).with_name("rule-context.schema.json")
_TEMPLATED = re.compile(r"\{\{.*?\}\}", re.S)


def check_fields(rule: Rule) -> None:
    """Raise RuleError at the first name in the rule's expressions that its scope's vocabulary does not have."""
    checker = _checker()
    phases = _Phases(rule, checker)
    for where, expression, phase in expressions(rule):
        try:
            checker.type_of(_parsed(expression), phases.variables(phase))
        except syntax.CelSyntaxError:
            continue  # the CEL binding compiled it: a form this parser does not read is not the rule's fault
        except Misnamed as exc:
            raise RuleError(f"{rule.origin}: rule {rule.id}: {where}: {exc}") from None


def _parsed(expression: str | syntax.Node) -> syntax.Node:
    return _parse(expression) if isinstance(expression, str) else expression


@functools.lru_cache(maxsize=4096)
def _parse(expression: str) -> syntax.Node:
    """Once per expression: a for_each is read again for its items, and rules share placeholders."""
    return syntax.parse(expression)


@functools.cache
def _checker() -> Walker:
    return Walker(published()["$defs"], unseen=_SEEN, renamed=_RENAMED)


@functools.cache
def published() -> Schema:
    """The published vocabulary: the JSON Schema of what a rule's expressions see."""
    loaded: Schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def expressions(rule: Rule) -> Iterator[tuple[str, str | syntax.Node, str]]:
    """(where, expression, phase) for every CEL expression of the rule, template placeholders included."""
    yield from _present([("for_each", rule.for_each, "list"), ("item_key", rule.item_key, "candidate")])
    yield from _present([("when", rule.when, "candidate")])
    for index, confirm in enumerate(rule.confirm):
        yield f"confirm[{index}].when", confirm.when, "candidate"
        yield from _templated(f"confirm[{index}].label", confirm.label, "candidate")
    texts = [("explanation", rule.explanation), ("unverified_hint", rule.unverified_hint), ("peers", rule.peers)]
    texts += [(f"remediation.{kind}", text) for kind, text in rule.remediation.items()]
    for where, text in texts:
        yield from _templated(where, text, "candidate")
    yield from _templated("summary", rule.summary, "summary")
    for index, spec in enumerate(rule.evidence):
        yield from _templated(f"evidence[{index}].label", spec.label, "candidate")
        yield from _templated(f"evidence[{index}].path", spec.path, "candidate")
        sides = [(f"evidence[{index}].{side}", getattr(spec, side), "candidate") for side in _EVIDENCE_SIDES]
        yield from _present(sides)
    for index, need in enumerate(rule.needs):
        yield from _templated(f"needs[{index}]", need, "candidate")
        yield f"needs[{index}]", _need_path(need), "candidate"
    for index, fix in enumerate(rule.fix):
        yield from _present([(f"fix[{index}].for_each", fix.for_each, "candidate")])
        yield from _present([(f"fix[{index}].when", fix.when, "fix")])
        yield from ((f"fix[{index}].args.{name}", e, "fix") for name, e in fix.args.items())


_EVIDENCE_SIDES = ("target", "baseline", "source")


def _present(entries: list[tuple[str, str | None, str]]) -> Iterator[tuple[str, str, str]]:
    return ((where, expression, phase) for where, expression, phase in entries if expression)


def _templated(where: str, text: str | None, phase: str) -> Iterator[tuple[str, str, str]]:
    return ((where, expression, phase) for expression in placeholders(text or ""))


def _need_path(need: str) -> syntax.Node:
    """A `needs` path (`target.containers.{{ item.container }}.env`) as the names it reads; a placeholder is
    some key, which one is known only as the rule runs."""
    first, *rest = _TEMPLATED.sub(_PLACEHOLDER, need.strip()).split(".")
    node: syntax.Node = syntax.Name(first)
    for part in rest:
        node = syntax.Index(node, syntax.Literal(...)) if _PLACEHOLDER in part else syntax.Select(node, part)
    return node


_PLACEHOLDER = "\x00"  # no character of a path


# Which variables each part of a rule does not see (ruleset/variables.py lists them): `change` and `item` are the
# candidate at hand, not in `for_each` (which lists the items) nor in `summary`; `items` only in `summary`; `each`
# only in a fix action's `when` and `args`.
_SEEN = {
    "change": "a rule with `match` sees it, outside `for_each` and `summary`",
    "item": "a rule with `for_each` (or scope status) sees it, outside `for_each` itself and `summary`",
    "items": "only `summary` sees it",
    "each": "a fix action with `for_each` sees it, in its `when` and `args`",
}
# Names rules used before they were renamed, so an old rule is told the new name, not the nearest in spelling.
_RENAMED = {"sql": "sql_attached", "sql_used": "sql_known_in_use", "sql_all": "sql_in_use"}
_HIDDEN = {
    "list": {"change", "item", "items", "each"},
    "candidate": {"items", "each"},
    "summary": {"change", "item", "each"},
    "fix": {"items"},
}


class _Phases:
    """The variables each part of a rule sees: `for_each` lists items, then each candidate, a summary, a fix."""

    def __init__(self, rule: Rule, checker: Walker) -> None:
        self.rule, self.checker = rule, checker
        declared = checker.defs[f"scope.{rule.scope}"]["properties"]
        self.declared = {name: Typed(schema, name) for name, schema in declared.items()}
        if "vars" in self.declared:
            self.declared["vars"] = Typed(_value_schema(rule.vars), "vars")
        self.cache: dict[str, dict[str, Typed]] = {}

    def variables(self, phase: str) -> dict[str, Typed]:
        if phase not in self.cache:
            self.cache[phase] = self._variables(phase)
        return self.cache[phase]

    def _variables(self, phase: str) -> dict[str, Typed]:
        """The scope's variables, as the rule itself types its candidates: `item` is an element of its `for_each`
        (a status item has its patterns' named groups), `items` its candidates, `each` an element of a fix's list."""
        rule = self.rule
        hidden = _HIDDEN[phase] | {"each"} | ({"change"} if rule.match is None else set())
        candidate = self.candidate if phase != "list" else None
        if candidate is None or rule.match is not None:
            hidden |= {"item"}
        found = {name: typed for name, typed in self.declared.items() if name not in hidden}
        if "item" in found and candidate is not None:
            found["item"] = Typed(candidate.schema, "item")
        if "items" in found and rule.scope != "drift" and candidate is not None:
            found["items"] = Typed({"type": "array", "items": candidate.schema}, "items")
        if phase == "fix" and "each" in self.declared:
            found.update(self._each())
        return found

    @functools.cached_property
    def candidate(self) -> Typed | None:
        """What `item` (or `change`) holds: None when the rule has no candidates of its own."""
        rule = self.rule
        if rule.match is not None:
            return self.declared.get("change")
        if rule.scope == "status":
            return Typed(_status_item(self.checker.defs, (*rule.status_match, *rule.log_match)), "item")
        if rule.scope == "logs":
            return Typed(_status_item(self.checker.defs, rule.log_match, "LogItem"), "item")
        if rule.for_each is None:
            return None
        try:
            listed = self.checker.type_of(_parsed(rule.for_each), self.variables("list"))
        except (syntax.CelSyntaxError, Misnamed):
            return Typed(FREE, "item")  # for_each is checked, and reported, on its own
        return Typed(self.checker.element(listed).schema, "item")

    def _each(self) -> dict[str, Typed]:
        """`each` where a fix action lists with `for_each`; without one it is null, so none is declared."""
        lists = [fix.for_each for fix in self.rule.fix if fix.for_each]
        if not lists:
            return {}
        try:
            listed = [self.checker.type_of(_parsed(e), self.variables("candidate")) for e in lists]
        except (syntax.CelSyntaxError, Misnamed):
            return {"each": Typed(FREE, "each")}
        return {"each": Typed(union([self.checker.element(t).schema for t in listed]), "each")}


def _value_schema(value: Any) -> Schema:
    """The rule's own `vars`, as their YAML has them: a mapping's keys are its fields."""
    if isinstance(value, dict):
        fields = {str(k): _value_schema(v) for k, v in value.items()}
        return {"type": "object", "properties": fields, "additionalProperties": False}
    return FREE


def _status_item(defs: dict[str, Schema], patterns: tuple[str, ...], declaration: str = "StatusItem") -> Schema:
    """A status (or log) item's declared keys and its patterns' named groups, and nothing else."""
    declared = defs[declaration]
    groups = {name: {"type": "string"} for p in patterns for name in _groups(p)}
    return {**declared, "properties": {**declared["properties"], **groups}, "additionalProperties": False}


def _groups(pattern: str) -> list[str]:
    try:
        return list(re.compile(pattern).groupindex)
    except re.error:
        return []
