"""The two Terraform evidence formats as sources/evidence.py tries them on every document: what each is called and
whether a document is one, without their parsers. A format's parser (sources/terraform_state.py,
sources/terraform_plan.py, and with them terraform_resources, terraform_network and terraform_ancestry) is imported
only when a document is of that format, so a compare of gcloud exports never loads them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.model import Inventory
from driftcheck.sources.tfstate_stream import StreamedState

STATE_KIND = "Terraform state (terraform.tfstate, format version 4)"
PLAN_KIND = "Terraform JSON (terraform show -json, of a state or a plan)"


def state_matches(data: Any) -> bool:
    if isinstance(data, StreamedState):
        return True
    return isinstance(data, dict) and "terraform_version" in data and "version" in data and "format_version" not in data


def plan_matches(data: Any) -> bool:
    """`format_version` plus anything only Terraform's JSON has; or such a plan wrapped by a CI tool."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("tfplan"), dict):
        return True
    return "format_version" in data and ("terraform_version" in data or is_plan(data) or "values" in data)


def is_plan(data: dict[str, Any]) -> bool:
    return any(key in data for key in ("planned_values", "resource_changes", "prior_state", "output_changes"))


class TerraformFormat:
    """An EvidenceReader (kinds/registry.py) whose `load` imports its parser module on first use."""

    def __init__(self, kind: str, test: Callable[[Any], bool], parser: str) -> None:
        self.KIND = kind
        self._test = test
        self._parser = parser

    def matches(self, data: Any) -> bool:
        return self._test(data)

    def load(self, doc: Document, inventory: Inventory) -> None:
        importlib.import_module(self._parser).load(doc, inventory)

    def __repr__(self) -> str:
        return f"<evidence format {self._parser}>"


STATE = TerraformFormat(STATE_KIND, state_matches, "driftcheck.sources.terraform_state")
PLAN = TerraformFormat(PLAN_KIND, plan_matches, "driftcheck.sources.terraform_plan")
