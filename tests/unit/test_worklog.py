"""Two-person, tamper-evident work records (第8条, 第53条, 第77条): lgsec harden refuses one
person; every run appends a hash-chained entry; lgsec log verify finds edited, removed and
reordered entries and says which."""

from __future__ import annotations

import json

import pytest
import yaml

from lgsec import cli, worklog
from lgsec.catalog import ROOT
from lgsec.cli import main
from lgsec.errors import EXIT_INTERRUPTED


def entries(n: int, path) -> list[dict]:
    return [worklog.append(path, {"operator": f"op{i}", "confirmed_by": "chief", "hosts": ["web01"]}) for i in range(n)]


def lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def rewrite(path, new_lines: list[str]) -> None:
    path.write_text("\n".join(new_lines) + "\n", encoding="utf-8")


def test_an_intact_log_verifies(tmp_path):
    log = tmp_path / "work.jsonl"
    written = entries(3, log)
    assert [e["seq"] for e in written] == [1, 2, 3]
    assert written[0]["prev_hash"] == worklog.GENESIS and written[2]["prev_hash"] == written[1]["hash"]
    assert worklog.verify(log) == []


def test_an_edited_entry_is_named(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    text = lines(log)
    second = json.loads(text[1])
    second["confirmed_by"] = "op1"  # someone makes it look as if the operator confirmed himself
    text[1] = json.dumps(second, ensure_ascii=False, sort_keys=True)
    rewrite(log, text)
    assert worklog.verify(log) == [f"{log}:2: entry seq 2 was edited (its hash does not match its content)"]


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_chain(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    text = lines(log)
    second = json.loads(text[1])
    second["operator"] = "someone-else"
    second["hash"] = worklog.digest(second)
    text[1] = json.dumps(second, sort_keys=True)
    rewrite(log, text)
    assert worklog.verify(log) == [
        f"{log}:3: entry seq 3 does not follow the entry before it (removed, inserted or reordered)"
    ]


def test_a_removed_entry_is_found(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    text = lines(log)
    rewrite(log, [text[0], text[2]])
    problems = worklog.verify(log)
    assert f"{log}:2: entry seq 3 where seq 2 was expected (removed or reordered)" in problems
    assert len(problems) == 2  # and the chain: seq 3 does not follow seq 1


def test_reordered_entries_are_found(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    text = lines(log)
    rewrite(log, [text[0], text[2], text[1]])
    problems = worklog.verify(log)
    assert problems[0] == f"{log}:2: entry seq 3 where seq 2 was expected (removed or reordered)"
    assert any(p.startswith(f"{log}:3: entry seq 2") for p in problems)


def test_the_last_entry_removed_is_found_by_the_head(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    rewrite(log, lines(log)[:2])
    assert worklog.verify(log) == [
        f"{log}.head: names entry seq 3; the log ends at seq 2 (its end was removed or changed)"
    ]


# ---- lgsec harden / lgsec log verify ---------------------------------------------------------------


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "lgsec_importance": "II"}
    path.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host, "web02": host}}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("operator", "confirmer"),
    [("tanaka", "tanaka"), ("Tanaka", " tanaka "), ("tanaka", " "), ("ｔａｎａｋａ", "tanaka"),
     ("田中 太郎", "田中\u3000\u3000太郎"), ("TANAKA  taro", "tanaka taro"), ("tanaka", "\u3000")],
)  # fmt: skip
def test_harden_refuses_one_person(tmp_path, capsys, inventory, operator, confirmer, monkeypatch):
    monkeypatch.setattr(cli, "run_playbook", lambda *a, **k: pytest.fail("the playbook must not run"))
    log = tmp_path / "work.jsonl"
    args = ["harden", "-i", str(inventory), "--operator", operator, "--confirmed-by", confirmer, "--log", str(log)]
    assert main(args) == 2
    assert "another person must confirm" in capsys.readouterr().err or confirmer.strip() == ""
    assert not log.exists()


def test_harden_needs_both_people(inventory):
    with pytest.raises(SystemExit) as caught:
        main(["harden", "-i", str(inventory), "--operator", "tanaka"])
    assert caught.value.code == 2


EVENTS = [
    {"event": "runner_on_ok", "event_data": {"host": "web01", "task": "Gathering Facts", "res": {"changed": False}}},
    {
        "event": "runner_on_ok",
        "event_data": {
            "host": "web01",
            "task": "LOCKOUT | Lock accounts after failures (第69条5)",
            "res": {"changed": True},
        },
    },
    {
        "event": "runner_on_failed",
        "event_data": {"host": "web01", "task": "PW-LENGTH | Minimum length (第50条(3))", "res": {"msg": "boom"}},
    },
    {"event": "runner_on_unreachable", "event_data": {"host": "web02", "task": "Gathering Facts", "res": {}}},
    {
        "event": "playbook_on_stats",
        "event_data": {"changed": {"web01": 1}, "failures": {"web01": 1}, "unreachable": {"web02": 1}},
    },
]


def test_harden_writes_who_what_and_the_outcome(tmp_path, capsys, inventory, monkeypatch):
    seen = {}

    def fake_run(playbook, inv, extravars, limit, quiet, vault_file=None, extra_args=(), **options):
        seen.update(playbook=playbook, extra_args=extra_args, tags=options["tags"])
        for event in EVENTS:
            options["event_handler"](event)
        return 2, "PLAY RECAP"

    monkeypatch.setattr(cli, "run_playbook", fake_run)
    log = tmp_path / "work.jsonl"
    args = ["harden", "-i", str(inventory), "--operator", "tanaka", "--confirmed-by", "suzuki", "--log", str(log)]
    assert main([*args, "--check", "--tags", "LOCKOUT,PW-LENGTH"]) == 3  # a host was unreachable
    assert seen == {"playbook": "harden.yml", "extra_args": ("--check", "--diff"), "tags": "LOCKOUT,PW-LENGTH"}
    opened, entry = [json.loads(line) for line in lines(log)]
    assert (opened["event"], entry["event"], entry["run"]) == ("started", "finished", opened["seq"])
    assert opened["hosts"] == entry["hosts"] and "changes" not in opened  # on record before any host is touched
    assert (entry["operator"], entry["confirmed_by"], entry["check_mode"]) == ("tanaka", "suzuki", True)
    assert entry["hosts"] == ["web01", "web02"] and entry["controls"] == ["LOCKOUT", "PW-LENGTH"]
    web01 = entry["changes"]["web01"]
    assert web01["changed"] == [{"task": "LOCKOUT | Lock accounts after failures (第69条5)", "control": "LOCKOUT"}]
    assert web01["failed"][0]["control"] == "PW-LENGTH" and web01["failed"][0]["msg"] == "boom"
    assert entry["changes"]["web02"]["unreachable"] is True
    assert (entry["outcome"], entry["rc"], entry["stats"]["failures"]) == ("unreachable", 2, {"web01": 1})
    assert "work record: " in capsys.readouterr().out
    assert main(["log", "verify", "--log", str(log)]) == 0
    out = capsys.readouterr().out
    assert "2 entries, chain intact" in out and "note:" not in out
    rewrite(log, [lines(log)[0].replace('"tanaka"', '"suzuki"'), lines(log)[1]])
    assert main(["log", "verify", "--log", str(log)]) == 1
    assert f"{log}:1: entry seq 1 was edited" in capsys.readouterr().out


def test_an_interrupted_harden_is_recorded_and_exits_130(tmp_path, capsys, inventory, monkeypatch):
    def interrupted_run(playbook, inv, extravars, limit, quiet, vault_file=None, extra_args=(), **options):
        options["event_handler"](EVENTS[1])  # one change made before Ctrl-C
        return EXIT_INTERRUPTED, ""

    monkeypatch.setattr(cli, "run_playbook", interrupted_run)
    log = tmp_path / "work.jsonl"
    args = ["harden", "-i", str(inventory), "--operator", "tanaka", "--confirmed-by", "suzuki", "--log", str(log)]
    assert main(args) == EXIT_INTERRUPTED
    entry = json.loads(lines(log)[-1])
    assert (entry["outcome"], entry["rc"]) == ("interrupted", EXIT_INTERRUPTED)
    assert entry["changes"]["web01"]["changed"][0]["control"] == "LOCKOUT"
    assert "(interrupted)" in capsys.readouterr().out
    assert main(["log", "verify", "--log", str(log)]) == 0


def test_a_run_the_controller_never_finished_is_noted(tmp_path, capsys):
    log = tmp_path / "work.jsonl"
    first = worklog.append(log, {"event": "started", "started": "2026-11-26T10:00:00+09:00", "operator": "tanaka"})
    worklog.append(log, {"event": "finished", "run": first["seq"], "outcome": "ok"})
    worklog.append(log, {"event": "started", "started": "2026-11-26T11:00:00+09:00", "operator": "sato"})
    assert [e["seq"] for e in worklog.unfinished(log)] == [3]
    assert main(["log", "verify", "--log", str(log)]) == 0  # not tampering: a fact to follow up
    assert "note: the run of entry seq 3 (2026-11-26T11:00:00+09:00, sato) has no finished entry" in (
        capsys.readouterr().out
    )


def test_harden_refuses_an_unknown_tag(inventory, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_playbook", lambda *a, **k: pytest.fail("the playbook must not run"))
    args = ["harden", "-i", str(inventory), "--operator", "a", "--confirmed-by", "b", "--tags", "LOCKOUT,LOCKOUTT"]
    assert main(args) == 2
    assert "LOCKOUTT" in capsys.readouterr().err


@pytest.mark.slow
def test_real_harden_in_check_mode_records_the_run_and_skips_a_waived_control(tmp_path):
    """lgsec harden --check on this machine (nothing changes), WEB-TAMPER and SESSION-LIMIT:
    the live exception makes every WEB-TAMPER task skip, SESSION-LIMIT's tasks run; the record
    says so and verifies."""
    import subprocess
    import sys

    inv = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "lgsec_importance": "II"}
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host}}}), encoding="utf-8")
    waiver = {
        "reference": "R-1",
        "control": "WEB-TAMPER",
        "hosts": ["localhost"],
        "reason": "no web server here",
        "requested_by": "tanaka",
        "approved_by": "ciso",
        "approved_on": "2026-01-01",
        "expires_on": "2028-12-31",
    }
    (tmp_path / "exceptions.yml").write_text(yaml.safe_dump({"exceptions": [waiver]}), encoding="utf-8")
    log = tmp_path / "work.jsonl"
    command = [sys.executable, "-m", "lgsec.cli", "harden", "-i", str(inv), "--operator", "tanaka"]
    command += ["--confirmed-by", "suzuki", "--check", "--tags", "WEB-TAMPER,SESSION-LIMIT", "--log", str(log)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    opened, entry = [json.loads(line) for line in lines(log)]
    assert (opened["event"], entry["run"]) == ("started", opened["seq"])
    assert (entry["outcome"], entry["check_mode"], entry["hosts"]) == ("ok", True, ["localhost"])
    assert entry["exceptions"] == str(tmp_path / "exceptions.yml")
    seen = entry["changes"]["localhost"]
    # the plan says why: WEB-TAMPER waived (its role is not even entered), SESSION-LIMIT fails here
    assert seen["plan"]["skipped"]["WEB-TAMPER"] == "waived" and "WEB-TAMPER" not in seen["plan"]["run"]
    assert "WEB-TAMPER" not in seen["controls_run"]
    assert seen["plan"]["run"]["SESSION-LIMIT"] == "audit: fail" and "SESSION-LIMIT" in seen["controls_run"]
    assert not [c for c in seen["changed"] if c["control"] == "WEB-TAMPER"]
    assert main(["log", "verify", "--log", str(log)]) == 0


# ---- issue 16: any text kept losslessly on its line; one spelling per entry; torn lines -----------


@pytest.mark.parametrize("name", ["tana\u2028ka", "tana\u2029ka", "tana\x85ka", "tana\rka", "tana\ud800ka"])
def test_any_operator_name_is_recorded_losslessly_and_the_next_run_works(
    tmp_path, capsys, inventory, monkeypatch, name
):
    def run_with_odd_text(playbook, inv, extravars, limit, quiet, vault_file=None, extra_args=(), **options):
        task = f"LOCKOUT | changed by {name} \x1b[2J"
        options["event_handler"]({"event": "runner_on_ok", "event_data": {"host": "web01", "task": task,
                                                                          "res": {"changed": True}}})  # fmt: skip
        return 0, ""

    monkeypatch.setattr(cli, "run_playbook", run_with_odd_text)
    log = tmp_path / "work.jsonl"
    args = ["harden", "-i", str(inventory), "--operator", name, "--confirmed-by", "suzuki", "--log", str(log)]
    assert main(args) == 0
    assert main(args) == 0  # and every later run
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out  # the task name, as printed, moves no cursor
    assert log.read_bytes().count(b"\n") == 4 and log.read_bytes().isascii()
    found = worklog.entries(log)
    assert [e["event"] for e in found] == ["started", "finished"] * 2
    assert {e["operator"] for e in found} == {name}  # kept as given
    assert found[1]["changes"]["web01"]["changed"][0]["task"].startswith(f"LOCKOUT | changed by {name}")
    assert main(["log", "verify", "--log", str(log)]) == 0
    assert "4 entries, chain intact" in capsys.readouterr().out


def forge(log, index: int, change) -> None:
    text = lines(log)
    text[index] = change(text[index])
    rewrite(log, text)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: '{"operator": "mallory", ' + t[1:],  # a duplicate key before the real one: json keeps the last
        lambda t: t.replace('": "', '":  "'),  # re-spaced
        lambda t: t.replace('"op1"', '"\\u006fp1"'),  # the same text, escaped
        lambda t: t + " ",  # trailing space
    ],
    ids=["duplicate-key", "re-spaced", "escaped", "trailing-space"],
)
def test_a_line_not_in_its_canonical_form_is_named(tmp_path, change):
    log = tmp_path / "work.jsonl"
    entries(3, log)
    before = worklog.digest(json.loads(lines(log)[1]))
    forge(log, 1, change)
    assert worklog.digest(json.loads(lines(log)[1])) == before  # the parsed entry is unchanged: a hash cannot see it
    problems = worklog.verify(log)
    assert problems and problems[0].startswith(f"{log}:2: "), problems


