"""The failure a service's status states, as a rule's `status_match` patterns read it.

Status rules (`scope: status`) name that failure; any other rule with `status_match` is corroborated by it, and a
finding that quotes the stated failure explains it (ranked first, see ruleset/rank.py and ruleset/group.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from driftcheck.model import Service, ServiceStatus
from driftcheck.ruleset.schema import Rule


class StatusItem(TypedDict):
    """A status rule's one item. Each named group of the pattern that matched is one more key, a string."""

    quote: str  # the words the pattern found
    reason: str | None  # the status's reason; null when the logs said it
    message: str | None  # the status's message; the log line, when the logs said it
    stated_in: Literal["status", "logs"]  # where: the status, or (a rule with `log_match`) the logs


@dataclass(frozen=True)
class StatusMatch:
    quote: str  # the words the pattern found
    groups: dict[str, str]  # what its named groups captured: (?P<image>...) -> image
    status: ServiceStatus

    @property
    def item(self) -> dict[str, Any]:
        """A status rule's one item, as its texts name it: item.quote, item.reason, item.message, item.image..."""
        stated: StatusItem = {
            "quote": self.quote,
            "reason": self.status.reason,
            "message": self.status.message,
            "stated_in": "status",
        }
        return {**stated, **self.groups}

    def confirmation(self, service_name: str) -> str:
        return f"status of {service_name} says {self.quote!r} ({self.status.reason})"


def stated(rule: Rule, service: Service) -> StatusMatch | None:
    """The first of the rule's patterns found in the failure the service's status states; None without one."""
    status = service.status
    failure = status.failure if isinstance(status, ServiceStatus) else None
    if not failure or not isinstance(status, ServiceStatus):
        return None
    for pattern in rule.status_match:
        match = re.search(pattern, failure, re.I | re.S)
        if match:
            groups = {name: value for name, value in match.groupdict().items() if value is not None}
            return StatusMatch(match.group(0), groups, status)
    return None
