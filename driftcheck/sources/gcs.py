"""Evidence stored in Cloud Storage (`gs://bucket/key`): a Terraform state in a GCS backend, typically.

The URL handling lives here; the reading is sources/live/storage.py's, the one module that calls
google-cloud-storage (lazily, so an offline run never loads google.*).
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.sources.documents import read_url_documents
from driftcheck.sources.live import storage

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
    return storage.read_bytes(bucket_name, key, where=url)
