"""roles/mail_server on real Debian 12 and 13 Postfix servers, proved with real SMTP sessions.

Run by `molecule verify -s mail` (testinfra over podman://mail-d12, podman://mail-d13) after
prepare (an open relay without TLS, a .forward to an outside address, the relay attempt and the
audit BEFORE hardening), converge and idempotence. Every SMTP session comes from mail-client, a
third container on the scenario's network and outside mynetworks (files/lab_smtp.py, Python's
smtplib). Figures come from the role's defaults and the scenario's inventory, never from this file.
The rate-limit burst runs last: it uses up the client's allowance for the minute.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import testinfra
from lgsec_lab import EPHEMERAL, assert_status, audit, audit_before, hostvars, scenario, sh

CONTROLS = scenario()["provisioner"]["inventory"]["group_vars"]["mailservers"]["lgsec_controls"]
DOMAIN = "soraku.lg.jp"  # the union's domain (prepare: mydestination)
OUTSIDE = "outside.test"
PASSWORD = "Lab-passw0rd"  # the lab users' password (prepare)
SAMPLE = "/usr/local/lib/lab-sample.txt"  # the antivirus scenario's harmless sample, in the client
# Why each control fails on the open-relay fixture (prepare); MAIL-SIZE-LIMIT passes before:
# Debian's message_size_limit (10240000) is within the catalog's cap.
BEFORE = {
    "MAIL-NO-RELAY": "mynetworks 0.0.0.0/0 is not within the approved networks",
    "MAIL-MAILBOX-LIMIT": "mailbox_size_limit = '0': no limit",
    "MAIL-TLS": "smtpd_tls_security_level = 'none'",
    "MAIL-RATE-LIMIT": "smtpd_client_message_rate_limit = 0 (no limit)",
    "MAIL-NO-AUTOFORWARD": ".forward /home/tanaka/.forward -> tanaka@outside.test",
    "AV-GATEWAY": "clamav-milter is not configured",
}


@pytest.fixture(scope="module")
def client():
    return testinfra.get_host("podman://mail-client")


def smtp(client, server: str, **request) -> dict:
    """One SMTP session from the outside client (files/lab_smtp.py); its replies."""
    request = {"server": server, "from": f"someone@{OUTSIDE}", **request}
    result = client.run("python3 /usr/local/lib/lab_smtp.py " + _quote(json.dumps(request)))
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def last(reply: dict) -> dict:
    """The last step of the session's (first) message: where it was accepted or refused."""
    return reply["messages"][0][-1]


def mailbox_has(host, user: str, token: str, seconds: int = 30) -> bool:
    for _ in range(seconds):
        if token in sh(host, f"cat /var/mail/{user} 2>/dev/null").stdout:
            return True
        time.sleep(1)
    return False


def rows_after():
    return audit(EPHEMERAL / "after", "-l", "mailservers")


@pytest.fixture(scope="module")
def after():
    return rows_after()


# ---- before hardening: an open relay, and the audit says so -------------------------------------


def test_before_hardening_the_outside_client_relayed(host):
    reply = json.loads((EPHEMERAL / "before" / f"relay-{host.backend.name}.json").read_text(encoding="utf-8"))
    rcpt, data = reply["messages"][0][1], reply["messages"][0][-1]
    assert rcpt["step"] == "RCPT victim@elsewhere.test" and rcpt["code"] == 250, reply
    assert data["step"] == "DATA" and data["code"] == 250 and "queued" in data["reply"], reply


@pytest.mark.parametrize("control", BEFORE)
def test_audit_before_hardening_fails(host, control):
    row = assert_status(audit_before(), host, control, "fail")
    expected_reason = BEFORE[control]
    assert expected_reason in row["actual"], row["actual"]


# ---- after hardening: real SMTP ------------------------------------------------------------------


def test_relay_from_outside_is_refused(host, client):
    reply = smtp(client, host.backend.name, to=[f"victim@elsewhere.{OUTSIDE}"])
    step = last(reply)
    assert step["step"].startswith("RCPT") and step["code"] // 100 == 5, reply
    assert "Relay access denied" in step["reply"], reply


