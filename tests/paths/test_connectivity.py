"""paths/connectivity.py: which paths a Connectivity Test can settle, and how each kind of answer settles the hops
(the answers as sources/live/reachability.py gives them; the live run is tests/jobs/live/test_connectivity_tests.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from conftest import FIXTURES

from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, NetworkPath, paths_of
from driftcheck.paths.connectivity import MAX_TESTS, key_of, notes_of, probes_of, settle
from driftcheck.sources.evidence import load_evidence

TEST = "projects/netra-staging/locations/global/connectivityTests/driftcheck-0123abcd"


def _incident() -> tuple[NetworkPath, NetworkPath]:
    inventory = load_evidence([FIXTURES / "incident"])
    (api,) = paths_of(inventory.services["api"], inventory)
    (auth,) = paths_of(inventory.services["auth"], inventory)
    return api, auth


def _answer(result: str, **drop: Any) -> dict[str, Any]:
    return {"test": TEST, "result": result, "drop": drop or None}


def _states(path: NetworkPath) -> dict[str, str]:
    return {hop.kind: hop.state for hop in path.hops}


def test_the_paths_a_test_can_settle() -> None:
    api, auth = _incident()
    assert [(p.key, p.service, p.address, p.port) for p in probes_of((api, auth, api))] == [
        ("api → 10.20.0.3:5432", "api", "10.20.0.3", 5432),
        ("auth → 10.20.0.3:5432", "auth", "10.20.0.3", 5432),
    ]
    settled = dataclasses.replace(auth, state=VERIFIED)
    internet = dataclasses.replace(api, kind="internet", address="api.stripe.com", port=443)
    no_port = dataclasses.replace(api, port=None)
    host = dataclasses.replace(api, kind="private", address="db.internal")
    assert probes_of((settled, internet, no_port, host)) == []


def test_reachable_verifies_every_hop_and_says_what_the_evidence_read() -> None:
    api, auth = _incident()
    settled = settle(auth, _answer("REACHABLE"))
    assert settled.state == VERIFIED and settled.breaks_at is None
    firewall = settled.hops[-1]
    assert firewall.detail == "Connectivity Test driftcheck-0123abcd: REACHABLE" and firewall.export is None
    assert firewall.evidence == ("Connectivity Test driftcheck-0123abcd: REACHABLE",)
    assert settled.line.endswith("firewall egress tcp:5432 ✓ → Cloud SQL staging-shared-postgres 10.20.0.3:5432")
    assert settled.hops[:-1] == auth.hops[:-1]  # what was verified stays as read
    vpc = settle(api, _answer("REACHABLE")).hops[0]
    assert vpc.state == VERIFIED
    said = "no connector and no Direct VPC egress: a private address is reached only through the VPC"
    assert vpc.detail == f"Connectivity Test driftcheck-0123abcd: REACHABLE, although the evidence read says: {said}"
    assert vpc.evidence[1:] == api.hops[0].evidence


def test_unreachable_breaks_the_hop_it_drops_at_and_verifies_the_unknown_ones_before() -> None:
    _, auth = _incident()
    unknown_peering = dataclasses.replace(
        auth, hops=tuple(dataclasses.replace(h, state=UNKNOWN) if h.kind == "peering" else h for h in auth.hops)
    )
    settled = settle(unknown_peering, _answer("UNREACHABLE", at="APPLY_EGRESS_FIREWALL_RULE", cause="FIREWALL_RULE",
                                              description="egress denied", resource="deny-all"))  # fmt: skip
    assert _states(settled) == {"egress": VERIFIED, "connector": VERIFIED, "network": VERIFIED,
                                "peering": VERIFIED, "firewall-egress": BROKEN}  # fmt: skip
    assert settled.state == BROKEN and settled.breaks_at == "firewall-egress"
    dropped = "dropped at APPLY_EGRESS_FIREWALL_RULE (FIREWALL_RULE) by deny-all: egress denied"
    assert settled.hops[-1].detail == f"Connectivity Test driftcheck-0123abcd: UNREACHABLE, {dropped}"
    assert settled.hops[3].detail.startswith("Connectivity Test driftcheck-0123abcd: passed, before the drop")


def test_unreachable_where_no_hop_is_the_drop_is_a_hop_of_its_own() -> None:
    _, auth = _incident()
    settled = settle(auth, _answer("UNREACHABLE", at="APPLY_FORWARDING_RULE", cause="FORWARDING_RULE_MISMATCH"))
    assert settled.hops[:-1] == auth.hops  # nothing else is claimed
    extra = settled.hops[-1]
    assert (extra.kind, extra.state, extra.label) == (
        "connectivity-test",
        BROKEN,
        "Connectivity Test driftcheck-0123abcd",
    )
    assert settled.breaks_at == "connectivity-test"
    assert " → Connectivity Test driftcheck-0123abcd ✗ → Cloud SQL staging-shared-postgres 10.20.0.3:5432" in (
        settled.line
    )


def test_what_settles_nothing_leaves_the_states_and_says_so_on_the_unknown_hops() -> None:
    api, auth = _incident()
    for answer in (
        _answer("UNDETERMINED"),
        _answer("AMBIGUOUS"),
        _answer("UNREACHABLE", at="START_FROM_CLOUD_RUN_REVISION", cause="CLOUD_RUN_REVISION_NOT_READY"),
    ):
        settled = settle(auth, answer)
        assert _states(settled) == _states(auth) and settled.state == UNKNOWN
        assert settled.hops[-1].detail.startswith("no firewall rules in the evidence; Connectivity Test driftcheck-")
        assert settled.hops[-1].export == auth.hops[-1].export
        assert settle(api, answer) == api  # no unknown hop to tell it to
    assert settle(auth, {"test": TEST, "error": "PERMISSION_DENIED: no"}) is auth


def test_notes() -> None:
    api, auth = _incident()
    probes = probes_of((api, auth))
    answers = {
        key_of(api): {"test": TEST, "error": "PERMISSION_DENIED: denied; needs roles/networkmanagement.admin"},
        key_of(auth): {**_answer("UNDETERMINED"), "delete_error": "UNAVAILABLE: down"},
    }
    assert notes_of(probes, answers, 3, "roles/networkmanagement.admin") == [
        "could not run a Connectivity Test for api → 10.20.0.3:5432 (PERMISSION_DENIED: denied; needs "
        "roles/networkmanagement.admin): its path stays as the evidence shows it (a test needs "
        "roles/networkmanagement.admin)",
        "Connectivity Test driftcheck-0123abcd for auth → 10.20.0.3:5432: UNDETERMINED: its path stays as the evidence "
        "shows it",
        f"could not delete Connectivity Test {TEST} (UNAVAILABLE: down): delete it with `gcloud network-management "
        "connectivity-tests delete driftcheck-0123abcd`",
        f"3 more paths not tested: at most {MAX_TESTS} Connectivity Tests a run",
    ]