def test_a_torn_last_line_is_named_and_the_next_run_appends_after_it(tmp_path):
    log = tmp_path / "work.jsonl"
    entries(2, log)
    whole = worklog.line({"seq": 3, "operator": "op2", "prev_hash": "x", "hash": "y"})
    with open(log, "ab") as handle:
        handle.write(whole[:25].encode())  # power lost during the write
    torn = f"{log}:3: not a JSON entry (torn: its write was cut off, by a power loss or a full disk)"
    assert worklog.verify(log)[0] == torn
    entry = worklog.append(log, {"operator": "op3"})
    assert entry["seq"] == 3 and entry["prev_hash"] == json.loads(lines(log)[1])["hash"]
    assert lines(log)[3] == worklog.line(entry)  # on a line of its own
    problems = worklog.verify(log)
    assert len(problems) == 1 and problems[0].startswith(f"{log}:3: not a JSON entry"), problems


def test_a_work_record_that_cannot_be_written_is_exit_2_before_anything_runs(tmp_path, capsys, inventory, monkeypatch):
    monkeypatch.setattr(cli, "run_playbook", lambda *a, **k: pytest.fail("the playbook must not run"))
    (tmp_path / "file").write_text("x", encoding="utf-8")
    log = tmp_path / "file" / "work.jsonl"  # under a file: no directory can be made
    args = ["harden", "-i", str(inventory), "--operator", "tanaka", "--confirmed-by", "suzuki", "--log", str(log)]
    assert main(args) == 2
    assert f"{log}: --log: cannot write the work record" in capsys.readouterr().err


