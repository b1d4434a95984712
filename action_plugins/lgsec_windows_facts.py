"""lgsec_windows_facts: run the PowerShell module of the same name and decode its evidence
files on the controller with lgsec.windows (one reader for live facts and offline evidence)."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from ansible.plugins.action import ActionBase

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec.windows import facts_from_files


def decode_result(raw: dict) -> dict:
    """lgsec_raw (file name -> base64 of its bytes) -> lgsec_facts."""
    files = {name: base64.b64decode(data) for name, data in (raw.get("files") or {}).items()}
    return facts_from_files(files, where="lgsec_windows_facts")


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        module = self._execute_module(
            module_name="lgsec_windows_facts", module_args=self._task.args, task_vars=task_vars
        )
        result.update(module)
        raw = result.pop("lgsec_raw", None)
        if module.get("failed") or raw is None:
            result.setdefault("failed", True)
            result.setdefault("msg", "lgsec_windows_facts returned no evidence")
            return result
        try:
            result["lgsec_facts"] = decode_result(raw)
        except Exception as exc:  # any broken evidence is this host's gather failure, reported as such
            result.update(failed=True, msg=f"lgsec_windows_facts: {exc}")
        return result
