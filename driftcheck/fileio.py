"""Atomic file writes: a reader (or a crash, or Ctrl-C) never sees half a report or half a snapshot."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from driftcheck.errors import DriftcheckError


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, flush to disk, then rename over it: the old file or the new one, never a mix.

    A symlink is written through (its target is replaced, the link stays); a pipe, a terminal or `/dev/stdout`
    cannot be renamed over, so it is written to directly."""
    if _is_stream(path):
        _write_stream(path, text)
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
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
        _keep_mode(path, handle.name)
        os.replace(handle.name, path)
    except BaseException as exc:  # including KeyboardInterrupt: leave no temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(exc, OSError):
            raise DriftcheckError(f"{path}: cannot write: {exc.strerror}") from None
        raise


def _is_stream(path: Path) -> bool:
    """An existing target that is not a regular file: a FIFO, a character device, `/dev/stdout` (a link to one)."""
    try:
        mode = path.stat().st_mode  # follows symlinks: /dev/stdout -> /proc/self/fd/1 -> a pipe or a terminal
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _write_stream(path: Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise DriftcheckError(f"{path}: cannot write: {exc.strerror}") from None


def _keep_mode(path: Path, temporary: str) -> None:
    """A file written over keeps its permissions (the temporary file is created 0600)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
