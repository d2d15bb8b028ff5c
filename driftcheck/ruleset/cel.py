"""CEL for rule conditions and templates.

Library choice, measured on this project's rules: `common-expression-language` (Rust) compiles an expression in
about 1 ms and evaluates one in ~13 µs; `cel-python` took ~100 ms to compile each and ~250 µs to evaluate. With
two dozen rules, cel-python alone would cost two seconds per run, so we use the Rust one.
"""

from __future__ import annotations

import difflib
import functools
import importlib.machinery
import importlib.util
import os
import re
from types import ModuleType
from typing import Any

from driftcheck.errors import RuleError
from driftcheck.model import Redacted, Unknown
from driftcheck.redact import is_credential_key
from driftcheck.ruleset.schema import Rule

UNKNOWN_KEY = "__unknown__"
_TEMPLATE = re.compile(r"\{\{\s*(.+?)\s*\}\}", re.S)
_BASELINE = re.compile(r"(?<![\w.])baseline\b")
# cel-python's parse errors: "Failed to parse expression 'X': ERROR: <input>:1:16: Syntax error: DETAIL"
_PARSER_ERROR = re.compile(r"<input>:\d+:(?P<column>\d+): Syntax error: (?P<detail>.*)")
# A URL scheme or driver names the engine outright, so it is tried before any port; a bare default port
# (DB_PORT=3306) speaks its engine as clearly as one inside a URL.
_ENGINE_HINTS = (
    ("postgres", re.compile(r"postgres(ql)?(\+\w+)?://|jdbc:postgresql:|org\.postgresql|psycopg|asyncpg|pg8000", re.I)),
    ("mysql", re.compile(r"mysql(\+\w+)?://|jdbc:mysql:|com\.mysql|pymysql|mariadb", re.I)),
    ("sqlserver", re.compile(r"sqlserver://|mssql(\+\w+)?://|jdbc:sqlserver:", re.I)),
    ("postgres", re.compile(r":5432\b|^5432$")),
    ("mysql", re.compile(r":3306\b|^3306$")),
    ("sqlserver", re.compile(r":1433\b|^1433$")),
)


def _load_cel() -> ModuleType:
    """The compiled extension alone: the package's __init__ also imports its REPL (prompt_toolkit, pygments),
    ~80 ms and ~10 MB of every run that driftcheck never uses. Falls back to the package if the layout changes."""
    spec = importlib.util.find_spec("cel")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, f"cel{suffix}")
            if os.path.exists(path):
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", path)
                module = importlib.util.module_from_spec(importlib.machinery.ModuleSpec("cel.cel", loader, origin=path))
                loader.exec_module(module)
                return module
    return importlib.import_module("cel")


cel = _load_cel()


class CelFailure(Exception):
    """An expression failed at evaluation time (a missing key, a type mismatch)."""


@functools.cache
def compiled(expression: str) -> Any:
    return cel.compile(expression)


def check_rule(rule: Rule) -> None:
    """Compile every expression of a rule now, so a typo fails at load time with the rule's name."""
    expressions = [rule.for_each, rule.item_key, rule.when, *(c.when for c in rule.confirm)]
    expressions += [e for spec in rule.evidence for e in (spec.target, spec.baseline, spec.source)]
    expressions += [e for fix in rule.fix for e in (fix.when, fix.for_each, *fix.args.values())]
    templates = [rule.explanation, rule.unverified_hint or "", rule.peers or "", rule.summary or ""]
    templates += list(rule.remediation.values())
    templates += [c.label for c in rule.confirm]
    templates += [t for spec in rule.evidence for t in (spec.label, spec.path) if t]
    expressions += [m.group(1) for t in templates for m in _TEMPLATE.finditer(t)]
    for expression in filter(None, expressions):
        try:
            compiled(expression)
        except (ValueError, RuntimeError) as exc:
            raise RuleError(f"{rule.origin}: rule {rule.id}: CEL expression {expression!r}: {_problem(exc)}") from None
        if rule.scope in ("target", "status", "logs") and _BASELINE.search(expression):
            # Target rules share a pair's context (ruleset/batch.py), where `baseline` is that pair's peer.
            raise RuleError(
                f"{rule.origin}: rule {rule.id}: a target-scope rule sees no single baseline; use baselines"
            )


def _problem(exc: Exception) -> str:
    """The parser's first line, without its repetition of the expression and the caret diagram under it:
    `syntax error at column 16: extraneous input '==' expecting ...`, so the error stays one line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = _PARSER_ERROR.search(first)
    return f"syntax error at column {match['column']}: {match['detail']}" if match else first


def new_context(variables: dict[str, Any], *, converted: bool = False) -> Any:
    """`converted`: the values went through to_cel already (a service's context, shared by several pairs)."""
    context = cel.Context()
    for name, value in variables.items():
        context.add_variable(name, value if converted else to_cel(value))
    context.add_function("closest", closest)
    context.add_function("display", display)
    context.add_function("db_engine", db_engine)
    context.add_function("join", lambda items, separator: separator.join(display(i) for i in items))
    context.add_function("sorted", lambda items: sorted(items))
    context.add_function("upper", lambda text: str(text).upper())
    context.add_function("replace", lambda text, old, new: str(text).replace(old, new))
    context.add_function("split", lambda text, separator: str(text).split(separator))
    context.add_function("flatten", lambda lists: [item for inner in lists for item in inner])
    context.add_function("is_unknown", lambda value: isinstance(value, dict) and UNKNOWN_KEY in value)
    # Whether a variable's name says it holds a credential (DB_PASSWORD, JWT_SECRET): the test redaction uses.
    context.add_function("is_credential_name", lambda name: is_credential_key(str(name)))
    return context


def evaluate(expression: str, context: Any) -> Any:
    try:
        return compiled(expression).execute(context)
    except Exception as exc:  # the Rust binding raises KeyError, TypeError, ValueError, RuntimeError
        raise CelFailure(f"{expression!r}: {exc}") from None


def render(template: str, context: Any) -> str:
    """Fill `{{ expression }}` placeholders; an expression that fails shows as `?`, never as a guess."""

    def fill(match: re.Match[str]) -> str:
        try:
            return display(evaluate(match.group(1), context))
        except CelFailure:
            return "?"

    return _TEMPLATE.sub(fill, template).strip()


def placeholders(template: str) -> list[str]:
    """The CEL expressions of a template's `{{ expression }}` placeholders."""
    return [match.group(1) for match in _TEMPLATE.finditer(template)]


def display(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(display(v) for v in value) or "none"
    if isinstance(value, dict) and UNKNOWN_KEY in value:
        return f"unknown ({value[UNKNOWN_KEY]})"
    return str(value)


def to_cel(value: Any) -> Any:
    """Unknown stays visibly unknown (a map no rule mistakes for null); redacted values stay masked."""
    if isinstance(value, Unknown):
        return {UNKNOWN_KEY: value.reason}
    if isinstance(value, Redacted):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_cel(v) for v in value]
    return value


def closest(word: str, candidates: list[str]) -> str:
    """The known spelling a misspelled annotation most likely meant, or '' when nothing is close."""
    if word in candidates:  # what difflib would answer (only an equal string scores 1.0), without its ~2 ms a call:
        return word  # unknown-annotation asks for every annotation of a service, the ones spelled right included
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return match[0] if match else ""


def db_engine(text: str) -> str:
    """Which database engine a connection string, driver name or port speaks: postgres, mysql, sqlserver or ''."""
    for engine, pattern in _ENGINE_HINTS:
        if pattern.search(str(text).strip()):
            return engine
    return ""
