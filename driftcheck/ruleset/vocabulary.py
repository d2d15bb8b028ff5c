"""The rule vocabulary, published: a JSON Schema of what a rule's CEL sees, generated from the code that builds it.

Its sources are the model's dataclasses (driftcheck/model.py: their fields and the properties to_plain adds), what
ruleset/context/ adds to them and declares for `refs`, and the scope variables of ruleset/variables.py; each
description is the comment on the field. Rules are checked against it when they load (ruleset/fieldcheck.py, which
reads the checked-in copy).

`python -m driftcheck.ruleset.vocabulary` rewrites the checked-in copies (rule-context.schema.json beside this module
and docs/rule-context.md, see ruleset/vocabulary_docs.py); tests/ruleset/test_vocabulary.py fails while one is stale.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import itertools
import json
import re
import sys
import tokenize
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from driftcheck.model import Redacted, Unknown, plain_fields
from driftcheck.ruleset.cel import UNKNOWN_KEY
from driftcheck.ruleset.context import ADDED
from driftcheck.ruleset.fieldcheck import SCHEMA_FILE
from driftcheck.ruleset.schemawalk import UNKNOWN_REF, Schema
from driftcheck.ruleset.variables import SCOPE_NOTES, SCOPE_VARIABLES, MoreKeys, Variable

_UNKNOWN: Schema = {
    "description": f"A value that could not be read, with the reason: {{{UNKNOWN_KEY}: REASON}}. Any value may be "
    "one: test with is_unknown(value), or list the path under `needs`.",
    "type": "object",
    "properties": {UNKNOWN_KEY: {"type": "string"}},
    "required": [UNKNOWN_KEY],
    "additionalProperties": False,
}
_NONE = re.compile(r"\bNone\b")
_SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def context_schema() -> Schema:
    """The JSON Schema of every scope's variables; `$defs` holds each scope (`scope.NAME`) and each type."""
    defs: dict[str, Schema] = {}
    scopes = {f"scope.{name}": _scope(name, variables, defs) for name, variables in SCOPE_VARIABLES.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "What a driftcheck rule's CEL expressions see",
        "description": "Generated from the code by `python -m driftcheck.ruleset.vocabulary`: edit the code, not this.",
        "anyOf": [{"$ref": f"#/$defs/{name}"} for name in scopes],
        "$defs": {**scopes, **defs, "unknown": _UNKNOWN},
    }


def schema_text() -> str:
    return json.dumps(context_schema(), indent=2) + "\n"


def _scope(scope: str, variables: dict[str, Variable], defs: dict[str, Schema]) -> Schema:
    properties = {
        name: _described(_value(v.type, defs), v.description or field_comments(v.declared_by).get(name, ""))
        for name, v in variables.items()
    }
    described = {"description": SCOPE_NOTES[scope]} if scope in SCOPE_NOTES else {}
    return {"type": "object", **described, "properties": properties, "additionalProperties": False}


def _value(hint: Any, defs: dict[str, Schema]) -> Schema:
    """A value's schema: any value may be an unknown marker, whatever the type says."""
    schema = _schema(hint, defs)
    if not schema or schema == UNKNOWN_REF or UNKNOWN_REF in schema.get("anyOf", ()):
        return schema
    if set(schema) == {"anyOf"}:
        return {"anyOf": [*schema["anyOf"], UNKNOWN_REF]}
    return {"anyOf": [schema, UNKNOWN_REF]}


def _schema(hint: Any, defs: dict[str, Schema]) -> Schema:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return {}
    if origin is Annotated:
        return _annotated(args[0], hint.__metadata__, defs)
    if origin in (Union, types.UnionType):
        return _union([_schema(a, defs) for a in args])
    if origin is Literal:
        return {"enum": list(args)}
    if origin is dict:  # keyed by data (container names, env var names): any key
        return {"type": "object", "additionalProperties": _value(args[1], defs)}
    if origin in (list, tuple):
        return {"type": "array", "items": _value(args[0], defs)}
    return _named(hint, defs)


def _named(hint: Any, defs: dict[str, Schema]) -> Schema:
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is Unknown:
        return dict(UNKNOWN_REF)
    if hint is Redacted:  # CEL sees a credential-looking value masked
        return {"type": "string"}
    if is_typeddict(hint) or dataclasses.is_dataclass(hint):
        return _ref(hint, defs, None)
    raise TypeError(f"no JSON Schema for {hint!r}: teach driftcheck/ruleset/vocabulary.py the type")


