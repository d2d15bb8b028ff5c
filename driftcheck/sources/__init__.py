"""Evidence sources: files (gcloud and API exports, Terraform, driftcheck's snapshots), Cloud Storage and the live APIs.

Which kind of resource a document is, and how it loads, is the kinds' to say (kinds/registry.py); this package
adds the formats that hold many kinds at once (a snapshot, a Terraform state or plan).
"""

from __future__ import annotations

from driftcheck.kinds.registry import EvidenceReader, kinds
from driftcheck.sources import snapshot_file, terraform_plan, terraform_state

# Whole-file formats come first: each is one document, never peeled into resources by unwrap.
FORMATS: tuple[EvidenceReader, ...] = (snapshot_file, terraform_state, terraform_plan)


def readers() -> tuple[EvidenceReader, ...]:
    """Every reader, in the order tried: the formats, then each registered kind's (kinds whose shapes could
    overlap order their own readers: a Knative Service before a v2 one)."""
    return (*FORMATS, *(reader for kind in kinds() for reader in kind.readers))
