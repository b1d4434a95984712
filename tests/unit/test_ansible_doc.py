"""ansible-doc renders every module and filter of lgsec, as a user of the collection reads them
(`ansible-doc lgsec.policy.lgsec_report`, `ansible-doc -t filter lgsec.policy.lgsec_win_idle`),
and in a checkout through ansible.cfg's library/ and filter_plugins/. The names come from the
source tree: every module of library/, every action plugin, every filter a FilterModule returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, import_path

BIN = Path(sys.executable).parent
MODULES = sorted({p.stem for d in ("library", "action_plugins") for p in (ROOT / d).glob("*.py")})
FILTERS = sorted(
    name
    for path in (ROOT / "filter_plugins").glob("*.py")
    for name in import_path(f"lgsec_doc_{path.stem}", path).FilterModule().filters()
)


def ansible_doc(kind: str, names: list[str], env: dict) -> dict:
    proc = subprocess.run(
        [BIN / "ansible-doc", "-t", kind, "--json", *names], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr[-3000:]
    return json.loads(proc.stdout)


def assert_documented(docs: dict, names: list[str], kind: str) -> None:
    assert sorted(docs) == sorted(names), f"{kind}: documented {sorted(docs)}, expected {sorted(names)}"
    for name, doc in docs.items():
        body = doc["doc"]
        assert body.get("short_description") and body.get("description"), f"{kind} {name}: no description"
        assert body.get("options"), f"{kind} {name}: no options documented"
        assert doc.get("examples"), f"{kind} {name}: no examples"


@pytest.fixture(scope="module")
def collection_env(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("collection")
    build = subprocess.run(
        [sys.executable, ROOT / "tools" / "build_collection.py", out], capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = next(out.glob("lgsec-policy-*.tar.gz"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(out / "installed")
    install = subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", out / "installed", tarball],
        capture_output=True,
        text=True,
        env=env,
        cwd=out,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return env


def test_every_module_of_the_collection_renders_in_ansible_doc(collection_env):
    names = [f"lgsec.policy.{m}" for m in MODULES]
    assert_documented(ansible_doc("module", names, collection_env), names, "module")


def test_every_filter_of_the_collection_renders_in_ansible_doc(collection_env):
    names = [f"lgsec.policy.{f}" for f in FILTERS]
    assert_documented(ansible_doc("filter", names, collection_env), names, "filter")


def test_every_module_and_filter_renders_from_a_checkout():
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    modules = [m for m in MODULES if (ROOT / "library" / f"{m}.py").exists()]  # action-only ones: collection stubs
    assert_documented(ansible_doc("module", modules, env), modules, "module")
    assert_documented(ansible_doc("filter", FILTERS, env), FILTERS, "filter")
