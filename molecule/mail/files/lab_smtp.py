#!/usr/bin/env python3
"""The lab's outside mail client: one SMTP session as a JSON request says, every reply recorded.

  lab_smtp.py '{"server": "mail-d12", "port": 25, "from": "a@outside.test", "to": ["b@outside.test"],
                "starttls": false, "user": "", "password": "", "size": 0, "attach": "", "subject": "…",
                "messages": 1}'

Prints JSON: the EHLO extensions, then one list of steps per message ({"step", "code", "reply"}),
stopping a message at its first refusal (4xx/5xx). "size" pads the body to that many bytes;
"attach" adds that file as a base64 attachment; "messages" sends that many in the one session.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import sys
from email.message import EmailMessage
from pathlib import Path


def message(req: dict, number: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = req["from"], ", ".join(req["to"])
    msg["Subject"] = f"{req.get('subject', 'lgsec lab')} #{number}"
    msg.set_content(req.get("subject", "lgsec lab") + "\n" + "x" * max(0, req.get("size", 0)) + "\n")
    if req.get("attach"):
        data = Path(req["attach"]).read_bytes()
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=Path(req["attach"]).name)
    return msg.as_bytes()


def send(smtp: smtplib.SMTP, req: dict, number: int) -> list[dict]:
    steps = []

    def step(name: str, reply: tuple[int, bytes]) -> bool:
        code, text = reply
        steps.append({"step": name, "code": code, "reply": text.decode(errors="replace")})
        return code < 400

    body = message(req, number)
    if not step("MAIL", smtp.mail(req["from"])):
        smtp.rset()
        return steps
    accepted = [step(f"RCPT {rcpt}", smtp.rcpt(rcpt)) for rcpt in req["to"]]
    if not any(accepted):
        smtp.rset()
        return steps
    try:
        step("DATA", smtp.data(body))
    except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
        step("DATA", (exc.smtp_code, exc.smtp_error))
    return steps


def main() -> None:
    req = json.loads(sys.argv[1])
    out: dict = {"messages": []}
    with smtplib.SMTP(req["server"], req.get("port", 25), timeout=60) as smtp:
        smtp.ehlo("client.outside.test")
        out["ehlo"] = sorted(smtp.esmtp_features)
        if req.get("starttls"):
            smtp.starttls(context=ssl._create_unverified_context())  # the lab's self-signed certificate
            smtp.ehlo("client.outside.test")
            out["ehlo_tls"] = sorted(smtp.esmtp_features)
        if req.get("user"):
            try:
                smtp.login(req["user"], req["password"])
                out["auth"] = 235
            except smtplib.SMTPException as exc:
                out["auth"] = getattr(exc, "smtp_code", 0)
        for number in range(req.get("messages", 1)):
            try:
                out["messages"].append(send(smtp, req, number))
            except smtplib.SMTPServerDisconnected as exc:
                out["messages"].append([{"step": "disconnected", "code": 421, "reply": str(exc)}])
                break
    print(json.dumps(out))


if __name__ == "__main__":
    main()
