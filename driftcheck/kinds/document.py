"""One parsed evidence document: what a kind's reader is handed, whichever source read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
