"""CEL expressions as a small syntax tree, for checking the names a rule uses (ruleset/fieldcheck.py).

The Rust binding (ruleset/cel.py) compiles and runs an expression but shows no syntax tree, only the bare variable
names; which field of which variable an expression reads needs the tree. This parser reads what that binding
accepted: it keeps member access, indexes, calls and literals exactly, and keeps of the operators only their
operands (for a name, `a + b * c` and `(a + b) * c` read the same fields). The nodes are NamedTuples, which Python
defines ten times faster than dataclasses: this module loads with every rule load. (So two nodes of different kinds
with equal fields compare equal: tell them apart by type.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

# Strings first (raw ones have no escapes), so no operator or name is ever read inside one; then numbers, names
# (a backquoted name is a field with any characters), and operators, longest first. No groups: findall gives texts.
_TOKEN = re.compile(
    r"""\s+|//[^\n]*
    |(?:[bB]?[rR]|[rR][bB])(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n]*'|"[^"\n]*")
    |[bB]?(?:'''(?:\\[\s\S]|[^\\])*?'''|\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")
    |0[xX][0-9a-fA-F]+[uU]?|\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?
    |[A-Za-z_]\w*|`[^`]+`
    |==|!=|<=|>=|&&|\|\||\?\.|[-+*/%!<>?:.,()\[\]{}]""",
    re.X,
)
_STRING_START = re.compile(r"[bBrR]{0,2}['\"]")
_BINARY = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"}
_CONSTANTS = {"true": True, "false": False, "null": None}


class Name(NamedTuple):
    name: str


class Select(NamedTuple):
    operand: Node
    field: str


class Index(NamedTuple):
    operand: Node
    key: Node


class Call(NamedTuple):
    function: str
    receiver: Node | None  # `x.f(...)`: x; `f(...)`: None
    args: tuple[Node, ...]


class Literal(NamedTuple):
    value: object  # str, bytes, int, float, bool or None; Ellipsis for a literal this parser does not decode


class ListOf(NamedTuple):
    items: tuple[Node, ...]


class MapOf(NamedTuple):
    entries: tuple[tuple[Node, Node], ...]


class Operation(NamedTuple):
    operators: tuple[str, ...]  # unary: one, before its one operand; binary: one between each two operands
    operands: tuple[Node, ...]


class Conditional(NamedTuple):
    condition: Node
    then: Node
    otherwise: Node


Node = Name | Select | Index | Call | Literal | ListOf | MapOf | Operation | Conditional
_T = TypeVar("_T")


class CelSyntaxError(ValueError):
    """An expression this parser cannot read (the CEL binding is the judge of what is valid)."""


def parse(expression: str) -> Node:
    parser = _Parser(_tokens(expression))
    node = parser.expression()
    if parser.peek() != "":
        raise CelSyntaxError(f"unexpected {parser.peek()!r}")
    return node


def _tokens(expression: str) -> list[str]:
    texts = _TOKEN.findall(expression)
    if sum(map(len, texts)) != len(expression):  # findall skips what is no token
        raise CelSyntaxError("a character that starts no CEL token")
    return [text for text in texts if not text[0].isspace() and not text.startswith("//")]


def _kind(text: str) -> str:
    """string, number, name or op: asked of a primary's first token only."""
    if not text:
        return "end"
    first = text[0]
    if first in "'\"" or (first in "bBrR" and _STRING_START.match(text)):
        return "string"
    if first.isdigit() or (first == "." and len(text) > 1):
        return "number"
    return "name" if first.isalpha() or first in "_`" else "op"


class _Parser:
    """Recursive descent over CEL's grammar: Expr = Or ["?" Or ":" Expr]; the binary operators flattened."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = [*tokens, ""]  # the end reads as an empty token: no bounds check on each peek
        self.position = 0

    def peek(self) -> str:
        return self.tokens[self.position]

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.position]
        if not token or (expected is not None and token != expected):
            raise CelSyntaxError(f"expected {expected or 'more'!r}, found {token or 'the end'!r}")
        self.position += 1
        return token

    def expression(self) -> Node:
        condition = self.binary()
        if self.peek() != "?":
            return condition
        self.take("?")
        then = self.binary()
        self.take(":")
        return Conditional(condition, then, self.expression())

    def binary(self) -> Node:
        operands, operators = [self.unary()], []
        while self.peek() in _BINARY:
            operators.append(self.take())
            operands.append(self.unary())
        return operands[0] if not operators else Operation(tuple(operators), tuple(operands))

    def unary(self) -> Node:
        if self.peek() in ("!", "-"):
            operator = self.take()
            return Operation((operator,), (self.unary(),))
        return self.member(self.primary())

    def member(self, node: Node) -> Node:
        while self.peek() in (".", "?.", "["):
            if self.take() == "[":
                node = Index(node, self.expression())
                self.take("]")
                continue
            field = _field(self.take())
            node = Call(field, node, self.arguments()) if self.peek() == "(" else Select(node, field)
        return node

    def primary(self) -> Node:
        text = self.take()
        if text == ".":  # `.name`: a name from the root scope
            text = self.take()
        kind = _kind(text)
        if kind == "name" and text in _CONSTANTS:
            return Literal(_CONSTANTS[text])
        if kind in ("string", "number"):
            return Literal(_literal(text))
        if kind == "name":
            return self.named(_field(text))
        if text == "(":
            node = self.expression()
            self.take(")")
            return node
        if text == "[":
            return ListOf(tuple(self.listed("]", self.expression)))
        if text == "{":
            return MapOf(tuple(self.listed("}", self.entry)))
        raise CelSyntaxError(f"unexpected {text!r}")

    def named(self, name: str) -> Node:
        if self.peek() == "(":
            return Call(name, None, self.arguments())
        if self.peek() == "{":  # a message: `Type{field: value}`; only its values are read
            self.take("{")
            return Operation(("message",), tuple(value for _, value in self.listed("}", self.entry)))
        return Name(name)

    def arguments(self) -> tuple[Node, ...]:
        self.take("(")
        return tuple(self.listed(")", self.expression))

    def entry(self) -> tuple[Node, Node]:
        if self.peek() == "?":  # an optional entry: `{?key: value}`
            self.take("?")
        key = self.expression()
        self.take(":")
        return key, self.expression()

    def listed(self, closing: str, read: Callable[[], _T]) -> list[_T]:
        """Items up to `closing` (taken), comma separated, a trailing comma allowed."""
        items: list[_T] = []
        while self.peek() != closing:
            items.append(read())
            if self.peek() != closing:
                self.take(",")
        self.take(closing)
        return items


def _field(text: str) -> str:
    return text[1:-1] if text.startswith("`") else text


def _literal(text: str) -> object:
    """A literal's value, as a map key or an index reads it; Ellipsis when Python's syntax does not match CEL's."""
    if text[0] in "\"'" and "\\" not in text and not text.startswith(text[0] * 3):
        return text[1:-1]  # nearly every string: nothing to decode
    try:
        return ast.literal_eval(text.rstrip("uU") if text[0].isdigit() else text)
    except (ValueError, SyntaxError):
        return ...