def _annotated(hint: Any, metadata: tuple[Any, ...], defs: dict[str, Schema]) -> Schema:
    """`Annotated[dict, Secret]`: a model class as to_plain gives it; `Annotated[StatusItem, MoreKeys(str)]`: open."""
    for mark in metadata:
        if isinstance(mark, MoreKeys):
            return _ref(hint, defs, mark.type)
        if isinstance(mark, type):
            return _named(mark, defs)
    return _schema(hint, defs)


def _union(alternatives: list[Schema]) -> Schema:
    """The declared types first (Probe or null), then one `type` list for the plain ones, an unknown last."""
    if {} in alternatives:
        return {}
    plain = list(dict.fromkeys(a["type"] for a in alternatives if set(a) == {"type"} and isinstance(a["type"], str)))
    rest = [a for a in alternatives if not (set(a) == {"type"} and isinstance(a["type"], str)) and a != UNKNOWN_REF]
    merged = rest + ([{"type": plain[0] if len(plain) == 1 else plain}] if plain else [])
    merged += [UNKNOWN_REF] if UNKNOWN_REF in alternatives else []
    return merged[0] if len(merged) == 1 else {"anyOf": merged}


def _ref(cls: type, defs: dict[str, Schema], more: Any) -> Schema:
    name = cls.__name__
    if name not in defs:
        defs[name] = {}  # first, so a type that contains itself refers to itself
        defs[name] = _object(cls, defs, more)
    return {"$ref": f"#/$defs/{name}"}


def _object(cls: type, defs: dict[str, Schema], more: Any) -> Schema:
    """A dataclass's fields as to_plain keeps them (and what ruleset/context/ adds), or a TypedDict's keys."""
    comments = field_comments(cls)
    fields = _fields(cls)
    added = ADDED.get(cls)
    if added is not None:
        fields.update(get_type_hints(added, include_extras=True))
        comments.update(field_comments(added))
    properties = {name: _described(_value(hint, defs), comments.get(name, "")) for name, hint in fields.items()}
    optional = set(properties) - set(getattr(cls, "__required_keys__", properties))  # a TypedDict may say
    required = [name for name in properties if name not in optional]
    schema: Schema = {"type": "object"}
    if _docstring(cls):
        schema["description"] = _docstring(cls)
    extra = _value(more, defs) if more is not None else False
    return {**schema, "properties": properties, "required": required, "additionalProperties": extra}


def _fields(cls: type) -> dict[str, Any]:
    hints = get_type_hints(cls, include_extras=True)
    if is_typeddict(cls):
        return hints
    return {name: hints[name] if name in hints else _property_type(cls, name) for name in plain_fields(cls)}


def _property_type(cls: type, name: str) -> Any:
    getter = getattr(cls, name).fget
    return get_type_hints(getter)["return"]


def _described(schema: Schema, description: str) -> Schema:
    """The comment as a rule's author reads it: CEL says null where Python says None."""
    return {**schema, "description": _NONE.sub("null", description)} if description else schema


def _docstring(cls: type) -> str:
    """The class's own docstring on one line; a dataclass without one has its signature there, which says nothing."""
    doc = cls.__dict__.get("__doc__") or ""
    return "" if doc.startswith(f"{cls.__name__}(") else " ".join(doc.split())


def field_comments(cls: type | None) -> dict[str, str]:
    """Each field's comment in the class's source: the one ending its line, else the comment lines right above it."""
    if cls is None:
        return {}
    lines = inspect.getsource(cls).splitlines()
    tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    trailing = {t.start[0]: _comment(t.string) for t in tokens if t.type == tokenize.COMMENT}
    comments = {
        token.string: trailing.get(token.start[0]) or _above(lines, token.start[0] - 1)
        for token, following in itertools.pairwise(tokens)
        if token.type == tokenize.NAME and token.start[1] == 4 and following.string == ":"
    }
    for name, value in vars(cls).items():
        if isinstance(value, property) and value.__doc__:
            comments[name] = " ".join(value.__doc__.split())
    return comments


def _comment(text: str) -> str:
    return text.lstrip("#").strip()


def _above(lines: list[str], index: int) -> str:
    """The full-line comments right above lines[index], as one sentence."""
    start = index
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return " ".join(_comment(line.strip()) for line in lines[start:index])


def main() -> None:
    """Rewrite the checked-in schema and its page (docs/rule-context.md)."""
    from driftcheck.ruleset.vocabulary_docs import DOCS_FILE, markdown

    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    DOCS_FILE.write_text(markdown(context_schema()), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE} and {DOCS_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