# ---- make bench, 2026-12-02: the drift repair was recorded as "SSHD", and the guards' reads
# listed controls the plan had skipped as run ---------------------------------------------------


def test_a_change_of_the_shared_sshd_writer_is_recorded_under_the_controls_its_file_serves():
    collect = worklog.Collector()
    task = "SSHD | lgsec's drop-in for the control, written whole and checked by sshd -t"
    for dest, controls in (
        ("/etc/ssh/sshd_config.d/30-lgsec-remote-encrypted.conf", ["REMOTE-ENCRYPTED"]),
        ("/etc/ssh/sshd_config.d/30-lgsec-permitrootlogin.conf", ["PRIV-DEFAULT-ID", "REMOTE-MINIMAL"]),
    ):
        res = {"changed": True, "dest": dest}
        collect({"event": "runner_on_ok", "event_data": {"host": "web01", "task": task, "res": res}})
        item = collect.hosts["web01"]["changed"][-1]
        assert (item["control"], item["controls"]) == (controls[0], controls)
    restart = {"host": "web01", "task": "SSHD | restart sshd", "res": {"changed": True}}
    collect({"event": "runner_on_ok", "event_data": restart})
    assert collect.hosts["web01"]["changed"][-1]["control"] == "SSHD"


def test_a_skipped_controls_shared_reads_are_listed_apart_unless_it_changed_something():
    from lgsec import harden

    plan = {"run": {"REMOTE-ENCRYPTED": "audit: fail"}, "skipped": {"FW-DEFAULT-DENY": "passing",
            "REMOTE-MINIMAL": "passing", "PRIV-DEFAULT-ID": "passing"}, "audit": "audited"}  # fmt: skip
    seen = {"changed": [{"task": "x", "control": "PRIV-DEFAULT-ID", "controls": ["PRIV-DEFAULT-ID", "REMOTE-MINIMAL"]}],
            "controls_run": ["FW-DEFAULT-DENY", "REMOTE-ENCRYPTED", "REMOTE-MINIMAL", "SSHD"]}  # fmt: skip
    out = harden.with_plans({"web01": seen}, {"web01": plan})["web01"]
    assert out["controls_run"] == ["REMOTE-ENCRYPTED", "REMOTE-MINIMAL", "SSHD"]  # REMOTE-MINIMAL's file changed
    assert out["controls_read_only"] == ["FW-DEFAULT-DENY"]
