"""Cloud Logging's ListLogEntries for the fake server: the world's entries, filtered, ordered and paged.

The filter is the Logging query language, as much of it as driftcheck sends (sources/live/logs.py) and a little
more: comparisons `FIELD OP VALUE` (OP one of = != > >= < <= :), AND (or juxtaposition), OR, NOT and parentheses,
with the real language's precedence (NOT, then OR, then AND: `a AND b OR c` is `a AND (b OR c)`). A field is a
dotted path into the entry's JSON (`resource.labels.service_name`, `httpRequest.status`); `severity` compares by
rank (a missing one is DEFAULT), `timestamp` as a time, a number as a number; a missing field matches nothing but
`!=`. Anything else is INVALID_ARGUMENT, as the real API answers a filter it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
ORDERS = {"": False, "timestamp asc": False, "timestamp desc": True}  # order_by -> newest first
_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|>|<|:)|(?P<word>[^\s()"=!<>:]+))'
)

Entry = dict[str, Any]
Predicate = Callable[[Entry], bool]


class FilterError(ValueError):
    """A filter the fake cannot parse: the server answers INVALID_ARGUMENT with this message."""


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"Unparseable filter at {position}: {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        value = match[kind]
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "word" and value.startswith("-") and value[1:2].isalpha():  # `-field=x` is `NOT field=x`
            found.append(("word", "-"))
            value = value[1:]
        found.append((kind, value))
        position = match.end()
    return found


def parse_filter(text: str) -> Predicate:
    """The filter as a predicate on an entry's JSON; "" matches every entry."""
    parser = _Parser(tokens(text))
    if not parser.items:
        return lambda entry: True
    predicate = parser.conjunction()
    if parser.position != len(parser.items):
        raise FilterError(f"Unexpected {parser.items[parser.position][1]!r} in filter")
    return predicate


class _Parser:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise FilterError("Unexpected end of filter")
        self.position += 1
        return item

    def conjunction(self) -> Predicate:
        parts = [self.disjunction()]
        while (item := self.peek()) is not None and item != ("paren", ")"):
            if item == ("word", "AND"):
                self.take()
            parts.append(self.disjunction())
        return lambda entry: all(part(entry) for part in parts)

    def disjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda entry: any(part(entry) for part in parts))

    def unary(self) -> Predicate:
        if self.peek() in (("word", "NOT"), ("word", "-")):
            self.take()
            inner = self.unary()
            return lambda entry: not inner(entry)
        if self.peek() == ("paren", "("):
            self.take()
            inner = self.conjunction()
            if self.take() != ("paren", ")"):
                raise FilterError("Missing ')' in filter")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, field = self.take()
        if kind != "word" or field in ("AND", "OR", "NOT"):
            raise FilterError(f"Expected a field, found {field!r}")
        kind, op = self.take()
        if kind != "op":
            raise FilterError(f"Expected a comparison after {field}, found {op!r}")
        kind, value = self.take()
        if kind not in ("string", "word"):
            raise FilterError(f"Expected a value after {field}{op}, found {value!r}")
        return _comparison(field, op, value)


def _comparison(field: str, op: str, value: str) -> Predicate:
    path = field.split(".")
    if field == "severity":
        if value.upper() not in SEVERITIES:
            raise FilterError(f"Unknown severity {value!r}")
        wanted = SEVERITIES.index(value.upper())
        return lambda entry: _compare(SEVERITIES.index(str(entry.get("severity") or "DEFAULT")), op, wanted)
    if field in ("timestamp", "receiveTimestamp"):
        when = _time(value)
        return lambda entry: entry.get(field) is not None and _compare(_time(str(entry[field])), op, when)

    def matches(entry: Entry) -> bool:
        found: Any = entry
        for step in path:
            found = found.get(step) if isinstance(found, dict) else None
        if found is None:
            return op == "!="
        number = (isinstance(found, int | float) and not isinstance(found, bool)) or _is_number(found)
        if number and _is_number(value):
            return _compare(float(found), op, float(value))
        text = str(found)
        if op == ":":
            return value.lower() in text.lower()
        return _compare(text, op, value)

    return matches


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("=", ":"):
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == ">=":
        return bool(left >= right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left < right)


def _is_number(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"Invalid timestamp {text!r}") from None
    if when.tzinfo is None:
        raise FilterError(f"A timestamp needs its time zone: {text!r}")
    return when


def selected(entries: list[Entry], resource_names: list[str], filter_text: str, order_by: str) -> list[int]:
    """The indexes of the entries a ListLogEntries request selects, in the order asked."""
    if not resource_names:
        raise FilterError("resource_names must name at least one project")
    if order_by.strip() not in ORDERS:
        raise FilterError(f"Unsupported order_by {order_by!r}")
    predicate = parse_filter(filter_text)
    projects = tuple(f"{name}/logs/" for name in resource_names)
    chosen = [i for i, e in enumerate(entries) if str(e.get("logName", "")).startswith(projects) and predicate(e)]
    chosen.sort(key=lambda i: _time(str(entries[i].get("timestamp"))), reverse=ORDERS[order_by.strip()])
    return chosen
