"""A change between two snapshots of the same service: the value type the timeline, audits and reports share.

Kept below the jobs (history, audit) so the rule engine and the reports can carry these without importing a job.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any


@dataclasses.dataclass(frozen=True)
class TimelineChange:
    """One change between two consecutive snapshots; `before`/`after` are when each was taken."""

    before: datetime
    after: datetime
    path: str
    kind: str  # changed | added | removed | appeared | disappeared
    old: Any
    new: Any
    service: str | None = None  # project/region/service, when the change is one of many services'

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TimelineChange:
        """The inverse of as_dict (an audit partial carries its changes so)."""
        return cls(
            before=datetime.fromisoformat(raw["before"]),
            after=datetime.fromisoformat(raw["after"]),
            path=raw["path"],
            kind=raw["kind"],
            old=raw["from"],
            new=raw["to"],
            service=raw.get("service"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"service": self.service} if self.service is not None else {}),
            "before": iso(self.before),
            "after": iso(self.after),
            "path": self.path,
            "kind": self.kind,
            "from": self.old,
            "to": self.new,
        }


def iso(moment: datetime) -> str:
    """UTC, to the microsecond, with a Z: the one timestamp form of history, reports and partials."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
