"""One-line Terraform snippets: the settings a fix makes in one resource, as nested blocks merged from many fixes.

One line because every report prints a fix as one line (a table must not wrap it, Markdown quotes it inline);
attributes of one block are separated by commas.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    name: str
    ident: tuple[tuple[str, str], ...] = ()  # what tells repeated blocks apart: containers { name = "api" }
    is_map: bool = False  # an attribute written as a map: limits = { ... }, annotations = { ... }


@dataclass(frozen=True)
class Setting:
    path: tuple[Block, ...]
    attr: str | None  # None: the block alone (tcp_socket {})
    value: str | tuple[str, ...] = ""  # HCL text; a tuple holds raw strings merged with other fixes' items
    keep: bool = False  # restates a current value, so a map written whole loses nothing; a new value wins
    joined: str | None = None  # write a tuple as one string joined by this ("a,b"), not as a list


def literal(text: str) -> str:
    """A quoted HCL string: `${` and `%{` would start an interpolation or a template directive."""
    return json.dumps(text, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def render(settings: Iterable[Setting]) -> str:
    root = _Node()
    for setting in settings:
        root.add(setting, 0)
    return root.text(())


class _Node:
    def __init__(self) -> None:
        self.attrs: dict[str, Setting] = {}
        self.children: dict[Block, _Node] = {}

    def add(self, setting: Setting, depth: int) -> None:
        if depth < len(setting.path):
            self.children.setdefault(setting.path[depth], _Node()).add(setting, depth + 1)
            return
        if setting.attr is None:
            return
        old = self.attrs.get(setting.attr)
        if old is None or (old.keep and not setting.keep):
            self.attrs[setting.attr] = setting
        elif isinstance(old.value, tuple) and isinstance(setting.value, tuple):  # two fixes add to one list
            self.attrs[setting.attr] = dataclasses.replace(old, value=tuple(dict.fromkeys(old.value + setting.value)))
        # otherwise the first fix wins: findings come most likely cause first

    def text(self, ident: tuple[tuple[str, str], ...]) -> str:
        items = [f"{name} = {value}" for name, value in ident]
        items += [f"{name} = {_value(setting)}" for name, setting in self.attrs.items()]
        for block, child in self.children.items():
            inner = child.text(block.ident)
            body = f"{{ {inner} }}" if inner else "{}"
            items.append(f"{block.name} = {body}" if block.is_map else f"{block.name} {body}")
        return ", ".join(items)


def _value(setting: Setting) -> str:
    if not isinstance(setting.value, tuple):
        return setting.value
    if setting.joined is not None:
        return literal(setting.joined.join(setting.value))
    return f"[{', '.join(literal(item) for item in setting.value)}]"
