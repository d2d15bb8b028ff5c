"""What a CEL expression reads, followed through a JSON Schema: the walk ruleset/fieldcheck.py checks a rule with.

A value's type is a schema; a name the schema does not have raises Misnamed, with the nearest one it has. What the
schema cannot tell (a map keyed by data, a value with no declared type, an unknown marker) lets any name through:
the walk refuses only what is certainly not there.
"""

from __future__ import annotations

import difflib
from typing import Any, NamedTuple

from driftcheck.ruleset import celsyntax as syntax
from driftcheck.ruleset.cel import UNKNOWN_KEY

Schema = dict[str, Any]
UNKNOWN_REF: Schema = {"$ref": "#/$defs/unknown"}
FREE: Schema = {}  # nothing known: anything goes
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_TYPE_NAMES = {"bool", "bytes", "double", "dyn", "int", "list", "map", "null_type", "string", "type", "uint"}


class Typed(NamedTuple):
    schema: Schema
    path: str  # how a message names the value: target.refs.secrets[]


class Misnamed(Exception):
    """An expression names a variable or field the vocabulary does not have."""


def union(schemas: list[Schema]) -> Schema:
    if not schemas or any(map(_free, schemas)):
        return FREE
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


class Walker:
    """Follows an expression's names through the schema; raises Misnamed at the first it does not have."""

    def __init__(self, defs: dict[str, Schema], unseen: dict[str, str], renamed: dict[str, str]) -> None:
        """`unseen`: variables some parts of a rule do not see, with where they are seen; `renamed`: old names."""
        self.defs, self.unseen, self.renamed = defs, unseen, renamed
        self.resolved: dict[int, tuple[Schema, list[Schema]]] = {}  # by id: see alternatives()

    def type_of(self, node: syntax.Node, names: dict[str, Typed]) -> Typed:
        match node:
            case syntax.Select(operand, field):
                return self.select(self.type_of(operand, names), field)
            case syntax.Name(name):
                return self.variable(name, names)
            case syntax.Index(operand, key):
                return self.index(self.type_of(operand, names), key, names)
            case syntax.Call():
                return self.call(node, names)
            case syntax.Conditional(condition, then, otherwise):
                self.type_of(condition, names)
                return self.either(then, otherwise, names)
            case syntax.Operation(operators, operands):
                typed = [self.type_of(o, names) for o in operands]
                concatenated = set(operators) == {"+"} and self.is_array(typed[0])
                return typed[0] if concatenated else Typed(FREE, "")
            case syntax.ListOf(items):
                typed = [self.type_of(i, names) for i in items]
                return Typed({"type": "array", "items": typed[0].schema if typed else FREE}, "[]")
            case syntax.MapOf(entries):
                return self.map_of(entries, names)
        return Typed(FREE, "")  # a literal

    def variable(self, name: str, names: dict[str, Typed]) -> Typed:
        if name in names:
            return names[name]
        if name in _TYPE_NAMES:
            return Typed(FREE, name)
        if name in self.unseen:
            raise Misnamed(f"{name}: not seen here; {self.unseen[name]}")
        raise Misnamed(f"{name}: no such variable here{_hint(name, list(names), self.renamed)}")

    def select(self, typed: Typed, field: str) -> Typed:
        path = f"{typed.path}.{field}"
        if field == UNKNOWN_KEY:
            return Typed(FREE, path)
        alternatives = self.alternatives(typed.schema)
        if not alternatives or any(map(_free, alternatives)):
            return Typed(FREE, path)
        objects = [a for a in alternatives if _is_object(a)]
        if not objects:
            raise Misnamed(f"{path}: {typed.path} is {_kind(alternatives)}, which has no fields")
        found = [_field_of(a, field) for a in objects]
        if any(f is not None for f in found):
            return Typed(union([f for f in found if f is not None]), path)
        names = [name for a in objects for name in a.get("properties", {})]
        raise Misnamed(f"{path}: no such field{_hint(field, names, self.renamed)}")

    def index(self, typed: Typed, key: syntax.Node, names: dict[str, Typed]) -> Typed:
        self.type_of(key, names)
        if isinstance(key, syntax.Literal) and isinstance(key.value, str):
            return self.select(typed, key.value)
        values = [_indexed(a) for a in self.alternatives(typed.schema)]
        return Typed(union(values), f"{typed.path}[{_text(key)}]")

    def element(self, typed: Typed) -> Typed:
        """What a comprehension over the value binds: a list's elements, a map's keys."""
        alternatives = self.alternatives(typed.schema)
        if not alternatives or any(map(_free, alternatives)):
            return Typed(FREE, f"{typed.path}[]")
        keys = [{"type": "string"} if _is_object(a) else a.get("items", FREE) for a in alternatives]
        return Typed(union(keys), f"{typed.path}[]")

    def call(self, node: syntax.Call, names: dict[str, Typed]) -> Typed:
        if node.receiver is None:
            return self.function(node, names)
        receiver = self.type_of(node.receiver, names)
        variable = node.args[0] if node.args else None
        if node.function in _MACROS and len(node.args) in (2, 3) and isinstance(variable, syntax.Name):
            bound = {**names, variable.name: self.element(receiver)}
            results = [self.type_of(a, bound) for a in node.args[1:]]
            if node.function == "map":
                return Typed({"type": "array", "items": results[-1].schema}, f"{receiver.path}.map(…)")
            if node.function == "filter":
                return receiver if self.is_array(receiver) else Typed(FREE, receiver.path)
            return Typed(FREE, "")
        for argument in node.args:
            self.type_of(argument, names)
        return Typed(FREE, "")

    def function(self, node: syntax.Call, names: dict[str, Typed]) -> Typed:
        """`has(x.f)` reads a field; `sorted`, `dyn` and `flatten` keep what their list holds."""
        typed = [self.type_of(a, names) for a in node.args]
        if node.function in ("sorted", "dyn") and typed:
            return typed[0]
        if node.function == "flatten" and typed:
            inner = self.element(typed[0])
            return Typed({"type": "array", "items": self.element(inner).schema}, inner.path)
        return Typed(FREE, "")

    def either(self, then: syntax.Node, otherwise: syntax.Node, names: dict[str, Typed]) -> Typed:
        """A conditional's value: both branches, but `[]` and `null` add nothing to read fields from."""
        branches = [self.type_of(b, names) for b in (then, otherwise)]
        kept = [t for t, b in zip(branches, (then, otherwise), strict=True) if not _empty(b)]
        return Typed(union([t.schema for t in kept]), kept[0].path) if kept else branches[0]

    def map_of(self, entries: tuple[tuple[syntax.Node, syntax.Node], ...], names: dict[str, Typed]) -> Typed:
        """A map literal with string keys is an object of those fields (a for_each that builds its items)."""
        fields = {}
        for key, value in entries:
            self.type_of(key, names)
            typed = self.type_of(value, names)
            if not (isinstance(key, syntax.Literal) and isinstance(key.value, str)):
                return Typed({"type": "object"}, "{}")
            fields[key.value] = typed.schema
        return Typed({"type": "object", "properties": fields, "additionalProperties": False}, "{}")

    def is_array(self, typed: Typed) -> bool:
        alternatives = self.alternatives(typed.schema)
        return bool(alternatives) and all(a.get("type") == "array" for a in alternatives)

    def alternatives(self, schema: Schema) -> list[Schema]:
        """The schema's alternatives, references resolved, the unknown marker left out (it may be anywhere). Kept
        with the schema itself, so its id is never another's: most are the published schema's, asked again and
        again."""
        known = self.resolved.get(id(schema))
        if known is None or known[0] is not schema:
            known = self.resolved[id(schema)] = (schema, self._alternatives(schema))
        return known[1]

    def _alternatives(self, schema: Schema) -> list[Schema]:
        if schema == UNKNOWN_REF:
            return []
        if "$ref" in schema:
            return self.alternatives(self.defs[schema["$ref"].rsplit("/", 1)[1]])
        if "anyOf" in schema:
            return [a for option in schema["anyOf"] for a in self.alternatives(option)]
        return [schema]


