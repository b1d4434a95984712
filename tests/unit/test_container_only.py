"""The rows a lab container cannot show (tests/lab/lgsec_lab.py CONTAINER_ONLY), which the
end-to-end stock-server test, `make bench` and molecule/network_access accept as the only fails
after hardening. What could make them accept a real fail: a configuration problem beside the
container's own, a stock host's missing configuration, another control. Real rows here come from
the evaluator on the recorded fixtures (tests/fixtures/linux, their headers name the source)."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, load_fixture, status_of
from hypothesis import given
from hypothesis import strategies as st
from lgsec_lab import CONTAINER_ONLY, container_only


def hardened_in_a_container(catalog) -> dict:
    """KERNEL-NET's pass fixture (the sysctl files right) with the fail fixture's running values
    and /proc/sys mount: a hardened host in a podman container, as `make bench` saw it."""
    facts, hostvars, _ = load_fixture(FIXTURES / "KERNEL-NET" / "pass.yml")
    stock, _, _ = load_fixture(FIXTURES / "KERNEL-NET" / "fail.yml")
    facts["files"].update({p: f for p, f in stock["files"].items() if p.startswith("/proc/sys/")})
    facts["commands"]["findmnt /proc/sys/net"] = stock["commands"]["findmnt /proc/sys/net"]
    return status_of(catalog, facts, "KERNEL-NET", hostvars)


def test_running_values_alone_in_a_container_are_container_only(catalog):
    row = hardened_in_a_container(catalog)
    assert row["status"] == "fail" and "running value" in row["actual"], row
    assert container_only(row) == CONTAINER_ONLY["KERNEL-NET"][0]


def test_running_values_outside_a_container_are_a_real_fail(catalog):
    row = hardened_in_a_container(catalog)
    row["evidence"] = [e for e in row["evidence"] if "read-only here" not in e]
    assert container_only(row) is None


@pytest.mark.parametrize("cid", ["KERNEL-NET", "LOG-AUDIT", "TIME-SYNC"])
def test_the_stock_hosts_missing_configuration_is_never_container_only(catalog, cid):
    facts, hostvars, _ = load_fixture(FIXTURES / cid / "fail.yml")
    row = status_of(catalog, facts, cid, hostvars)
    assert row["status"] == "fail"
    assert container_only(row) is None, row["actual"]


def test_a_site_without_a_declared_backup_is_the_one_stock_fail_accepted(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "BACKUP-RECENT" / "fail.yml")
    row = status_of(catalog, facts, "BACKUP-RECENT", hostvars)
    assert row["status"] == "fail"
    assert (container_only(row) is not None) == (row["actual"] == "no backup job declared for this host")


# recorded by `make bench` on the hardened lab host (2026-12-02, tests/bench/bench.py's output)
RECORDED = {
    "LOG-AUDIT": "process accounting cannot be shown on: this host is a podman container, whose kernel accounting "
    "is its host's (acct.service failed/failed, result exit-code)",
    "TIME-SYNC": "not synchronised (Leap status Not synchronised, Reference ID 00000000 ()); "
    "no source selected (chronyc sources shows no '*')",
    "BACKUP-RECENT": "no backup job declared for this host",
}


@pytest.mark.parametrize("cid", sorted(RECORDED))
def test_the_recorded_container_rows_are_accepted(cid):
    assert container_only({"control": cid, "status": "fail", "actual": RECORDED[cid], "evidence": []})


@given(extra=st.text(min_size=1, max_size=60).filter(lambda t: "; " not in t) | st.just("rules in container.rules"))
def test_one_more_problem_of_another_kind_makes_it_a_real_fail(extra):
    for cid, actual in RECORDED.items():
        row = {"control": cid, "status": "fail", "actual": f"{actual}; {extra}", "evidence": []}
        accepted = container_only(row) is not None
        if cid == "TIME-SYNC":
            assert accepted == extra.startswith(("not synchronised (", "no source selected ("))
        else:
            assert not accepted


@pytest.mark.parametrize("status", ["error", "pass", "unreachable", "waived"])
def test_only_a_fail_is_container_only(status):
    assert container_only({"control": "BACKUP-RECENT", "status": status, "actual": RECORDED["BACKUP-RECENT"]}) is None


def test_no_other_control_is_accepted():
    row = {"control": "PW-LENGTH", "status": "fail", "actual": RECORDED["LOG-AUDIT"], "evidence": []}
    assert container_only(row) is None
