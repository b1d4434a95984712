"""The playbook runner: one of the project's playbooks run with ansible-runner (as AWX would),
and the supervision of its processes: Ctrl-C and SIGTERM passed on, then escalated, and what is
left of a stopped run ended (Interrupt)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

from lgsec.catalog import ROOT
from lgsec.errors import EXIT_INTERRUPTED

PEXPECT_TIMEOUT = 0.5  # seconds


class Interrupt:
    """Ctrl-C (SIGINT) or SIGTERM while a playbook runs. ansible-runner starts ansible-playbook
    in a session of its own (a pty), so a terminal's Ctrl-C reaches lgsec only: the first signal
    is passed on to ansible-playbook as SIGINT (Ansible stops its workers and ends the run, and
    lgsec still writes its records). A run still going GRACE seconds later gets SIGINT once more
    (Ansible's own handler is gone by then: it ends at once), and GRACE seconds after that it is
    cancelled, as at a second Ctrl-C: ansible-runner kills the process group."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    GRACE = 3.0  # seconds

    def __init__(self):
        self.count = 0
        self.sent: list[float] = []  # when SIGINT was passed on

    def __enter__(self) -> Interrupt:
        self.previous = {sig: signal.signal(sig, self.handle) for sig in self.SIGNALS}
        subreaper(True)
        return self

    def __exit__(self, *exc) -> None:
        subreaper(False)
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def end_leftovers(self) -> None:
        """After a stopped run: end what is left of it. Ansible's workers run in sessions of their
        own and outlive an ansible-playbook that was killed; as a subreaper lgsec has adopted them."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            deadline = time.monotonic() + self.GRACE
            while time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    while os.waitpid(-1, os.WNOHANG)[0]:  # reap what has ended
                        pass
                left = child_pids()
                if not left:
                    return
                for pid in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
                time.sleep(0.1)

    def handle(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            print("\nlgsec: interrupted: stopping the run (again to kill it)", file=sys.stderr)
            self.forward()

    def forward(self) -> bool:
        """SIGINT to ansible-playbook; False when it has not been started yet."""
        pids = child_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, signal.SIGINT)
        if pids:
            self.sent.append(time.monotonic())
        return bool(pids)

    def stop(self) -> None:
        """End the run because lgsec found bad input meanwhile: as a first Ctrl-C does, or by
        cancelling it when ansible-playbook has not been started yet."""
        self.count = 1 if self.forward() else 2

    def cancel(self) -> bool:
        """ansible-runner's cancel_callback (polled every PEXPECT_TIMEOUT seconds)."""
        if self.count > 1:
            return True
        if self.sent and time.monotonic() - self.sent[-1] > self.GRACE:
            if len(self.sent) > 1:
                return True
            print("lgsec: the run has not stopped: signalled again", file=sys.stderr)
            self.forward()
        return False


def child_pids() -> list[int]:
    """The live processes whose parent this one is (ansible-runner's ansible-playbook, and what
    lgsec adopted as a subreaper), from /proc."""
    me, pids = str(os.getpid()), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid …
        except (OSError, IndexError):
            continue
        if fields[1] == me and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def subreaper(on: bool) -> None:
    """Linux: processes orphaned below this one become its children (PR_SET_CHILD_SUBREAPER)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0)


def run_playbook(
    playbook: str,
    inventory: str,
    extravars: dict,
    limit: str | None,
    quiet: bool,
    vault_file: str | None = None,
    extra_args: tuple[str, ...] = (),
    meanwhile=None,
    **runner_options,
) -> tuple[int, str]:
    """Run one of the project's playbooks with ansible-runner (as AWX would); (rc, stdout), rc
    EXIT_INTERRUPTED when Ctrl-C or SIGTERM stopped it (see Interrupt).
    extra_args: more ansible-playbook options (--check --diff); runner_options: tags, event_handler.
    meanwhile: called while Ansible starts (its start-up takes most of a second); when it raises,
    the run is stopped and the exception passed on. Only for what the playbook's own first task
    would refuse too (lgsec_validate): the audit's input checks."""
    import ansible_runner

    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
    }
    with tempfile.TemporaryDirectory(prefix="lgsec-run-") as private, Interrupt() as interrupt:
        # how often ansible-runner asks Interrupt.cancel (its default: every 5 s)
        Path(private, "env").mkdir()
        Path(private, "env", "settings").write_text(f"pexpect_timeout: {PEXPECT_TIMEOUT}\n", encoding="utf-8")
        thread, runner = ansible_runner.run_async(
            private_data_dir=private,
            project_dir=str(ROOT),
            playbook=str(ROOT / "playbooks" / playbook),
            inventory=str(Path(inventory).resolve()),
            extravars=extravars,
            limit=limit,
            envvars=env,
            quiet=quiet,
            suppress_env_files=True,
            cmdline=shlex.join([*vault_args(vault_file), *extra_args]) or None,
            cancel_callback=interrupt.cancel,
            **runner_options,
        )
        try:
            if meanwhile:
                meanwhile()
        except BaseException:
            interrupt.stop()
            raise
        finally:
            thread.join()
            if interrupt.count:
                interrupt.end_leftovers()
        stdout = runner.stdout.read() if runner.stdout else ""
        return (EXIT_INTERRUPTED if interrupt.count else runner.rc), stdout


def vault_args(vault_file: str | None) -> list[str]:
    return ["--vault-password-file", str(Path(vault_file).resolve())] if vault_file else []
