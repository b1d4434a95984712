"""Ctrl-C during a run (lgsec.runner.Interrupt): passed on to ansible-playbook, signalled again when
it does not stop, cancelled when that does not stop it either; bad input found while Ansible
starts stops the run. The live proof is tests/faults/test_host_faults.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from lgsec import runner

# A stand-in for ansible-playbook that ignores SIGINT (counts them on stdout) or ends on it.
STUBBORN = "import signal, sys, time\nsignal.signal(signal.SIGINT, lambda *a: print('INT', flush=True))\ntime.sleep(30)"


@pytest.fixture
def child(monkeypatch):
    procs = []

    def start(code: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        monkeypatch.setattr(runner, "child_pids", lambda: [p.pid for p in procs if p.poll() is None])
        time.sleep(0.3)  # its handler is in place
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_the_first_ctrl_c_is_passed_on_and_a_run_that_ends_is_not_cancelled(child):
    proc = child("import time\ntime.sleep(30)")  # Python's default: SIGINT ends it
    with runner.Interrupt() as interrupt:
        signal.raise_signal(signal.SIGINT)
        assert proc.wait(timeout=5) != 0 and interrupt.count == 1
        assert interrupt.cancel() is False


def test_a_run_that_ignores_the_signal_gets_it_again_then_is_cancelled(child, monkeypatch):
    monkeypatch.setattr(runner.Interrupt, "GRACE", 0.2)
    proc = child(STUBBORN)
    with runner.Interrupt() as interrupt:
        signal.raise_signal(signal.SIGINT)
        assert interrupt.cancel() is False  # within the grace time: wait
        time.sleep(0.3)
        assert interrupt.cancel() is False and len(interrupt.sent) == 2  # signalled again
        time.sleep(0.3)
        assert interrupt.cancel() is True  # ansible-runner kills it
    proc.kill()
    assert proc.communicate()[0].split() == ["INT", "INT"]


def test_a_second_ctrl_c_cancels_at_once(child):
    child(STUBBORN)
    with runner.Interrupt() as interrupt:
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert interrupt.cancel() is True


def test_bad_input_before_ansible_playbook_exists_cancels_the_run(monkeypatch):
    monkeypatch.setattr(runner, "child_pids", lambda: [])
    interrupt = runner.Interrupt()
    interrupt.stop()
    assert interrupt.cancel() is True


def test_the_signal_handlers_are_put_back():
    before = signal.getsignal(signal.SIGINT)
    with runner.Interrupt():
        assert signal.getsignal(signal.SIGINT) != before
    assert signal.getsignal(signal.SIGINT) == before


def test_what_a_stopped_run_leaves_behind_is_ended():
    """Like an Ansible worker outliving a killed ansible-playbook: a process in a session of its
    own whose parent has gone. lgsec adopts it (subreaper) and ends it after the stopped run."""
    sleeper = "[sys.executable, '-c', 'import time; time.sleep(60)']"
    orphan = (
        "import subprocess, sys; "
        f"print(subprocess.Popen({sleeper}, start_new_session=True, stdout=-3, stderr=-3).pid)"  # -3: DEVNULL
    )
    with runner.Interrupt() as interrupt:
        pid = int(subprocess.run([sys.executable, "-c", orphan], capture_output=True, text=True, check=True).stdout)
        time.sleep(0.2)
        assert pid in runner.child_pids()  # adopted
        interrupt.count = 1
        interrupt.end_leftovers()
        assert pid not in runner.child_pids()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
