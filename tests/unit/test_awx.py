"""AWX / Automation Platform: the execution environment installs the wheel with the pins of
pyproject, only the collections the roles use and Kerberos for WinRM; the audit playbook runs
under ansible-runner the way an AWX job runs it (private data dir with project/, inventory/ and
env/extravars from the job template), returning its outcome as the job's artifacts (set_stats)
as well as report.json, and failing the job on findings when lgsec_fail_on_findings is true."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pins(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        name, _, version = re.split(r"\s*#", req)[0].strip().partition("==")
        out[name.split("[")[0].lower()] = version
    return out


def collections_used() -> set[str]:
    """namespace.collection of every FQCN module a role or playbook calls (ansible.builtin aside)."""
    fqcn = re.compile(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_0-9]+:\s*$", re.M)
    texts = [p.read_text(encoding="utf-8") for d in ("roles", "playbooks") for p in (ROOT / d).rglob("*.yml")]
    return {m for text in texts for m in fqcn.findall(text)} - {"ansible.builtin"}


def test_execution_environment_pins_what_pyproject_installs():
    deps = EE["dependencies"]
    ee = pins(deps["python"] + [deps["ansible_core"]["package_pip"], deps["ansible_runner"]["package_pip"]])
    project = pins(PYPROJECT["project"]["dependencies"])
    assert ee == project, "execution-environment.yml and pyproject.toml dependencies differ"
    python = PYPROJECT["project"]["requires-python"]
    assert deps["python_interpreter"]["package_system"].removeprefix("python") in python
    assert "kerberos" in next(r for r in deps["python"] if r.startswith("pywinrm["))  # WinRM in a domain


def test_execution_environment_gets_only_the_collections_the_roles_use():
    assert EE["dependencies"]["galaxy"] == "requirements.yml"
    wanted = yaml.safe_load((ROOT / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    names = {c["name"] for c in wanted}
    used = collections_used()
    assert used and used - {"frr.frr"} <= names, f"used by the roles, not in requirements.yml: {used - names}"
    # ansible.utils: ansible.netcommon's dependency; nothing else beyond what the roles call
    assert names - used <= {"ansible.utils"}, (
        f"in requirements.yml, used by no role: {names - used - {'ansible.utils'}}"
    )
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert set(galaxy["dependencies"]) == names - {"ansible.utils"}  # the collection declares the same


def test_execution_environment_definition_is_valid_for_ansible_builder(tmp_path):
    """ansible-builder makes the build context from the definition beside a real wheel (make dist's
    place, dist/): the wheel, requirements.yml and bindep.txt are in it and the Containerfile installs them."""
    builder = shutil.which("ansible-builder") or str(Path(sys.executable).parent / "ansible-builder")
    if not Path(builder).exists():
        pytest.skip("ansible-builder is not installed (pip install -e '.[test]')")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("execution-environment.yml", "requirements.yml", "bindep.txt"):
        shutil.copy2(ROOT / name, project / name)
    wheel = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", project / "dist", ROOT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wheel.returncode == 0, wheel.stderr[-3000:]
    proc = subprocess.run(
        [
            builder,
            "create",
            "-f",
            project / "execution-environment.yml",
            "-c",
            tmp_path / "ctx",
            "--output-filename",
            "Containerfile",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "ctx" / "Containerfile").read_text(encoding="utf-8")
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    build = tmp_path / "ctx" / "_build"
    assert [p.name for p in (build / "lgsec").iterdir()] == [
        f"lgsec-{PYPROJECT['project']['version']}-py3-none-any.whl"
    ]
    assert (build / "requirements.yml").is_file() and (build / "bindep.txt").is_file()
    assert "pip install --no-cache-dir --no-deps /tmp/lgsec/lgsec-" in containerfile
    assert "ansible-galaxy" in containerfile.replace("check_galaxy", "")  # the galaxy stage installs requirements.yml


def awx_job(tmp_path: Path, extravars: dict, hostvars: str = ""):
    """ansible-runner with a private data dir, as AWX lays it out; the job template's variables
    in env/extravars. Returns the runner result."""
    import ansible_runner

    private = tmp_path / "job"
    (private / "inventory").mkdir(parents=True)
    (private / "env").mkdir()
    shutil.copytree(
        ROOT,
        private / "project",
        ignore=shutil.ignore_patterns(".venv", ".git", "reports", "*.sqlite", "molecule", "tests", "collections"),
    )
    (private / "inventory" / "hosts").write_text(
        "all:\n  hosts:\n    awx-self:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n      lgsec_importance: II\n{hostvars}",
        encoding="utf-8",
    )
    (private / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    return ansible_runner.run(
        private_data_dir=str(private),
        playbook="playbooks/audit.yml",
        envvars={  # in the execution environment these are its image's own
            "ANSIBLE_CONFIG": str(private / "project" / "ansible.cfg"),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },
        quiet=True,
    )


def test_audit_runs_as_an_awx_job_and_returns_its_artifacts(tmp_path):
    """The outcome in the playbook_on_stats event's artifact_data; findings alone do not fail the job."""
    outdir = tmp_path / "reports"
    extravars = {"lgsec_report_dir": str(outdir), "lgsec_only_controls": ["PW-LENGTH", "NET-SNMP"]}
    result = awx_job(tmp_path, extravars)
    assert result.status == "successful", result.stdout.read()[-3000:]
    stats = next(e for e in result.events if e["event"] == "playbook_on_stats")
    artifacts = stats["event_data"]["artifact_data"]
    report = json.loads((outdir / "report.json").read_text(encoding="utf-8"))
    rows = report["results"]
    assert {r["control"] for r in rows} == {"PW-LENGTH", "NET-SNMP"}
    assert artifacts["lgsec_report"] == str(outdir / "report.json")
    assert sum(artifacts["lgsec_counts"].values()) == len(rows) == 2
    assert artifacts["lgsec_findings"] == [f"awx-self/{r['control']}" for r in rows if r["status"] == "fail"]


