"""Atomic file writes: a reader (or a crash, or Ctrl-C) never sees half a report or half a snapshot."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from driftcheck.errors import DriftcheckError


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, flush to disk, then rename over it: the old file or the new one, never a mix."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
            "w", encoding="utf-8", dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as exc:
        raise DriftcheckError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException as exc:  # including KeyboardInterrupt: leave no temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(exc, OSError):
            raise DriftcheckError(f"{path}: cannot write: {exc.strerror}") from None
        raise
