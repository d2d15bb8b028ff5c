"""Evidence stored in Cloud Storage (`gs://bucket/key`): a Terraform state in a GCS backend, typically.

Read with google-cloud-storage and Application Default Credentials; the client honours STORAGE_EMULATOR_HOST
(anonymous credentials, for emulators and tests). Imported lazily, so an offline run never loads google.*.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.errors import InputError
from driftcheck.sources import limits
from driftcheck.sources.documents import Document, read_url_documents

SCHEME = "gs://"


def is_gcs(location: str) -> bool:
    """`gs://b/k` as typed, or `gs:/b/k` after pathlib collapsed the double slash of a --from argument."""
    return location.startswith((SCHEME, "gs:/"))


def normalized(location: str) -> str:
    return location if location.startswith(SCHEME) else SCHEME + location.removeprefix("gs:/")


def read_documents(location: str) -> Iterator[Document]:
    url = normalized(location)
    yield from read_url_documents(url, read_object(url))


def read_object(url: str) -> bytes:
    bucket_name, _, key = url.removeprefix(SCHEME).partition("/")
    if not bucket_name or not key:
        raise InputError("expected gs://BUCKET/OBJECT", file=url)
    from google.api_core import exceptions  # lazy: see the module docstring
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage  # type: ignore[attr-defined]  # namespace package without a stub for mypy

    try:
        blob = storage.Client().bucket(bucket_name).blob(key)
        blob.reload()  # its size, so an object too large is refused before it is downloaded
        limits.check_size(int(blob.size or 0), url)
        return bytes(blob.download_as_bytes())
    except exceptions.NotFound:
        raise InputError("no such object (or no such bucket)", file=url) from None
    except exceptions.Forbidden as exc:
        raise InputError(f"permission denied ({exc.message}); grant roles/storage.objectViewer", file=url) from None
    except DefaultCredentialsError:
        raise InputError(
            "no Application Default Credentials; run `gcloud auth application-default login`", file=url
        ) from None
    except exceptions.GoogleAPIError as exc:
        raise InputError(f"cannot read: {exc}".splitlines()[0], file=url) from None
