"""Read evidence files into parsed documents: JSON or YAML, any of gcloud's encodings, errors with a line number."""

from __future__ import annotations

import codecs
import itertools
import json
import mmap
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.sources import json_stream, limits
from driftcheck.sources.screening import PLACEHOLDER, template_message
from driftcheck.sources.tfstate_stream import (
    DuplicateKey,
    decode_object,
    duplicate_key_message,
    interned_object,
    open_state,
)

_KEY_VALUE = re.compile(r"""^\s*(-\s+)?["']?[\w./-]+["']?\s*:\s*\S""")

try:  # libyaml is several times faster; fall back to the pure-Python loader where it is not built
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


class _StrictYamlLoader(_YamlLoader):  # type: ignore[misc]
    """Refuses a mapping that repeats a key: YAML calls that an error, and PyYAML would keep the last silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node)
                if key in seen:
                    problem = f"duplicate key {key!r} (which value is meant is not for driftcheck to guess)"
                    raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
                seen.add(key)
        return mapping

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        """Interned: a list of thousands of services repeats the same keys, images, env names and values, and the
        canonical model keeps them; one copy each is a third less memory for a long multi-document file."""
        return sys.intern(self.construct_scalar(node))


_StrictYamlLoader.add_constructor("tag:yaml.org,2002:str", _StrictYamlLoader.construct_yaml_str)


def decode(raw: bytes | mmap.mmap, path: Path) -> str:
    """gcloud output redirected by PowerShell is UTF-16 with a byte-order mark; everything else is UTF-8."""
    head = bytes(raw[:3])
    for bom, encoding in (
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
        (codecs.BOM_UTF8, "utf-8-sig"),
    ):
        if head.startswith(bom):
            return str(raw, encoding)
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 or UTF-16 text (byte {exc.start})", file=str(path)) from None


def parse(text: str, path: Path) -> Iterable[Any]:
    """JSON when it looks like JSON (faster, exact errors), else YAML, which may hold several documents. A
    Terraform state is decoded resource by resource, when its loader asks (sources/tfstate_stream.py)."""
    streamed = open_state(text, str(path))
    if streamed is not None:
        return [streamed]
    start = len(text) - len(text.lstrip())
    if text.startswith(("{", "["), start):
        try:
            return _within_depth([json.loads(text, object_pairs_hook=decode_object)], path)
        except DuplicateKey as exc:
            raise InputError(duplicate_key_message(exc), file=str(path)) from None
        except RecursionError:  # json's C decoder gives up near the recursion limit: still the file's fault
            raise InputError(limits.too_deep_message(), file=str(path)) from None
        except json.JSONDecodeError as exc:
            _refuse_template(text, path)
            raise InputError(f"malformed JSON: {exc.msg}", file=str(path), where=f"line {exc.lineno}") from None
    limits.refuse_yaml_aliases(text, str(path))
    return _yaml_documents(text, lambda: text, path)


# Asked of the first item of a top-level JSON array: is it a resource on its own? Then the items are documents of
# their own, decoded one at a time like the documents of a multi-document YAML file (`gcloud ... list
# --format=json`); otherwise the array is one document (a secret's versions, say).
ItemTest = Callable[[Any], bool]
_ITEM_DECODER = json.JSONDecoder(object_pairs_hook=interned_object)


def parse_raw(raw: bytes | mmap.mmap, path: Path, stand_alone: ItemTest | None = None) -> Iterable[Any]:
    """Like `parse`, from the file's bytes. Plain UTF-8 YAML (every gcloud YAML export) is streamed from them, so
    neither a decoded copy nor libyaml's UTF-8 copy of a long multi-document file is ever held; anything else
    (JSON, a byte-order mark) is decoded first."""
    head = bytes(raw[:4096]).lstrip()
    if head[:1] == b"[" and stand_alone is not None:
        items = json_stream.array_items(raw, str(path), _ITEM_DECODER)
        try:
            first = next(items, None)
        except InputError:  # the ordinary decode says what is wrong (an unrendered template, say)
            first = None
        if first is not None and stand_alone(first):
            return _standing_alone(first, items, path)
    if not head or head[:1] in (b"{", b"[") or bytes(raw[:2]) in _BOM_STARTS:
        return parse(decode(raw, path), path)
    limits.refuse_yaml_aliases(raw, str(path))
    return _yaml_documents(_ChunkReader(raw), lambda: decode(raw, path), path)


def _standing_alone(first: Any, rest: Iterator[Any], path: Path) -> Iterator[Any]:
    for item in itertools.chain([first], rest):
        limits.check_depth(item, str(path))
        yield item


_BOM_STARTS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8[:2])


class _ChunkReader:
    """libyaml reads a stream in chunks; reading a memory map this way never copies the whole file."""

    def __init__(self, raw: bytes | mmap.mmap) -> None:
        self._view = memoryview(raw)
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._position + size
        chunk = bytes(self._view[self._position : end])
        self._position += len(chunk)
        return chunk

    def close(self) -> None:
        self._view.release()  # the map cannot close while a view of it is alive


def _yaml_documents(stream: str | _ChunkReader, text_of: Callable[[], str], path: Path) -> Iterator[Any]:
    """One document at a time: a long multi-document file (`gcloud run services list --format=yaml`) is never
    held whole as parsed values, only the document being loaded. `text_of` gives the text when an error needs it."""
    found = False
    try:
        for doc in yaml.load_all(stream, Loader=_StrictYamlLoader):
            if doc is not None:
                limits.check_depth(doc, str(path))
                found = True
                yield doc
    except RecursionError:
        raise InputError(limits.too_deep_message(), file=str(path)) from None
    except yaml.YAMLError as exc:
        text = text_of()  # not UTF-8: decode says so, with the byte
        _refuse_template(text, path)
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit (1,000 levels): say it as ours is said
            raise InputError(limits.too_deep_message(), file=str(path), where=where) from None
        raise InputError(f"malformed YAML: {problem}", file=str(path), where=where) from None
    finally:
        if isinstance(stream, _ChunkReader):
            stream.close()
    if not found:
        raise InputError(f"file {_why_nothing(text_of())}: no JSON or YAML document to read", file=str(path))


def _why_nothing(text: str) -> str:
    """Empty, only comments, or only `null` documents (a JSON `null`, a YAML `~`)."""
    if not text.strip():
        return "is empty"
    meaningful = (line.strip() for line in text.splitlines())
    if any(line and not line.startswith("#") and line not in ("---", "...") for line in meaningful):
        return "holds only null"
    return "holds only comments"


def _within_depth(docs: list[Any], path: Path) -> list[Any]:
    for doc in docs:
        limits.check_depth(doc, str(path))
    return docs


def _refuse_template(text: str, path: Path) -> None:
    """A file that does not parse and holds `${var}` or `{{ x }}` is an unrendered template: say so, not "malformed"."""
    for number, line in enumerate(text.splitlines(), start=1):
        match = PLACEHOLDER.search(line)
        if match and _KEY_VALUE.match(line):  # `name: ${name}`, not prose that mentions `${var}`
            raise InputError(template_message(match.group(0)), file=str(path), where=f"line {number}")


def read_documents(path: Path, stand_alone: ItemTest | None = None) -> Iterator[Document]:
    """The documents of one local file, read through a read-only memory map: the bytes are never copied into
    memory of their own, and YAML is parsed straight from the map."""
    limits.check_size(limits.path_size(path), str(path))
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    with handle:
        if limits.path_size(path) == 0:  # an empty file cannot be mapped
            yield from (Document(path, data, index) for index, data in enumerate(parse("", path)))
            return
        with _mapped(handle, path) as mapped:
            for index, data in enumerate(parse_raw(mapped, path, stand_alone)):
                yield Document(path, data, index)


def _mapped(handle: BinaryIO, path: Path) -> mmap.mmap:
    try:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", file=str(path)) from None


def read_url_documents(url: str, raw: bytes) -> Iterator[Document]:
    """Documents of an object read from a URL; errors and provenance name the URL."""
    path = Path(url.rsplit("/", 1)[-1])
    try:
        for index, data in enumerate(parse_raw(raw, path)):
            yield Document(path, data, index, url)
    except InputError as exc:  # re-labelled: the message should name the URL, not the bare object name
        located = ":".join(part for part in (exc.file, exc.where) if part)
        raise InputError(str(exc)[len(located) + 2 :], file=url, where=exc.where) from None


def evidence_files(location: Path) -> list[Path]:
    """The files of an evidence folder (recursively, hidden ones skipped) or the one file given."""
    if not location.exists():
        raise InputError("no such file or folder", file=str(location))
    if location.is_file():
        return [location]
    files = sorted(_walk(location))
    if not files:
        raise InputError("folder holds no evidence files", file=str(location))
    return files


def _walk(folder: Path) -> Iterator[Path]:
    """Every file under folder, hidden ones (and hidden folders) skipped. A subfolder that cannot be listed is an
    error, not a silent gap in the evidence (pathlib's rglob skips it without a word)."""

    def refuse(exc: OSError) -> None:
        raise InputError(f"cannot read folder: {exc.strerror}", file=str(exc.filename or folder))

    for root, folders, names in os.walk(folder, onerror=refuse):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in names:
            path = Path(root, name)
            if not name.startswith(".") and path.is_file():
                yield path
