"""The report action picks each host's gather result, whichever platform's task ran."""

import importlib.util

from lgsec.catalog import ROOT

spec = importlib.util.spec_from_file_location("lgsec_report_action", ROOT / "action_plugins" / "lgsec_report.py")
action = importlib.util.module_from_spec(spec)
spec.loader.exec_module(action)


def test_the_gather_that_ran_is_used_not_a_skipped_one():
    hostvars = {
        "lgsec_gather": {"skipped": True, "changed": False},
        "lgsec_gather_network": {"lgsec_facts": {"platform": "network"}},
    }
    assert action.pick_gathered(hostvars, action.GATHERED)["lgsec_facts"]["platform"] == "network"


def test_a_host_no_gather_ran_on_is_an_error_never_pass():
    gathered = action.pick_gathered({"lgsec_gather": {"skipped": True}}, action.GATHERED)
    assert action.gather_problem(gathered)[0] == "error"


def test_unreachable_stays_unreachable():
    gathered = action.pick_gathered({"lgsec_gather": {"unreachable": True, "msg": "ssh: refused"}}, action.GATHERED)
    assert action.gather_problem(gathered) == ("unreachable", "unreachable: ssh: refused")


def test_a_host_that_went_away_during_its_gather_is_unreachable_one_that_answered_is_an_error():
    failed = {"failed": True, "msg": "Module result deserialization failed: No start of json char found"}
    gathered = action.pick_gathered({"lgsec_gather": failed}, action.GATHERED)
    gone = {"unreachable": True, "msg": "container is not running"}
    assert action.gather_problem(gathered, gone) == (
        "unreachable",
        "unreachable during the gather: container is not running",
    )
    assert action.gather_problem(gathered, {"ping": "pong"})[0] == "error"
    assert action.gather_problem(gathered)[0] == "error"


def test_one_host_whose_facts_crash_the_evaluator_costs_only_its_own_rows(tmp_path, monkeypatch):
    """A host answers with facts of a shape no check foresaw (a list, not a mapping): its rows are
    error, saying why; the other host is judged and the report is written (issue 16)."""
    import json
    from types import SimpleNamespace

    from ansible.plugins.action import ActionBase

    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    good = (ROOT / "tests" / "fixtures" / "network" / "configs" / "sw-good.cfg").read_text(encoding="utf-8")
    facts = {"platform": "network", "vendor": "ios", "running_config": good, "source": "show running-config"}
    hostvars = {
        "sw-good": {"lgsec_gather_network": {"lgsec_facts": facts}, "lgsec_platform": "network"},
        "sw-odd": {"lgsec_gather_network": {"lgsec_facts": ["not", "a", "mapping"]}, "lgsec_platform": "network"},
    }
    plugin = action.ActionModule.__new__(action.ActionModule)
    plugin._task = SimpleNamespace(
        args={"hosts": list(hostvars), "outdir": str(tmp_path), "history": str(tmp_path / "h")}
    )
    result = plugin.run(task_vars={"groups": {"all": list(hostvars)}, "hostvars": hostvars})
    assert not result.get("failed") and result["exit_code"] == 1
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["results"]
    odd = [r for r in rows if r["host"] == "sw-odd"]
    assert odd and {r["status"] for r in odd} == {"error"} and "AttributeError" in odd[0]["actual"]
    assert "pass" in {r["status"] for r in rows if r["host"] == "sw-good"}
