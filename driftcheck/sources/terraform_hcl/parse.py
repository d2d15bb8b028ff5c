"""Reading .tf and .tfvars files with python-hcl2: plain values, expressions kept as text, and each block's line.

python-hcl2 is imported inside the functions: only a .tf folder needs the parser (and lark under it), so an
ordinary compare never pays for loading it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.sources import limits
from driftcheck.sources.terraform_hcl.paths import join

_MARKERS = frozenset({"__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"})
_INTERPOLATION = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}()]")


@dataclass(frozen=True)
class Expr:
    """An HCL expression python-hcl2 left as source text: a reference, a call, or a string template."""

    text: str  # without the ${ } wrapper; a template keeps its quotes
    template: bool = False


@dataclass(frozen=True)
class TfFile:
    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]  # top-level block labels -> line
    inner: dict[tuple[str, ...], dict[str, int]]  # top-level block labels -> attribute path in it -> line


def parse_file(path: Path) -> TfFile:
    """One .tf or .tfvars file; a syntax error is an InputError naming the file and line."""
    import hcl2  # lazily: only a .tf folder needs the parser
    from lark.exceptions import LarkError, UnexpectedInput

    text = _read(path)
    try:
        tree = hcl2.parses(text)
    except RecursionError:  # the grammar's tree transforms recurse; _read refuses most such files sooner
        raise InputError(limits.too_deep_message(), file=str(path)) from None
    except UnexpectedInput as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"HCL syntax error: {detail}", file=str(path), where=str(exc.line)) from None
    except (LarkError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not readable as HCL: {exc}".splitlines()[0], file=str(path)) from None
    options = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
    try:
        data = _clean(hcl2.serialize(tree, serialization_options=options))
    except RecursionError:
        raise InputError(limits.too_deep_message(), file=str(path)) from None
    lines, inner = _block_lines(tree)
    return TfFile(path, data, lines, inner)


def _read(path: Path) -> str:
    """The file's text, refused when too large or nested too deep: lark would take seconds to find out."""
    limits.check_size(limits.path_size(path), str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    if _bracket_depth(text) > limits.MAX_DEPTH:
        raise InputError(limits.too_deep_message(), file=str(path))
    return text


def _bracket_depth(text: str) -> int:
    """The deepest bracket nesting outside quoted strings (an estimate: heredocs are counted too)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_QUOTED.sub('""', text)):
        depth = depth + 1 if match.group(0) in "[{(" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def blocks(files: list[TfFile], kind: str) -> Iterator[tuple[TfFile, str, dict[str, Any]]]:
    """`variable "x" {}` and `module "m" {}` blocks: (file, label, body)."""
    for tf in files:
        for block in tf.data.get(kind) or ():
            for label, body in block.items():
                yield tf, label, body if isinstance(body, dict) else {}


def where(path: Path, line: int | None) -> str:
    """`main.tf:12` for an error message, or just the file when the line is not known."""
    return f"{path}:{line}" if line else str(path)


def unescape(quoted: str) -> str:
    """A quoted HCL string's text; `$${` and `%%{` are how HCL writes a literal `${` and `%{`."""
    try:
        text = str(json.loads(quoted))
    except json.JSONDecodeError:
        text = quoted[1:-1]
    return text.replace("$${", "${").replace("%%{", "%{")


def _clean(value: Any) -> Any:
    """The one place python-hcl2 8.x's spelling is undone: quoted strings, quoted labels, block markers.

    It keeps a literal string quoted (`'"api"'`) and writes an expression as `${...}`, so the quotes are what tells
    a literal from a reference; that distinction survives here as str versus Expr.
    """
    if isinstance(value, dict):
        return {_label(k): _clean(v) for k, v in value.items() if k not in _MARKERS}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if not isinstance(value, str):
        return value  # numbers, booleans, null
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        if _INTERPOLATION.search(value):
            return Expr(value, template=True)
        return unescape(value)
    if value.startswith("${") and value.endswith("}"):
        return Expr(value[2:-1])
    return Expr(value)  # a bare identifier (a variable's `type = string`)


def _label(key: str) -> str:
    return unescape(key) if len(key) >= 2 and key.startswith('"') and key.endswith('"') else key


def _block_lines(tree: Any) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, ...], dict[str, int]]]:
    """python-hcl2 8.x's dict output has no positions (with_meta is declared but unused); its parse tree has them."""
    from hcl2.rules.base import BlockRule

    lines, inner = {}, {}
    for child in tree.body.children:
        if isinstance(child, BlockRule) and getattr(child._meta, "line", None):
            labels = tuple(_label(str(label.serialize())) for label in child.labels)
            lines[labels] = int(child._meta.line)
            inner[labels] = _body_lines(child.body, "", {})
    return lines, inner


def _body_lines(body: Any, path: str, lines: dict[str, int]) -> dict[str, int]:
    """Attribute path (`template[0].containers[0].env[2]`, as in state) -> line; dynamic blocks keep their parent's."""
    from hcl2.rules.base import AttributeRule, BlockRule

    seen: dict[str, int] = {}
    for child in body.children:
        line = getattr(child._meta, "line", None)
        if isinstance(child, AttributeRule) and line:
            lines[join(path, str(child.identifier.serialize()))] = int(line)
        elif isinstance(child, BlockRule) and line and not child.labels[1:]:
            name = str(child.labels[0].serialize())
            seen[name] = seen.get(name, -1) + 1
            nested = f"{join(path, name)}[{seen[name]}]"
            lines[nested] = int(line)
            _body_lines(child.body, nested, lines)
    return lines