def test_starttls_offered_and_no_auth_on_port_25(host, client):
    reply = smtp(client, host.backend.name, to=[f"staff1@{DOMAIN}"], messages=0)
    assert "starttls" in reply["ehlo"] and "auth" not in reply["ehlo"], reply["ehlo"]


def test_local_delivery_still_works(host, client):
    token = uuid.uuid4().hex
    reply = smtp(client, host.backend.name, to=[f"staff1@{DOMAIN}"], subject=token, starttls=True)
    assert last(reply)["code"] == 250, reply
    assert mailbox_has(host, "staff1", token), "the message did not reach /var/mail/staff1"


def test_authenticated_submission_relays(host, client):
    """staff1 on port 587, after STARTTLS, with SASL: mail for an outside domain is accepted and
    queued (the lab holds it: defer_transports = smtp). Without AUTH the same is refused."""
    token = uuid.uuid4().hex
    to = [f"partner-{token}@{OUTSIDE}"]
    refused = smtp(client, host.backend.name, port=587, starttls=True, to=to)
    assert last(refused)["code"] // 100 == 5, refused
    reply = smtp(client, host.backend.name, port=587, starttls=True, user="staff1", password=PASSWORD, to=to)
    assert reply["auth"] == 235 and last(reply)["code"] == 250, reply
    queue = sh(host, "postqueue -j").stdout
    assert f"partner-{token}@{OUTSIDE}" in queue, queue


def test_submission_needs_tls_before_auth(host, client):
    reply = smtp(client, host.backend.name, port=587, to=[f"staff1@{DOMAIN}"], messages=0)
    assert "auth" not in reply["ehlo"] and "starttls" in reply["ehlo"], reply


def test_oversize_message_is_refused(host, client):
    limit = hostvars(host.backend.name, "mail_server")["lgsec_mail_size_limit_max_bytes"]
    reply = smtp(client, host.backend.name, to=[f"staff1@{DOMAIN}"], size=limit + 1024)
    step = last(reply)
    assert step["code"] == 552 and "5.3.4" in step["reply"], reply  # 5.3.4: message too big for the system


def test_test_virus_attachment_is_rejected(host, client):
    token = uuid.uuid4().hex
    reply = smtp(client, host.backend.name, to=[f"staff1@{DOMAIN}"], subject=token, attach=SAMPLE)
    step = last(reply)
    assert step["step"] == "DATA" and step["code"] // 100 == 5, reply
    assert not mailbox_has(host, "staff1", token, seconds=3)


def test_forward_to_outside_is_not_followed(host, client):
    """tanaka's .forward still says tanaka@outside.test, but local delivery no longer reads it."""
    assert "tanaka@outside.test" in host.file("/home/tanaka/.forward").content_string
    token = uuid.uuid4().hex
    reply = smtp(client, host.backend.name, to=[f"tanaka@{DOMAIN}"], subject=token, starttls=True)
    assert last(reply)["code"] == 250, reply
    assert mailbox_has(host, "tanaka", token), "the message was not delivered to tanaka's own mailbox"
    assert "tanaka@outside.test" not in sh(host, "postqueue -j").stdout


# ---- the audit after hardening -------------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_after_hardening_passes(host, after, control):
    row = assert_status(after, host, control, "pass")
    assert row["evidence"]


def test_audit_reports_the_disabled_forward(host, after):
    row = after[(host.backend.name, "MAIL-NO-AUTOFORWARD")]
    assert "/home/tanaka/.forward: tanaka@outside.test (ignored: forward_path is empty)" in row["evidence"]


# ---- last: a burst over the client's message rate ------------------------------------------------


def test_burst_over_the_rate_limit_is_throttled(host, client):
    rate = hostvars(host.backend.name, "mail_server")["lgsec_mail_rate_limit_client_message_rate"]
    reply = smtp(client, host.backend.name, to=[f"staff1@{DOMAIN}"], messages=rate + 5)
    codes = [message[-1]["code"] for message in reply["messages"]]
    assert 250 in codes, codes
    throttled = [message[-1] for message in reply["messages"] if message[-1]["code"] // 100 == 4]
    assert throttled and "too much mail" in throttled[0]["reply"].lower(), codes
    assert len([c for c in codes if c == 250]) <= rate
