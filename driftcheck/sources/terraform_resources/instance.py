"""One Terraform resource instance, and its attributes' shape: snake_case blocks-as-lists to the API's camelCase
JSON, and an API field back to its address in Terraform's terms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# MaxItems-1 blocks: a one-element list in Terraform, an object in the API.
SINGLE_BLOCKS = frozenset(
    {
        "template", "metadata", "spec", "status", "vpc_access", "scaling", "resources", "startup_probe",
        "liveness_probe", "http_get", "tcp_socket", "grpc", "value_source", "value_from", "secret_key_ref",
        "cloud_sql_instance", "secret", "gcs", "nfs", "empty_dir", "csi", "node_selector", "terminal_condition",
        "binary_authorization", "settings", "ip_configuration", "subnet",
    }
)  # fmt: skip
LIST_BLOCKS = frozenset(
    {
        "containers", "env", "ports", "volumes", "volume_mounts", "items", "traffic", "conditions",
        "network_interfaces", "ip_address",
    }
)  # fmt: skip
# Maps whose keys are data (annotation names, resource names), never attribute names to rename.
_MAPS = frozenset(
    {"annotations", "labels", "limits", "requests", "effective_annotations", "effective_labels", "volume_attributes"}
)
_SEGMENT = re.compile(r"[^.\[]+(?:\[[^\]]*\])*|\[[^\]]*\]")


@dataclass(frozen=True)
class Instance:
    """One resource instance: its address, type and attribute values (tfstate `attributes`, or plan `values`)."""

    address: str
    type: str
    attributes: dict[str, Any]
    unknown: frozenset[str] = frozenset()  # attribute paths of non-string values known only after apply
    marked: bool = False  # whether any string carries UNKNOWN_MARK (plans only: state is all known)


def index_suffix(key: Any) -> str:
    """`[0]` for count, `["blue"]` for for_each: the spelling Terraform addresses use."""
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


# --- attribute shapes -------------------------------------------------------------------------------------------


def api_shape(value: Any, key: str = "") -> Any:
    """snake_case blocks-as-lists to camelCase API JSON; Terraform's unset values ("", [], null) dropped."""
    if isinstance(value, dict):
        if key in _MAPS:
            return {str(k): v for k, v in value.items() if v is not None}
        return {
            _camel(k): api_shape(v, k) for k, v in value.items() if v is not None and v != "" and v != [] and v != {}
        }
    if isinstance(value, list):
        items = [api_shape(v, key) for v in value]
        return (items[0] if items else None) if key in SINGLE_BLOCKS else items
    return value


@lru_cache(maxsize=4096)
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@lru_cache(maxsize=4096)  # the same few hundred fields recur in every service of a large state
def tf_field(api_field: str) -> str:
    """`template.vpcAccess.connector` -> `template[0].vpc_access[0].connector`: provenance in Terraform's terms."""
    parts = []
    for segment in _SEGMENT.findall(api_field):
        name, bracket, rest = segment.partition("[")
        snake = _snake(name)
        parts.append(f"{snake}[0]" if snake in SINGLE_BLOCKS and not bracket else f"{snake}{bracket}{rest}")
    return ".".join(parts)


def first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}
