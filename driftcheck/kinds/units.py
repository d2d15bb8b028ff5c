"""Kubernetes-style quantities and Cloud Run spellings, normalized to plain numbers and lower-case words."""

from __future__ import annotations

import re

from driftcheck.errors import InputError

_MEMORY_FACTORS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_QUANTITY = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*$")


def cpu_cores(raw: object, *, file: str, field: str) -> float:
    """'1000m', '1', 2, '0.5' -> cores."""
    match = _QUANTITY.match(str(raw))
    if not match or match["unit"] not in ("", "m"):
        raise InputError(f"CPU limit {raw!r} is not a CPU quantity (e.g. 1, 1000m)", file=file, where=field)
    cores = float(match["number"])
    return cores / 1000 if match["unit"] == "m" else cores


def memory_bytes(raw: object, *, file: str, field: str) -> int:
    """'512Mi', '2Gi', '512M' (decimal, not the same as 512Mi) -> bytes."""
    match = _QUANTITY.match(str(raw))
    if not match or match["unit"] not in _MEMORY_FACTORS:
        raise InputError(f"memory limit {raw!r} is not a memory quantity (e.g. 512Mi, 2Gi)", file=file, where=field)
    return int(float(match["number"]) * _MEMORY_FACTORS[match["unit"]])


def to_int(raw: object, *, file: str, field: str) -> int:
    """Ints that hand-written YAML quotes ('5002') and the v2 API writes as strings (int64)."""
    try:
        return int(str(raw).strip())
    except ValueError:
        raise InputError(f"expected a whole number, found {raw!r}", file=file, where=field) from None


def seconds(raw: object, *, file: str, field: str) -> int:
    """'300s' (proto Duration JSON) or 300 -> 300."""
    text = str(raw).strip()
    return to_int(text[:-1] if text.endswith("s") else text, file=file, field=field)


def truthy(raw: object) -> bool:
    """Annotation booleans: 'true', 'True' (gcloud writes str(bool)), True."""
    return str(raw).strip().lower() == "true"


def last_segment(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


INGRESS = {
    "all": "all",
    "internal": "internal",
    "internal-and-cloud-load-balancing": "internal_and_cloud_lb",
    "none": "none",
    "INGRESS_TRAFFIC_ALL": "all",
    "INGRESS_TRAFFIC_INTERNAL_ONLY": "internal",
    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER": "internal_and_cloud_lb",
    "INGRESS_TRAFFIC_NONE": "none",
    "INGRESS_TRAFFIC_UNSPECIFIED": "all",
    "": "all",
}
EGRESS = {
    "all-traffic": "all_traffic",
    "all": "all_traffic",
    "private-ranges-only": "private_ranges_only",
    "ALL_TRAFFIC": "all_traffic",
    "PRIVATE_RANGES_ONLY": "private_ranges_only",
}
EXECUTION_ENVIRONMENT = {
    "gen1": "gen1",
    "gen2": "gen2",
    "EXECUTION_ENVIRONMENT_GEN1": "gen1",
    "EXECUTION_ENVIRONMENT_GEN2": "gen2",
}


def lookup(table: dict[str, str], raw: object, *, what: str, file: str, field: str) -> str:
    key = str(raw).strip()
    if key in table:
        return table[key]
    allowed = ", ".join(sorted({k for k in table if k}))
    raise InputError(f"{what} {raw!r} is not one of: {allowed}", file=file, where=field)
