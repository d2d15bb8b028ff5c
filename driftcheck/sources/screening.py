"""Recognize what driftcheck does not read (yet), so a refusal says what the file is instead of "unknown shape".

Unrendered templates are common neighbours of gcloud exports in a repository; each gets its own reason and the
command that produces evidence instead. (Terraform state and plans are read: sources/terraform_state.py and
terraform_plan.py; Cloud Asset Inventory records: sources/asset_inventory.py.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

EXPORT_HINT = "export the deployed service with `gcloud run services describe SERVICE --format=export`"
# `${var}` (envsubst, Terraform templatefile) and `{{ .Values.x }}` / `{{VAR}}` (Helm, Go templates, mustache).
PLACEHOLDER = re.compile(r"\$\{[^}\s]+\}|\{\{[^{}]*\}\}")
# Places where a real export legitimately holds `${…}`: shell snippets and values the app expands itself.
_FREE_TEXT_KEYS = frozenset({"env", "args", "command"})


def why_unsupported(data: Any) -> str | None:
    """A specific reason for a kind of file driftcheck recognizes but does not read, or None."""
    # Cloud Asset Inventory records are read now (sources/asset_inventory.py); nothing else is refused here yet.
    return None


def near_miss(data: Any) -> str | None:
    """What a file that is almost a known kind lacks, or None."""
    if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "connectionName" not in data:
        return (
            "looks like a Cloud SQL instance request body, not `gcloud sql instances describe INSTANCE "
            "--format=json` output (no connectionName or databaseVersion)"
        )
    return None


def placeholder_in(data: Any, path: str = "") -> tuple[str, str] | None:
    """The first unrendered template placeholder outside free-text fields, as (field, placeholder)."""
    for field, text in _strings(data, path):
        match = PLACEHOLDER.search(text)
        if match:
            return field, match.group(0)
    return None


def _strings(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in _FREE_TEXT_KEYS:
                yield from _strings(value, _child(path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, f"{path}[{index}]")


def template_message(placeholder: str) -> str:
    return (
        f"looks like a template, not an export: placeholder {placeholder!r} is not filled in; "
        f"render it first or {EXPORT_HINT}"
    )


def _child(path: str, key: str) -> str:
    """`metadata.labels[cloud.googleapis.com/location]`: the spelling provenance uses for keys with dots."""
    if "." in key or "/" in key:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
