"""Section C Linux checks beyond their fixture pairs: allow-list mode, the RHEL package list,
and every branch of SW-PATCHED's reading of the package lists, unattended-upgrades and the
pending updates. The gather commands they read are read-only."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import FIXTURES, ROOT, import_path, load_fixture, status_of

from lgsec.checks.common import DAY
from lgsec.checks.linux_software import apt_pending

gather_module = import_path("lgsec_linux_facts_sw", ROOT / "library" / "lgsec_linux_facts.py")
SECURITY_RELEASE = "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease"
UPGRADE_STAMP = "/var/lib/apt/periodic/upgrade-stamp"
INST = "Inst libssl3 [3.0.20-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])\n"
RHEL = 'NAME="Rocky Linux"\nVERSION_ID="9.4"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n'


def cmd(stdout: str, rc: int | None = 0, stderr: str = "") -> dict:
    return {"rc": rc, "stdout": stdout, "stderr": stderr}


def fixture(control: str, kind: str) -> tuple[dict, dict]:
    facts, hostvars, _ = load_fixture(FIXTURES / control / f"{kind}.yml")
    return facts, hostvars


def row(catalog, facts, control, **params):
    prefix = "lgsec_" + control.lower().replace("-", "_") + "_"
    return status_of(catalog, facts, control, {prefix + k: v for k, v in params.items()})


# ---- SW-UNAPPROVED, SW-INVENTORY ------------------------------------------------------------------


def test_allow_list_reports_every_package_outside_its_patterns(catalog):
    facts, _ = fixture("SW-UNAPPROVED", "pass")
    allow = ["lib*", "python3*", "systemd*", "apt", "dpkg", "base-*", "bash", "coreutils"]
    got = row(catalog, facts, "SW-UNAPPROVED", allow=allow)
    assert got["status"] == "fail"
    assert "packages match no allow-list pattern: adduser, " in got["actual"]
    assert "… and " in got["actual"]  # the long tail is in details, not in the sentence
    outside = {d["name"] for d in got["details"] if d["reason"] == "not in the allow-list"}
    assert "openssh-server" in outside and "libc6" not in outside and "python3" not in outside
    assert "allow-list patterns: lib*, python3*" in " ".join(got["evidence"])


def test_allow_list_that_covers_everything_passes(catalog):
    facts, _ = fixture("SW-UNAPPROVED", "pass")
    got = row(catalog, facts, "SW-UNAPPROVED", allow=["*"])
    assert got["status"] == "pass"
    assert "all 166 packages match the allow-list" in got["actual"]


def test_configuration_files_left_behind_are_not_an_installed_package(catalog):
    facts, _ = fixture("SW-UNAPPROVED", "pass")
    facts["commands"]["dpkg-query -W"]["stdout"] += "rc \ttelnet\t0.17+2.4-2+deb12u3\tall\n"
    assert row(catalog, facts, "SW-UNAPPROVED")["status"] == "pass"
    inventory = row(catalog, facts, "SW-INVENTORY")
    assert "telnet" not in {d["name"] for d in inventory["details"]}


def test_inventory_details_are_name_version_arch(catalog):
    facts, _ = fixture("SW-INVENTORY", "pass")
    details = row(catalog, facts, "SW-INVENTORY")["details"]
    assert {"name": "telnet", "version": "0.17+2.4-2+deb12u3", "arch": "all"} in details
    assert [d["name"] for d in details] == sorted(d["name"] for d in details)


def test_rhel_package_list_comes_from_rpm(catalog, base12):
    base12["files"]["/etc/os-release"] = RHEL
    base12["commands"]["dpkg-query -W"] = cmd("", rc=None, stderr="dpkg-query is not installed")
    base12["commands"]["rpm -qa"] = cmd("bash\t5.1.8-9.el9\tx86_64\ntelnet\t0.17-85.el9\tx86_64\n")
    got = row(catalog, base12, "SW-UNAPPROVED")
    assert got["status"] == "fail" and "telnet 0.17-85.el9 installed (deny-list)" in got["actual"]
    assert row(catalog, base12, "SW-INVENTORY")["details"][0] == {
        "name": "bash",
        "version": "5.1.8-9.el9",
        "arch": "x86_64",
    }


def test_no_package_manager_is_an_error(catalog, base12):
    for name in ("dpkg-query -W", "rpm -qa"):
        base12["commands"][name] = cmd("", rc=None)
    got = row(catalog, base12, "SW-INVENTORY")
    assert got["status"] == "error" and "neither dpkg-query nor rpm" in got["actual"]


# ---- SW-PATCHED ----------------------------------------------------------------------------------


@pytest.fixture
def patched(catalog):
    """The recorded hardened host (pass fixture) and a helper to judge it."""
    facts, _ = fixture("SW-PATCHED", "pass")
    now = facts["collected_at"]

    def set_times(**paths: float):
        lines = [f"{t}\t{p}" for p, t in paths.items()]
        facts["commands"]["apt lists and periodic times"] = cmd("\n".join(lines) + "\n")

    def judge(**params):
        return row(catalog, facts, "SW-PATCHED", **params)

    return SimpleNamespace(facts=facts, now=now, set_times=set_times, judge=judge)


def test_no_security_archive_in_the_lists(patched):
    now, set_times, judge = patched.now, patched.set_times, patched.judge
    set_times(**{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": now - DAY})
    got = judge()
    assert got["status"] == "fail" and "no security archive in the package lists" in got["actual"]
    assert "Release files deb.debian.org_debian_dists_bookworm_InRelease" in " ".join(got["evidence"])


def test_old_package_lists_are_unknown_not_fresh(patched):
    now, set_times, judge = patched.now, patched.set_times, patched.judge
    set_times(**{SECURITY_RELEASE: now - 20 * DAY})
    got = judge()
    assert got["status"] == "fail"
    assert "package lists older than 14 days" in got["actual"] and "run apt update" in got["actual"]
    assert judge(max_pending_days=30)["status"] == "pass"


def test_update_stamp_counts_as_the_time_the_lists_were_read(patched):
    now, set_times, judge = patched.now, patched.set_times, patched.judge
    set_times(**{SECURITY_RELEASE: now - 20 * DAY, "/var/lib/apt/periodic/update-stamp": now - DAY})
    assert judge()["status"] == "pass"


def test_pending_listed_after_the_last_unattended_run_are_in_flight(patched):
    facts, now, set_times, judge = patched.facts, patched.now, patched.set_times, patched.judge
    set_times(**{SECURITY_RELEASE: now - 3600, UPGRADE_STAMP: now - 10 * 3600})
    facts["commands"]["apt-get -s dist-upgrade"] = cmd(INST)
    got = judge()
    assert got["status"] == "pass", got["actual"]
    assert "listed after unattended-upgrade's last run" in got["actual"]
    assert got["details"] == [
        {
            "name": "libssl3",
            "installed": "3.0.20-1~deb12u2",
            "candidate": "3.0.22-1~deb12u2",
            "from": "Debian-Security:12/oldstable-security",
        }
    ]


@pytest.mark.parametrize(
    ("stamp_age", "param", "why"),
    [
        (None, {}, "unattended-upgrade has not run yet"),
        (20 * DAY, {}, "more than 14 days ago"),
        (10 * 3600, {"unattended_upgrades": False}, "automatic security updates are not on"),
    ],
)
def test_pending_security_updates_without_a_working_unattended_run_fail(patched, stamp_age, param, why):
    facts, now, set_times, judge = patched.facts, patched.now, patched.set_times, patched.judge
    times = {SECURITY_RELEASE: now - 3600}
    if stamp_age is not None:
        times[UPGRADE_STAMP] = now - stamp_age
    set_times(**times)
    facts["commands"]["apt-get -s dist-upgrade"] = cmd(INST)
    got = judge(**param)
    assert got["status"] == "fail" and why in got["actual"], got["actual"]
    assert "1 security updates pending since at least" in got["actual"]


def test_non_security_updates_are_not_counted(patched):
    facts, judge = patched.facts, patched.judge
    facts["commands"]["apt-get -s dist-upgrade"] = cmd(
        "Inst base-files [12.4+deb12u12] (12.4+deb12u13 Debian:12.13/oldstable [amd64])\n"
    )
    got = judge()
    assert got["status"] == "pass"
    assert "0 security updates of 1 pending" in " ".join(got["evidence"])


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"dump": ('APT::Periodic::Unattended-Upgrade "1";', 'APT::Periodic::Unattended-Upgrade "0";')},
            "APT::Periodic::Unattended-Upgrade '0'",
        ),
        (
            {"dump": ("-security,label=Debian-Security", ""), "dump2": ("label=Debian-Security", "label=Debian")},
            "no security origin",
        ),
        ({"units": ("apt-daily-upgrade.timer", "apt-daily-upgrade.timez")}, "not enabled: apt-daily-upgrade.timer"),
        ({"dpkg": ("ii \tunattended-upgrades", "rc \tunattended-upgrades")}, "unattended-upgrades is not installed"),
    ],
)
def test_unattended_upgrades_must_be_on(patched, change, problem):
    facts, judge = patched.facts, patched.judge
    keys = {
        "dump": "apt-config dump",
        "dump2": "apt-config dump",
        "units": "enabled unit files",
        "dpkg": "dpkg-query -W",
    }
    for what, (old, new) in change.items():
        result = facts["commands"][keys[what]]
        assert old in result["stdout"]
        result["stdout"] = result["stdout"].replace(old, new)
    got = judge()
    assert got["status"] == "fail" and problem in got["actual"], got["actual"]
    assert judge(unattended_upgrades=False)["status"] == "pass"


def test_a_failed_simulation_is_an_error(patched):
    facts, judge = patched.facts, patched.judge
    facts["commands"]["apt-get -s dist-upgrade"] = cmd(
        "", rc=100, stderr="E: The package lists or status file could not be parsed"
    )
    got = judge()
    assert got["status"] == "error" and "exited 100" in got["actual"]


def test_apt_simulation_lines():
    lines = apt_pending(
        "Inst python3.11 [3.11.2-6+deb12u8] (3.11.2-6+deb12u9 Debian-Security:12/oldstable-security [amd64]) []\n"
        "Inst linux-image-6.1.0-42-amd64 (6.1.158-1 Debian:12.13/oldstable, "
        "Debian-Security:12/oldstable-security [amd64])\n"
        "Conf python3.11 (3.11.2-6+deb12u9 Debian-Security:12/oldstable-security [amd64])\n"
    )
    assert [(p.name, p.old, p.new, p.releases) for p in lines] == [
        ("python3.11", "3.11.2-6+deb12u8", "3.11.2-6+deb12u9", "Debian-Security:12/oldstable-security"),
        (
            "linux-image-6.1.0-42-amd64",
            "",
            "6.1.158-1",
            "Debian:12.13/oldstable, Debian-Security:12/oldstable-security",
        ),
    ]
    assert lines[1].text == "linux-image-6.1.0-42-amd64 (new) → 6.1.158-1"


# ---- RHEL family (code only) -------------------------------------------------------------------


def rhel_facts(base12, advisories: str) -> dict:
    now = base12["collected_at"]
    base12["files"]["/etc/os-release"] = RHEL
    base12["files"]["/etc/dnf/automatic.conf"] = "[commands]\nupgrade_type = security\napply_updates = yes\n"
    base12["commands"].update(
        {
            "dpkg-query -W": cmd("", rc=None),
            "rpm -qa": cmd("bash\t5.1.8-9.el9\tx86_64\ndnf-automatic\t4.14.0-9.el9\tnoarch\n"),
            "dnf metadata times": cmd(f"{now - DAY}\t/var/cache/dnf/baseos-1/repodata/repomd.xml\n"),
            "dnf updateinfo list --security": cmd(advisories),
            "enabled unit files": cmd("dnf-automatic.timer enabled enabled\n"),
        }
    )
    return base12


def test_rhel_pending_advisories_fail(catalog, base12):
    facts = rhel_facts(base12, "RLSA-2024:3339 Important/Sec. glibc-2.34-100.el9_4.2.x86_64\n")
    got = row(catalog, facts, "SW-PATCHED")
    assert got["status"] == "fail" and "1 security advisories pending" in got["actual"]
    assert got["details"] == [
        {"advisory": "RLSA-2024:3339", "severity": "Important/Sec.", "package": "glibc-2.34-100.el9_4.2.x86_64"}
    ]


def test_rhel_up_to_date_passes(catalog, base12):
    assert row(catalog, rhel_facts(base12, ""), "SW-PATCHED")["status"] == "pass"


# ---- the gather commands of section C are read-only -------------------------------------------------


def test_section_c_commands_change_nothing():
    commands = gather_module.COMMANDS
    apt = commands["apt-get -s dist-upgrade"]
    assert apt[:2] == ["apt-get", "-s"]  # simulation: no package is changed, no lock taken
    assert "Dir::Cache::pkgcache=" in apt and "Dir::Cache::srcpkgcache=" in apt  # no binary cache written
    assert "update" not in apt
    assert "-C" in commands["dnf updateinfo list --security"]  # the cache only, never a refresh
    assert commands["apt-config dump"][:2] == ["apt-config", "dump"]
    assert {commands[k][0] for k in ("apt lists and periodic times", "dnf metadata times")} == {"find"}
    assert not any(
        a in ("-delete", "-exec") for k in ("apt lists and periodic times", "dnf metadata times") for a in commands[k]
    )


def test_apt_reads_a_private_copy_of_its_cache_never_the_hosts(tmp_path, monkeypatch):
    cache = tmp_path / "pkgcache.bin"
    monkeypatch.setattr(gather_module, "APT_CACHE", str(cache))
    private = tmp_path / "private"
    private.mkdir()
    commands = gather_module.COMMANDS
    assert gather_module.with_private_apt_cache(commands, str(private)) == commands  # no cache: none is written
    cache.write_bytes(b"cache")
    argv = gather_module.with_private_apt_cache(commands, str(private))["apt-get -s dist-upgrade"]
    assert f"Dir::Cache::pkgcache={private}/pkgcache.bin" in argv and "Dir::Cache::srcpkgcache=" in argv
    assert (private / "pkgcache.bin").read_bytes() == b"cache" and commands["apt-get -s dist-upgrade"] != argv
