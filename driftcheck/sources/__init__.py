"""Evidence sources. Each module recognizes one kind of file by its content and loads it into the Inventory.

To add a kind: write a module with KIND, matches(data) and load(document, inventory), and list it in KINDS.
"""

from __future__ import annotations

from types import ModuleType

from driftcheck.kinds import cloudsql
from driftcheck.kinds import connector as vpc_access
from driftcheck.kinds import secret as secret_manager
from driftcheck.kinds.service import cloudrun_v2, knative
from driftcheck.sources import snapshot_file, terraform_plan, terraform_state

# Order matters only where shapes overlap: a v2 Service also has a `name`, so it goes before the generic ones.
# Terraform files come first: the whole file is one document, never peeled into resources by unwrap.
KINDS: tuple[ModuleType, ...] = (
    snapshot_file,
    terraform_state,
    terraform_plan,
    knative,
    cloudrun_v2,
    cloudsql,
    vpc_access,
    secret_manager,
)
