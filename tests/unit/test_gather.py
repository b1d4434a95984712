"""library/lgsec_linux_facts.py on tmp files and on this machine."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from pathlib import Path

import pytest
from conftest import ROOT, import_path

gather_module = import_path("lgsec_linux_facts", ROOT / "library" / "lgsec_linux_facts.py")

# /etc/shadow lines as passwd(1), usermod -L and useradd write them; the hashes are made up.
HASH_SET = "$y$j9T$Zq1T2bGf0WnKs3aYxE1vO.$kD4lsw0rdHashOfTanaka/ZZQpR8mK2nV6uYh1"
HASH_LOCKED = "$6$rounds=5000$saltsalt$LockedHashOfSato0123456789abcdefghijklmnopqrstuv"
SHADOW = f"""\
root:*:20782:0:99999:7:::
tanaka:{HASH_SET}:20742:1:60:7:14::
sato:!{HASH_LOCKED}:20582:0:90:7::20900:
kiosk::20752:0:99999:7:::
newuser:!:20782:0:99999:7:::
svc:!!:20782::::::
legacy:!*:20782:0:99999:7:::
# a comment line
short:line
"""


def facts_skeleton() -> dict:
    return {"files": {}, "missing": [], "errors": {}, "commands": {}}


@pytest.fixture
def shadow(tmp_path) -> dict:
    path = tmp_path / "shadow"
    path.write_text(SHADOW, encoding="utf-8")
    facts = facts_skeleton()
    gather_module.read_shadow(facts, str(path))
    return facts


def test_read_shadow_never_returns_a_hash(shadow):
    dumped = json.dumps(shadow)
    assert "$" not in dumped  # no crypt(3) string, not even its prefix
    pieces = [piece for h in (HASH_SET, HASH_LOCKED) for piece in h.split("$") if len(piece) >= 4]
    assert pieces and not [piece for piece in pieces if piece in dumped]


def test_read_shadow_states(shadow):
    states = {user: entry["state"] for user, entry in shadow["shadow"].items()}
    assert states == {
        "root": "none",
        "tanaka": "set",
        "sato": "locked",
        "kiosk": "empty",
        "newuser": "none",
        "svc": "none",
        "legacy": "none",
    }


def test_read_shadow_dates_and_lines(shadow):
    tanaka, sato, svc = (shadow["shadow"][u] for u in ("tanaka", "sato", "svc"))
    assert tanaka == {"line": 2, "state": "set", "last_change": 20742, "max_days": 60, "inactive": 14, "expire": None}
    assert (sato["line"], sato["max_days"], sato["expire"]) == (3, 90, 20900)
    assert (svc["max_days"], svc["inactive"], svc["expire"]) == (None, None, None)
    assert shadow["shadow_source"].endswith("shadow")


def test_read_shadow_unreadable_is_an_error(tmp_path):
    facts = facts_skeleton()
    gather_module.read_shadow(facts, str(tmp_path))  # a directory: cannot be read as a file
    assert "shadow" not in facts
    assert facts["errors"] == {str(tmp_path): "Is a directory"}


# ---- lastlog ---------------------------------------------------------------------------------

# glibc's struct lastlog on 64-bit Linux: int32 ll_time, char ll_line[32], char ll_host[256].
RECORD = struct.Struct("=i32s256s")
PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
tanaka:x:1000:1000:Tanaka Ichiro,,,:/home/tanaka:/bin/bash
suzuki:x:1001:1001:Suzuki Hanako,,,:/home/suzuki:/bin/bash
sato:x:1002:1002:Sato Kenji,,,:/home/sato:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""


def passwd_facts() -> dict:
    facts = facts_skeleton()
    facts["files"]["/etc/passwd"] = PASSWD
    return facts


@pytest.fixture
def no_lastlog2(tmp_path, monkeypatch):
    monkeypatch.setattr(gather_module, "LASTLOG2", str(tmp_path / "no-lastlog2.db"))


def test_lastlog_binary_records(tmp_path, monkeypatch, no_lastlog2):
    assert RECORD.size == 292
    path = tmp_path / "lastlog"  # sparse, indexed by uid, as login(1) writes it
    with open(path, "wb") as handle:
        for uid, when, line, host in (
            (0, 1_795_000_000, b"tty1", b""),
            (1000, 1_795_550_481, b"pts/0", b"192.0.2.15"),
            (1001, 0, b"", b""),  # a record that was never written: never logged in
        ):
            handle.seek(uid * RECORD.size)
            handle.write(RECORD.pack(when, line, host))
    # sato (1002) and nobody (65534) lie beyond the end of the file: never logged in.
    monkeypatch.setattr(gather_module, "LASTLOG", str(path))
    facts = passwd_facts()
    gather_module.read_lastlog(facts)
    assert facts["lastlog"] == {"root": 1_795_000_000, "tanaka": 1_795_550_481}
    assert facts["lastlog_source"] == str(path)
    assert facts["errors"] == {}


def test_no_lastlog_database_means_no_login_recorded(tmp_path, monkeypatch, no_lastlog2):
    monkeypatch.setattr(gather_module, "LASTLOG", str(tmp_path / "lastlog"))
    facts = passwd_facts()
    gather_module.read_lastlog(facts)
    assert facts["lastlog"] == {}
    assert facts["lastlog_source"].startswith("none")


def test_lastlog2_database(tmp_path, monkeypatch):
    path = tmp_path / "lastlog2.db"  # the schema of util-linux liblastlog2 (Debian 13)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE Lastlog2(Name TEXT PRIMARY KEY, Time INTEGER, TTY TEXT, RemoteHost TEXT, Service TEXT)"
        )
        conn.executemany(
            "INSERT INTO Lastlog2 VALUES (?, ?, ?, ?, ?)",
            [("tanaka", 1_795_550_481, "pts/0", "192.0.2.15", "sshd"), ("suzuki", 0, "", "", "")],
        )
    conn.close()
    monkeypatch.setattr(gather_module, "LASTLOG2", str(path))
    facts = passwd_facts()
    gather_module.read_lastlog(facts)
    assert facts["lastlog"] == {"tanaka": 1_795_550_481}
    assert facts["lastlog_source"] == str(path)


def test_lastlog2_unreadable_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "lastlog2.db"
    path.write_bytes(b"this is not a database" * 100)
    monkeypatch.setattr(gather_module, "LASTLOG2", str(path))
    facts = passwd_facts()
    gather_module.read_lastlog(facts)
    assert "lastlog" not in facts
    assert str(path) in facts["errors"]


# ---- files and commands ------------------------------------------------------------------------


def test_read_text_records_missing_unreadable_and_too_large(tmp_path):
    (tmp_path / "ok.conf").write_text("minlen = 12\n", encoding="utf-8")
    (tmp_path / "huge.conf").write_bytes(b"#" * (gather_module.MAX_FILE + 1))
    facts = facts_skeleton()
    for name in ("ok.conf", "absent.conf", "huge.conf"):
        gather_module.read_text(str(tmp_path / name), facts)
    gather_module.read_text(str(tmp_path), facts)
    assert facts["files"] == {str(tmp_path / "ok.conf"): "minlen = 12\n"}
    assert facts["missing"] == [str(tmp_path / "absent.conf")]
    assert facts["errors"] == {
        str(tmp_path / "huge.conf"): "larger than 1 MiB, not read",
        str(tmp_path): "Is a directory",
    }


def test_command_not_installed_is_recorded_not_an_error(monkeypatch):
    monkeypatch.setattr(gather_module, "COMMANDS", {"sshd -T": ["lgsec-no-such-sshd", "-T"]})
    facts = facts_skeleton()
    gather_module.run_commands(facts)
    assert facts["commands"]["sshd -T"] == {"rc": None, "stdout": "", "stderr": "lgsec-no-such-sshd is not installed"}
    assert facts["errors"] == {}


# ---- this machine ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def here() -> dict:
    return gather_module.gather()


def test_gather_on_this_machine_accounts_for_every_file(here):
    assert (here["schema"], here["platform"]) == (1, "linux")
    assert here["os"]["ID"] == Path("/etc/os-release").read_text().split("\nID=", 1)[1].split("\n")[0].strip('"')
    for path in gather_module.FILES:
        places = [path in here["files"], path in here["missing"], path in here["errors"]]
        assert places.count(True) == 1, path
    assert here["files"]["/etc/passwd"] == Path("/etc/passwd").read_text(encoding="utf-8")
    assert "sshd -T" in here["commands"] or "sshd -T" in here["errors"]


@pytest.mark.skipif(os.geteuid() != 0, reason="reading /etc/shadow needs root")
def test_gather_on_this_machine_leaks_no_hash(here):
    entries = [line.split(":") for line in Path("/etc/shadow").read_text().splitlines() if line.count(":") >= 8]
    assert set(here["shadow"]) == {fields[0] for fields in entries}
    # This machine may have no password set at all; the tmp shadow above always has hashes.
    pieces = [piece for fields in entries for piece in fields[1].split("$") if len(piece) >= 4]
    assert "$" not in json.dumps(here["shadow"])
    dumped = json.dumps(here)
    assert not [piece for piece in pieces if piece in dumped]


def test_gather_output_is_json(here):
    assert json.loads(json.dumps(here)) == here


# ---- secrets in configuration files stay on the host -----------------------------------------

SNMPD = """\
# an old one, commented out:  rocommunity oldsecret 10.0.0.0/8
rocommunity public default -V systemonly
rocommunity6 s3cret-ro default
com2sec -Cn ctx sec 10.0.0.0/8 hunter2
com2sec sec2 default private
trap2sink 192.0.2.1 trapsecret 162
createUser lgsecmon SHA "auth pass phrase" AES "priv pass phrase"
rouser lgsecmon priv
"""


def test_snmpd_communities_and_pass_phrases_are_redacted_defaults_kept():
    out = gather_module.redact_snmpd(SNMPD)
    for secret in ("oldsecret", "s3cret-ro", "hunter2", "trapsecret", "auth pass phrase", "priv pass phrase"):
        assert secret not in out
    assert "rocommunity public default -V systemonly" in out
    assert "com2sec sec2 default private" in out
    assert "com2sec -Cn ctx sec 10.0.0.0/8 <redacted>" in out
    assert "rouser lgsecmon priv" in out


def test_rsyslog_action_passwords_are_redacted():
    text = 'action(type="ommysql" server="db.example.lg.jp" db="Syslog" uid="rsyslog" pwd="hunter2")\n'
    out = gather_module.redact_rsyslog(text)
    assert "hunter2" not in out and 'pwd="<redacted>"' in out and 'server="db.example.lg.jp"' in out


def test_enabled_units_read_from_the_symlinks_systemctl_enable_makes(tmp_path):
    """What `systemctl list-unit-files --state=enabled` lists (compared live on Debian 12 and 13)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    root = tmp_path / "etc"
    (root / "multi-user.target.wants").mkdir(parents=True)
    (root / "timers.target.wants").mkdir()
    (root / "getty.target.wants").mkdir()
    (root / "sockets.target.wants").mkdir()
    (root / "multi-user.target.wants" / "ssh.service").symlink_to(lib / "ssh.service")
    (root / "multi-user.target.wants" / "remote-fs.target").symlink_to(lib / "remote-fs.target")  # not a type read
    (root / "getty.target.wants" / "getty@tty1.service").symlink_to(lib / "getty@.service")
    (root / "timers.target.wants" / "fstrim.timer").symlink_to(lib / "fstrim.timer")
    (root / "fstrim.timer").symlink_to("/dev/null")  # masked after being enabled
    (root / "sockets.target.wants" / "tftpd.socket").symlink_to(lib / "tftpd.socket")
    (root / "sshd.service").symlink_to(lib / "ssh.service")  # an alias of an enabled unit
    (root / "local.service").write_text("[Service]\n")  # a unit file of the site's, not a link
    facts = {"commands": {}, "errors": {}}
    gather_module.read_enabled_units(facts, str(root))
    result = facts["commands"]["enabled unit files"]
    assert result["rc"] == 0
    assert result["stdout"].splitlines() == [
        "getty@.service enabled",
        "ssh.service enabled",
        "tftpd.socket enabled",
    ]


def test_no_systemd_folder_means_no_systemd():
    facts = {"commands": {}, "errors": {}}
    gather_module.read_enabled_units(facts, "/nonexistent/systemd/system")
    assert facts["commands"]["enabled unit files"]["rc"] is None