def _empty(node: syntax.Node) -> bool:
    """`[]` or `null`: a value with no fields to read."""
    if isinstance(node, syntax.ListOf):
        return not node.items
    return isinstance(node, syntax.Literal) and node.value is None


def _indexed(schema: Schema) -> Schema:
    """`x[key]` for a key known only as the rule runs: a list's element, a data-keyed map's value, else anything."""
    if schema.get("type") == "array":
        items: Schema = schema.get("items", FREE)
        return items
    extra = schema.get("additionalProperties", True)
    return extra if isinstance(extra, dict) else FREE


def _text(node: syntax.Node) -> str:
    """A key as the expression names it, for a message: `c`, `change.keys[1]`; `…` for anything longer."""
    match node:
        case syntax.Name(name):
            return name
        case syntax.Select(operand, field):
            return f"{_text(operand)}.{field}"
        case syntax.Index(operand, key):
            return f"{_text(operand)}[{_text(key)}]"
        case syntax.Literal(value) if isinstance(value, int | str):
            return repr(value)
    return "…"


def _free(schema: Schema) -> bool:
    """Nothing known of the value (a description says nothing of its type)."""
    return schema.keys() <= {"description"}


def _is_object(schema: Schema) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _field_of(schema: Schema, field: str) -> Schema | None:
    """A declared field's schema; any name of a map keyed by data; None where the field is not declared."""
    properties = schema.get("properties", {})
    if field in properties:
        found: Schema = properties[field]
        return found
    extra = schema.get("additionalProperties", True)
    return None if extra is False else (extra if isinstance(extra, dict) else FREE)


def _kind(alternatives: list[Schema]) -> str:
    """`a string or null`: what a value is, as a message says it."""
    kinds = [k for a in alternatives for k in _as_list(a.get("type", "value"))]
    return " or ".join(f"a {k}" if k != "null" else "null" for k in dict.fromkeys(kinds))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _hint(name: str, known: list[str], renamed: dict[str, str]) -> str:
    """`; did you mean X?` (the nearest name, or those it begins), or the names there are when none is close."""
    names = sorted(set(known))
    if renamed.get(name) in names:
        return f"; renamed: did you mean {renamed[name]}?"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5) or [n for n in names if n.startswith(name)][:3]
    if close:
        return f"; did you mean {' or '.join(close)}?"
    return f"; known here: {', '.join(names)}" if names else ""
