"""Objects in Cloud Storage (`gs://bucket/key`): the one module that calls google-cloud-storage.

Application Default Credentials; the client honours STORAGE_EMULATOR_HOST (anonymous credentials, for emulators and
tests). google.* is imported inside the functions, never at the top: gs:// evidence, history stores and shard partials
import this module on the offline path, and an offline run must not load google.* (tests/test_offline_imports.py).
A bucket is passed around as the client's own object, untyped: callers only hand it back to these functions.
"""

from __future__ import annotations

from typing import Any

from driftcheck.errors import InputError
from driftcheck.sources import limits


def open_bucket(name: str) -> Any:
    """A handle on bucket `name`: no request is made until an object is listed, read or written."""
    from google.cloud import storage  # type: ignore[attr-defined]  # namespace package without a stub for mypy

    return storage.Client().bucket(name)


def names(bucket: Any, prefix: str) -> list[str]:
    """The full name of every object under `prefix` (in the listing's order: by name)."""
    return [blob.name for blob in bucket.client.list_blobs(bucket, prefix=prefix)]


def read_text(bucket: Any, key: str) -> str:
    return str(bucket.blob(key).download_as_text())


def write_text(bucket: Any, key: str, text: str, *, if_absent: bool = False) -> None:
    """Store `text` as a JSON object. A single-request upload is atomic in Cloud Storage (the object becomes visible
    only once complete), so no temporary name is needed. `if_absent` sends if_generation_match=0 ("only if no such
    object yet"): a concurrent writer that picked the same name cannot silently replace the stored object."""
    precondition = {"if_generation_match": 0} if if_absent else {}
    bucket.blob(key).upload_from_string(text, content_type="application/json", **precondition)


def delete(bucket: Any, key: str) -> None:
    bucket.blob(key).delete()


def read_bytes(bucket_name: str, key: str, where: str) -> bytes:
    """One object's bytes, refused before download when above the size limit; each failure an InputError on
    `where` (the gs:// URL as the user gave it) that says what to do."""
    from google.api_core import exceptions
    from google.auth.exceptions import DefaultCredentialsError

    try:
        blob = open_bucket(bucket_name).blob(key)
        blob.reload()  # its size, so an object too large is refused before it is downloaded
        limits.check_size(int(blob.size or 0), where)
        return bytes(blob.download_as_bytes())
    except exceptions.NotFound:
        raise InputError("no such object (or no such bucket)", file=where) from None
    except exceptions.Forbidden as exc:
        raise InputError(f"permission denied ({exc.message}); grant roles/storage.objectViewer", file=where) from None
    except DefaultCredentialsError:
        raise InputError(
            "no Application Default Credentials; run `gcloud auth application-default login`", file=where
        ) from None
    except exceptions.GoogleAPIError as exc:
        raise InputError(f"cannot read: {exc}".splitlines()[0], file=where) from None
