"""Evidence sources: files (gcloud and API exports, Terraform, driftcheck's snapshots), Cloud Storage and the live APIs.

Which kind of resource a document is, and how it loads, is the kinds' to say (kinds/registry.py); this package
adds the formats that hold many kinds at once (a snapshot, a Terraform state or plan).
"""

from __future__ import annotations

from driftcheck.kinds.registry import EvidenceReader, kinds
from driftcheck.sources import asset_inventory, snapshot_file
from driftcheck.sources.terraform_formats import PLAN, STATE

# Whole-file formats come first: each is one document, never peeled into resources by unwrap. A Cloud Asset
# Inventory record is one asset of a list (unwrap peels the list), holding one kind's API JSON.
# The Terraform ones import their parsers only for a Terraform document (sources/terraform_formats.py).
FORMATS: tuple[EvidenceReader, ...] = (snapshot_file, STATE, PLAN, asset_inventory)


def readers() -> tuple[EvidenceReader, ...]:
    """Every reader, in the order tried: the formats, then each registered kind's (kinds whose shapes could
    overlap order their own readers: a Knative Service before a v2 one)."""
    return (*FORMATS, *(reader for kind in kinds() for reader in kind.readers))
