"""Read evidence files into parsed documents: JSON or YAML, any of gcloud's encodings, errors with a line number."""

from __future__ import annotations

import codecs
import json
import mmap
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftcheck.errors import InputError
from driftcheck.sources import limits
from driftcheck.sources.screening import PLACEHOLDER, template_message
from driftcheck.sources.tfstate_stream import DuplicateKey, decode_object, duplicate_key_message, open_state

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


@dataclass(frozen=True)
class Document:
    """One parsed JSON value or YAML document, with the file it came from."""

    path: Path
    data: Any
    index: int = 0  # position among the documents of a multi-document YAML file
    url: str | None = None  # where it was read from when that is not a local path (gs://bucket/key)

    @property
    def label(self) -> str:
        where = self.url or str(self.path)
        return where if self.index == 0 else f"{where}[{self.index}]"


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
    if text.lstrip()[:1] in ("{", "["):
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
    return _yaml_documents(text, path)


def _yaml_documents(text: str, path: Path) -> Iterator[Any]:
    """One document at a time: a long multi-document file (`gcloud run services list --format=yaml`) is never
    held whole, only its text and the document being loaded."""
    found = False
    try:
        for doc in yaml.load_all(text, Loader=_StrictYamlLoader):
            if doc is not None:
                limits.check_depth(doc, str(path))
                found = True
                yield doc
    except RecursionError:
        raise InputError(limits.too_deep_message(), file=str(path)) from None
    except yaml.YAMLError as exc:
        _refuse_template(text, path)
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit (1,000 levels): say it as ours is said
            raise InputError(limits.too_deep_message(), file=str(path), where=where) from None
        raise InputError(f"malformed YAML: {problem}", file=str(path), where=where) from None
    if not found:
        raise InputError(f"file {_why_nothing(text)}: no JSON or YAML document to read", file=str(path))


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


def read_documents(path: Path) -> Iterator[Document]:
    limits.check_size(limits.path_size(path), str(path))
    for index, data in enumerate(parse(_read_text(path), path)):
        yield Document(path, data, index)


def _read_text(path: Path) -> str:
    """The decoded text alone. The bytes are decoded from a read-only memory map, never copied into memory of
    their own: a large file is held once (as text), not twice."""
    try:
        with path.open("rb") as handle:
            if limits.path_size(path) == 0:  # an empty file cannot be mapped
                return ""
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return decode(mapped, path)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None


def read_url_documents(url: str, raw: bytes) -> Iterator[Document]:
    """Documents of an object read from a URL; errors and provenance name the URL."""
    path = Path(url.rsplit("/", 1)[-1])
    try:
        for index, data in enumerate(parse(decode(raw, path), path)):
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
