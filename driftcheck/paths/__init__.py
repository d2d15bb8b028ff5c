"""Network paths: how a service reaches each dependency over the network, hop by hop (paths/build.py), and how
much of a Direct VPC subnet the services on it may take (paths/subnets.py).

build.py assembles each path from stages of their own: targets.py (what the service reaches), landing.py (where
it lands in a VPC), networks.py, firewall_hops.py and nat.py (the hops beyond); firewall.py judges the rules.

A layer of its own, below ruleset (rules see the paths as `refs.paths[]`, `refs.subnet_use[]`) and above compare
and kinds (it reads the canonical service and the network kinds): the paths are facts both the rules and the
reports show, not judgments, so they belong to neither.
"""

from driftcheck.paths.build import paths_of
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop, NetworkPath
from driftcheck.paths.subnets import SubnetShare, SubnetUse, subnet_uses

__all__ = [
    "BROKEN",
    "UNKNOWN",
    "VERIFIED",
    "Hop",
    "NetworkPath",
    "SubnetShare",
    "SubnetUse",
    "paths_of",
    "subnet_uses",
]
