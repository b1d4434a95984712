"""The roles' interface (defaults/main.yml, meta/argument_specs.yml, the README's variable table) is
generated from the catalog by tools/generate.py (`make generate`): the committed files are what it
writes, and a parameter a role starts to read appears in all three."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, import_path

generate = import_path("lgsec_tools_generate", ROOT / "tools" / "generate.py")


def test_committed_role_interfaces_are_what_make_generate_writes(tmp_path):
    proc = subprocess.run(
        [sys.executable, ROOT / "tools" / "generate.py", "--out", tmp_path], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written, "tools/generate.py wrote nothing"
    stale = [
        rel
        for rel in written
        if not (ROOT / rel).is_file() or (ROOT / rel).read_bytes() != (tmp_path / rel).read_bytes()
    ]
    assert not stale, f"generated role files differ from the catalog: run `make generate` ({', '.join(stale)})"


def copy_project(tmp_path, role="web_integrity"):
    for folder in ("catalog", f"roles/{role}"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_a_parameter_a_role_starts_to_read_appears_in_its_interface(tmp_path):
    root = copy_project(tmp_path)
    catalog = root / "catalog" / "controls.yml"
    text = catalog.read_text(encoding="utf-8")
    anchor = "      paths:"
    assert anchor in text  # WEB-TAMPER paths, the first parameter of the control
    new = "      max_files: {type: int, default: 50000, minimum: 1, description: files AIDE may watch}\n"
    catalog.write_text(text.replace(anchor, new + anchor, 1), encoding="utf-8")
    tasks = root / "roles" / "web_integrity" / "tasks" / "web_tamper.yml"
    tasks.write_text(
        tasks.read_text(encoding="utf-8") + "# limit: {{ lgsec_web_tamper_max_files }}\n", encoding="utf-8"
    )

    files = generate.generate(root)

    defaults = yaml.safe_load(files["roles/web_integrity/defaults/main.yml"])
    assert defaults["lgsec_web_tamper_max_files"] == 50000
    spec = yaml.safe_load(files["roles/web_integrity/meta/argument_specs.yml"])["argument_specs"]["main"]["options"]
    assert spec["lgsec_web_tamper_max_files"]["type"] == "int"
    assert spec["lgsec_web_tamper_max_files"]["default"] == 50000
    assert "files AIDE may watch." in spec["lgsec_web_tamper_max_files"]["description"]
    assert "Accepted: at least 1." in spec["lgsec_web_tamper_max_files"]["description"]
    assert spec["lgsec_web_tamper_max_files"]["description"][0] == (
        "WEB-TAMPER 第84条(3) ウェブページ改ざんの検知と通報 / Web content changes detected and reported."
    )
    assert "| `lgsec_web_tamper_max_files` |" in files["roles/web_integrity/README.md"]


def test_hand_owned_parts_are_kept_and_a_file_without_markers_is_refused(tmp_path):
    root = copy_project(tmp_path, "network_device")
    files = generate.generate(root)
    defaults = files["roles/network_device/defaults/main.yml"]
    assert defaults.rstrip().endswith('lgsec_network_enable_secret: ""'), "the role's own variable after END is kept"
    assert (
        "lgsec_network_enable_secret"
        in yaml.safe_load(files["roles/network_device/meta/argument_specs.yml"])["argument_specs"]["main"]["options"]
    )

    specs = root / "roles" / "network_device" / "meta" / "argument_specs.yml"
    specs.write_text(specs.read_text(encoding="utf-8").replace(generate.END, "end"), encoding="utf-8")
    with pytest.raises(generate.InterfaceError, match=r"argument_specs\.yml: no generated section"):
        generate.generate(root)