def test_lgsec_fail_on_findings_fails_the_job_after_writing_report_and_artifacts(tmp_path):
    """A password length no host has (1000) is a sure finding: the job fails (AWX notifies), and the
    report, the history and the artifacts are there as for a successful job."""
    outdir = tmp_path / "reports"
    extravars = {"lgsec_report_dir": str(outdir), "lgsec_only_controls": ["PW-LENGTH"], "lgsec_fail_on_findings": True}
    result = awx_job(tmp_path, extravars, hostvars="      lgsec_pw_length_min: 1000\n")
    assert result.status == "failed", result.stdout.read()[-3000:]
    failed = [e for e in result.events if e["event"] == "runner_on_failed"]
    assert [e["event_data"]["task"] for e in failed] == [
        "Fail the job when there are findings and lgsec_fail_on_findings is true"
    ]
    assert "awx-self/PW-LENGTH" in failed[0]["event_data"]["res"]["msg"]
    rows = json.loads((outdir / "report.json").read_text(encoding="utf-8"))["results"]
    assert [(r["control"], r["status"]) for r in rows] == [("PW-LENGTH", "fail")]
    assert (outdir / "history.sqlite").is_file()
    stats = next(e for e in result.events if e["event"] == "playbook_on_stats")
    assert stats["event_data"]["artifact_data"]["lgsec_findings"] == ["awx-self/PW-LENGTH"]


def test_lgsec_fail_on_findings_keeps_a_job_without_findings_successful(tmp_path):
    """WIPE-RECORDED is not applicable to a host in service: no finding, the job succeeds."""
    outdir = tmp_path / "reports"
    extravars = {
        "lgsec_report_dir": str(outdir),
        "lgsec_only_controls": ["WIPE-RECORDED"],
        "lgsec_fail_on_findings": True,
    }
    result = awx_job(tmp_path, extravars)
    assert result.status == "successful", result.stdout.read()[-3000:]
    rows = json.loads((outdir / "report.json").read_text(encoding="utf-8"))["results"]
    assert [(r["control"], r["status"]) for r in rows] == [("WIPE-RECORDED", "not_applicable")]
