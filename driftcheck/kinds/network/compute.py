"""What the Compute Engine kinds share: resource links in every spelling, and fields checked before they are read.

The Compute API names a resource by its URL (`selfLink`: `https://www.googleapis.com/compute/v1/projects/P/global/
networks/N`); gcloud flags, Cloud Run and Memorystore by its path (`projects/P/global/networks/N`) or its bare name.
The kinds key networks by name (unique in a project), and regional resources by `REGION/NAME`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.shape import Compiled, check
from driftcheck.kinds.units import last_segment
from driftcheck.model import Unknown

_LINK = re.compile(
    r"^(?:https?://(?:www|compute)\.googleapis\.com/compute/[a-z0-9]+/)?"
    r"projects/(?P<project>[^/]+)/(?:global|regions/(?P<region>[^/]+)|zones/[^/]+)/(?P<collection>[a-zA-Z]+)/(?P<name>[^/]+)$"
)
_REGION_LINK = re.compile(r"^(?:https?://(?:www|compute)\.googleapis\.com/compute/[a-z0-9]+/)?projects/[^/]+/regions/")


def name_of(link: str) -> str:
    """The resource's name, whichever spelling names it: a URL, a `projects/...` path or the name itself."""
    return last_segment(link.strip())


def project_of(link: str) -> str | None:
    """The project a URL or path names; None for a bare name."""
    match = _LINK.match(link.strip())
    return match["project"] if match else None


def region_of(link: str) -> str:
    """`us-central1` from `https://.../regions/us-central1`, `regions/us-central1` or `us-central1`."""
    return last_segment(_REGION_LINK.sub("", link.strip()))


def regional_key(region: str | Unknown, name: str) -> str:
    """How the kinds key a regional resource: a subnet or router name is unique only within its region."""
    return f"{region}/{name}" if isinstance(region, str) else f"-/{name}"


def checked(data: Any, shape: Compiled, kind: str, origin: str) -> dict[str, Any]:
    """The document, once every field of `shape` has its type (an input error naming the field otherwise)."""
    if not isinstance(data, dict):
        raise InputError(f"a {kind} is a mapping, found {type(data).__name__}", file=origin)
    check(data, shape, origin)
    return data


def required(data: dict[str, Any], field: str, kind: str, origin: str, at: str = "") -> str:
    """A string field the resource cannot be without (its name); `at`: where `data` sits in the document."""
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"a {kind} needs a {field}", file=origin, where=f"{at}.{field}" if at else field)
    return value.strip()


def text(data: dict[str, Any], field: str) -> str | Unknown:
    """A string field, or Unknown when the export does not hold it (never an empty string)."""
    value = data.get(field)
    return str(value) if value not in (None, "") else Unknown(f"no {field} field")


def whole_number(raw: Any, low: int, high: int, origin: str, field: str) -> int:
    """The API writes int64 fields as strings, int32 as numbers: either, within bounds."""
    number = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
    if isinstance(raw, str) and raw.strip().isdigit():
        number = int(raw.strip())
    if number is None or not low <= number <= high:
        raise InputError(f"expected a whole number from {low} to {high}, found {raw!r:.40}", file=origin, where=field)
    return number


def ip_range(raw: Any, origin: str, field: str) -> str:
    """A CIDR range as written (`10.8.0.0/28`); anything else is the user's file to fix."""
    try:
        ipaddress.ip_network(str(raw), strict=False)
    except ValueError:
        raise InputError(f"not an IP range (CIDR, e.g. 10.8.0.0/28): {raw!r:.40}", file=origin, where=field) from None
    return str(raw)


def ip_ranges(data: dict[str, Any], field: str, origin: str) -> tuple[str, ...]:
    return tuple(ip_range(raw, origin, f"{field}[{index}]") for index, raw in enumerate(data.get(field) or ()))


def strings(data: dict[str, Any], field: str) -> tuple[str, ...]:
    return tuple(str(item) for item in data.get(field) or ())
