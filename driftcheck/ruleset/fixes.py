"""Fixes as data: a rule names typed actions (set-port, update-secrets, grant-secret-access, ...) with their
arguments as CEL values; one renderer turns them into a gcloud command and a Terraform snippet.

Contract (used by ruleset/evaluate.py and the grouping step in ruleset/rank.py):
- `FixAction(action, args)`: one action with plain (already evaluated) arguments, plus the service it applies to.
- `render(actions)`: {"gcloud": ..., "terraform": ...} for a list of actions, merging actions that act on the same
  resource into one command (several `update-secrets` of one service become one `gcloud run services update
  --update-secrets A=a:1,B=b:latest`). A key is left out when no runnable command exists: never `?`, `unknown`
  or a raw template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FixAction:
    action: str  # e.g. "update-service", "grant-secret-access"
    args: dict[str, Any] = field(default_factory=dict)


def render(actions: tuple[FixAction, ...] | list[FixAction]) -> dict[str, str]:
    raise NotImplementedError  # filled in by the fixes-as-data work
