"""AWX / Automation Platform: the execution environment lists what pyproject installs, and the
audit playbook runs under ansible-runner the way an AWX job runs it (private data dir with
project/, inventory/ and env/extravars from the job template), returning its outcome as the
job's artifacts (set_stats) as well as report.json."""

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
        out[name.lower()] = version
    return out


def test_execution_environment_pins_what_pyproject_installs():
    deps = EE["dependencies"]
    ee = pins(deps["python"] + [deps["ansible_core"]["package_pip"], deps["ansible_runner"]["package_pip"]])
    project = pins(PYPROJECT["project"]["dependencies"])
    assert ee == project, "execution-environment.yml and pyproject.toml dependencies differ"
    python = PYPROJECT["project"]["requires-python"]
    assert deps["python_interpreter"]["package_system"].removeprefix("python") in python


def test_execution_environment_definition_is_valid_for_ansible_builder(tmp_path):
    builder = shutil.which("ansible-builder") or str(Path(sys.executable).parent / "ansible-builder")
    if not Path(builder).exists():
        pytest.skip("ansible-builder is not installed (pip install -e '.[test]')")
    proc = subprocess.run(
        [builder, "create", "-f", str(ROOT / "execution-environment.yml"), "-c", str(tmp_path / "ctx")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "ctx" / "Containerfile").read_text(encoding="utf-8")
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile


def test_audit_runs_as_an_awx_job_and_returns_its_artifacts(tmp_path):
    """ansible-runner with a private data dir, as AWX lays it out; the job template's variables
    in env/extravars; the outcome in the playbook_on_stats event's artifact_data."""
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
        f"      ansible_python_interpreter: {sys.executable}\n      lgsec_importance: II\n",
        encoding="utf-8",
    )
    outdir = tmp_path / "reports"
    extravars = {"lgsec_report_dir": str(outdir), "lgsec_only_controls": ["PW-LENGTH", "NET-SNMP"]}
    (private / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="playbooks/audit.yml",
        envvars={  # in the execution environment these are its image's own
            "ANSIBLE_CONFIG": str(private / "project" / "ansible.cfg"),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },
        quiet=True,
    )
    assert result.status == "successful", result.stdout.read()[-3000:]
    stats = next(e for e in result.events if e["event"] == "playbook_on_stats")
    artifacts = stats["event_data"]["artifact_data"]
    report = json.loads((outdir / "report.json").read_text(encoding="utf-8"))
    rows = report["results"]
    assert {r["control"] for r in rows} == {"PW-LENGTH", "NET-SNMP"}
    assert artifacts["lgsec_report"] == str(outdir / "report.json")
    assert sum(artifacts["lgsec_counts"].values()) == len(rows) == 2
    assert artifacts["lgsec_findings"] == [f"awx-self/{r['control']}" for r in rows if r["status"] == "fail"]
