"""The wheel carries the project's Ansible content and catalog as package data, lgsec/share/.

The repository keeps its own layout (catalog/, playbooks/, roles/, library/ …, the layout
ansible.cfg and a checkout use); build_py copies that layout into the wheel's lgsec/share, where
lgsec.catalog finds it through importlib.resources. An editable install (make venv) copies
nothing: there lgsec.catalog finds the checkout itself. Metadata: pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# what lgsec audit / harden / catalog read at run time, in the checkout's layout
SHARE = (
    "ansible.cfg",
    "catalog",
    "playbooks",
    "roles",
    "library",
    "action_plugins",
    "filter_plugins",
    "callback_plugins",
    "module_utils",
    "tools/windows",
    "inventories",
)
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class BuildWithShare(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        share = Path(self.build_lib, "lgsec", "share")
        shutil.rmtree(share, ignore_errors=True)
        for name in SHARE:
            src, dst = HERE / name, share / name
            if not src.exists():
                raise SystemExit(f"setup.py: {name} is missing from the source tree")
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=JUNK)
            else:
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildWithShare})
