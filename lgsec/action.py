"""The frame every controller-side action plugin of lgsec shares (action_plugins/lgsec_*.py).

Such a plugin never contacts a host (it judges, plans or records on the controller), and bad input
it meets — a catalog, an exceptions file, a host variable, the two persons — fails its task with
one line, ``lgsec input error: …``, naming file, entry and field (lgsec.errors.InputError), before
anything is applied. A plugin subclasses ControllerAction and writes ``act(args, task_vars)``,
returning the task's result fields.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from lgsec.errors import InputError


def input_failure(exc: InputError | str) -> dict[str, Any]:
    """The failed result of a task stopped by bad input (the message names file, entry, field)."""
    return {"failed": True, "msg": f"lgsec input error: {exc}", "lgsec_input_error": str(exc)}


class ControllerAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            return {**result, **self.act(self._task.args, task_vars)}
        except InputError as exc:
            return {**result, **input_failure(exc)}

    def act(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
