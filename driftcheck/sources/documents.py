"""Read evidence files into parsed documents: JSON or YAML, any of gcloud's encodings, errors with a line number."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftcheck.errors import InputError
from driftcheck.sources.screening import PLACEHOLDER, template_message
from driftcheck.sources.tfstate_stream import open_state

_KEY_VALUE = re.compile(r"""^\s*(-\s+)?["']?[\w./-]+["']?\s*:\s*\S""")

try:  # libyaml is several times faster; fall back to the pure-Python loader where it is not built
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


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


def decode(raw: bytes, path: Path) -> str:
    """gcloud output redirected by PowerShell is UTF-16 with a byte-order mark; everything else is UTF-8."""
    for bom, encoding in (
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
        (codecs.BOM_UTF8, "utf-8-sig"),
    ):
        if raw.startswith(bom):
            return raw.decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 or UTF-16 text (byte {exc.start})", file=str(path)) from None


def parse(text: str, path: Path) -> list[Any]:
    """JSON when it looks like JSON (faster, exact errors), else YAML, which may hold several documents. A
    Terraform state is decoded resource by resource, when its loader asks (sources/tfstate_stream.py)."""
    streamed = open_state(text, str(path))
    if streamed is not None:
        return [streamed]
    if text.lstrip()[:1] in ("{", "["):
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            _refuse_template(text, path)
            raise InputError(f"malformed JSON: {exc.msg}", file=str(path), where=f"line {exc.lineno}") from None
    try:
        docs = [d for d in yaml.load_all(text, Loader=_YamlLoader) if d is not None]
    except yaml.YAMLError as exc:
        _refuse_template(text, path)
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML: {problem}", file=str(path), where=where) from None
    if not docs:
        what = "holds only comments" if text.strip() else "is empty"
        raise InputError(f"file {what}: no JSON or YAML document to read", file=str(path))
    return docs


def _refuse_template(text: str, path: Path) -> None:
    """A file that does not parse and holds `${var}` or `{{ x }}` is an unrendered template: say so, not "malformed"."""
    for number, line in enumerate(text.splitlines(), start=1):
        match = PLACEHOLDER.search(line)
        if match and _KEY_VALUE.match(line):  # `name: ${name}`, not prose that mentions `${var}`
            raise InputError(template_message(match.group(0)), file=str(path), where=f"line {number}")


def read_documents(path: Path) -> Iterator[Document]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    for index, data in enumerate(parse(decode(raw, path), path)):
        yield Document(path, data, index)


def read_url_documents(url: str, raw: bytes) -> Iterator[Document]:
    """Documents of an object read from a URL; errors and provenance name the URL."""
    path = Path(url.rsplit("/", 1)[-1])
    try:
        documents = parse(decode(raw, path), path)
    except InputError as exc:  # re-labelled: the message should name the URL, not the bare object name
        located = ":".join(part for part in (exc.file, exc.where) if part)
        raise InputError(str(exc)[len(located) + 2 :], file=url, where=exc.where) from None
    for index, data in enumerate(documents):
        yield Document(path, data, index, url)


def evidence_files(location: Path) -> list[Path]:
    """The files of an evidence folder (recursively, hidden ones skipped) or the one file given."""
    if not location.exists():
        raise InputError("no such file or folder", file=str(location))
    if location.is_file():
        return [location]
    files = sorted(
        p
        for p in location.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(location).parts)
    )
    if not files:
        raise InputError("folder holds no evidence files", file=str(location))
    return files
