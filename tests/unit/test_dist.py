"""The wheel and the collection, installed the way users install them, outside the checkout.

What `make dist` writes is built again here from the source tree (pip wheel; tools/build_collection.py),
then installed in a fresh virtual environment (`pip install 'lgsec-*.whl[collections]'`) and a
fresh collections path (`ansible-galaxy collection install lgsec-policy-*.tar.gz`). Both audit
this machine from a world-writable working directory holding an ansible.cfg that would break a
run if it were read (the WSL case: a clone under /mnt/c, which Ansible ignores as a config
source), with no ANSIBLE_* variable and no path into the checkout in the environment.
The two audits must agree row by row, and each row must be a real verdict (pass or fail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
CONTROLS = ["PW-LENGTH", "NET-SNMP", "LOG-RETENTION"]
# an ansible.cfg a careless working directory could hold: read, it would send every run astray
HOSTILE_CFG = "[defaults]\ninventory = /nonexistent\nlibrary = /nonexistent\nroles_path = /nonexistent\n"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: nothing pointing into the checkout, no Ansible settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return {**env, **extra}


def run(cmd: list, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT], cwd=out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run([sys.executable, ROOT / "tools" / "build_collection.py", out], cwd=ROOT, env=os.environ.copy())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    wheel, collection = out / f"lgsec-{VERSION}-py3-none-any.whl", out / f"lgsec-policy-{VERSION}.tar.gz"
    assert wheel.is_file() and collection.is_file(), sorted(p.name for p in out.iterdir())
    return {"wheel": wheel, "collection": collection}


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and the collections it runs with (the extra [collections]): its bin/."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this pip installs into it (Debian's python3 may lack ensurepip)
    pip = [sys.executable, "-m", "pip", "--python", env_dir / "bin" / "python", "install", "-q"]
    proc = run([*pip, f"{dist['wheel']}[collections]"], cwd=env_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env_dir / "bin"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """World-writable, like a Windows drive under WSL (/mnt/c), with an ansible.cfg in it."""
    where = tmp_path_factory.mktemp("mnt-c")
    (where / "ansible.cfg").write_text(HOSTILE_CFG, encoding="utf-8")
    where.chmod(0o1777)
    return where


def inventory(where: Path, bin_dir: Path) -> Path:
    path = where / "hosts.yml"
    hosts = {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": str(bin_dir / "python")}}
    hosts["localhost"]["lgsec_importance"] = "II"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


def verdicts(report: Path) -> dict[str, str]:
    rows = json.loads(report.read_text(encoding="utf-8"))["results"]
    assert all(r["host"] == "localhost" for r in rows), rows
    return {r["control"]: r["status"] for r in rows}


def test_wheel_carries_its_data_and_the_cli_runs_from_any_directory(installed, workdir):
    site = run([installed / "python", "-c", "import lgsec, sys; print(lgsec.__file__)"], cwd=workdir)
    assert site.returncode == 0 and not site.stdout.startswith(str(ROOT)), site.stdout + site.stderr
    version = run([installed / "lgsec", "--version"], cwd=workdir)
    assert version.returncode == 0 and VERSION in version.stdout, version.stdout + version.stderr
    catalog = run([installed / "lgsec", "catalog"], cwd=workdir)
    assert catalog.returncode == 0, catalog.stdout + catalog.stderr
    shipped = f"{Path(site.stdout.strip()).parent}/share/catalog/controls.yml is valid"
    assert shipped in catalog.stdout  # the wheel's own catalog, not the checkout's


def test_catalog_show_in_a_wheel_names_its_installed_files(installed, workdir):
    """`lgsec catalog show` from the wheel: the check and the role task files where the wheel put
    them; tests/ and molecule/, which a wheel does not ship, said so."""
    site = run([installed / "python", "-c", "import lgsec; print(lgsec.__file__)"], cwd=workdir)
    share = Path(site.stdout.strip()).parent / "share"
    show = run([installed / "lgsec", "catalog", "show", "LOCKOUT"], cwd=workdir)
    assert show.returncode == 0, show.stdout + show.stderr
    lines = show.stdout.splitlines()
    assert "fixtures: not in this installation" in lines and "molecule tests: not in this installation" in lines
    linux = next(line.split()[1] for line in lines if line.startswith("  linux "))
    path, number = linux.rsplit(":", 1)
    assert not path.startswith(str(ROOT)) and Path(path).is_file(), linux
    assert Path(path).read_text(encoding="utf-8").splitlines()[int(number) - 1].startswith("@check(")
    assert any(line.startswith("  roles/accounts/tasks/lockout.yml:") for line in lines)
    assert (share / "roles" / "accounts" / "tasks" / "lockout.yml").is_file()


@pytest.fixture(scope="module")
def wheel_audit(installed, workdir) -> dict[str, str]:
    out = workdir / "wheel-reports"
    hosts = inventory(workdir, installed)
    proc = run([installed / "lgsec", "audit", "-i", hosts, "-o", out, "--controls", ",".join(CONTROLS)], cwd=workdir)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]  # compliant or findings
    return verdicts(out / "report.json")


def test_wheel_audits_this_machine(wheel_audit):
    assert set(wheel_audit) == set(CONTROLS)
    assert set(wheel_audit.values()) <= {"pass", "fail"}, wheel_audit  # a real verdict on each


def test_collection_installs_and_its_playbooks_run_by_fqcn(dist, installed, workdir, wheel_audit, tmp_path):
    collections = tmp_path / "collections"
    env = clean_env(ANSIBLE_COLLECTIONS_PATH=str(collections))
    galaxy = installed / "ansible-galaxy"
    proc = run([galaxy, "collection", "install", "-p", collections, dist["collection"]], workdir, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = run([galaxy, "collection", "list", "lgsec.policy", "-p", collections], workdir, env)
    assert f"lgsec.policy {VERSION}" in " ".join(listed.stdout.split()), listed.stdout + listed.stderr
    harden = [installed / "ansible-playbook", "--syntax-check", "-i", "localhost,", "lgsec.policy.harden"]
    syntax = run(harden, workdir, env)
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    out = tmp_path / "collection-reports"
    playbook = [installed / "ansible-playbook", "-i", inventory(workdir, installed), "lgsec.policy.audit"]
    extravars = {"lgsec_report_dir": str(out), "lgsec_only_controls": CONTROLS}
    proc = run([*playbook, "-e", json.dumps(extravars)], workdir, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "/nonexistent" not in proc.stdout + proc.stderr
    assert verdicts(out / "report.json") == wheel_audit  # the same verdicts as the wheel's CLI
