"""E-mail on the wire: the MIME bytes of an outbox message and the SMTP connection that sends them.

The delivery worker (minutes/notify/delivery.py) claims the messages and records what happened; this module only
builds and sends.
"""
from __future__ import annotations

import base64
import re
import secrets
import smtplib
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid

from flask import current_app
from flask_babel import gettext

from minutes.core.ical import method_of
from minutes.core.timefmt import utcnow

CRLF = "\r\n"

#: The name of the invitation attached to an e-mail (what Outlook, Feishu and DingTalk mail show and import).
INVITATION_FILE = "invite.ics"


def build_email(msg, sender: str, domain: str) -> bytes:
    """The message as MIME bytes: UTF-8, base64 bodies, text and (optionally) HTML alternatives.

    With a calendar invitation, the way Outlook expects it: multipart/mixed of the alternatives (text,
    HTML, then text/calendar with its METHOD) and the same invitation as an .ics attachment for clients
    that only import attachments.

    Built by hand rather than with `email.message.EmailMessage`, which costs a millisecond or two per
    message — at thousands of reminders a morning that is most of the tick.
    """
    if any(c in value for value in (msg.recipient, msg.subject) for c in "\r\n"):
        raise ValueError(gettext("收件人或主题包含换行符（疑似邮件头注入），不予发送"))
    boundary = f"=_minutes_{msg.id}_{secrets.token_hex(8)}"
    head = [
        f"From: {formataddr((gettext('会议纪要系统'), sender), charset='utf-8')}",
        f"To: {msg.recipient}",
        "Subject: " + Header(msg.subject, "utf-8").encode(linesep=CRLF),
        f"Date: {format_datetime(utcnow())}",
        f"Message-ID: {make_msgid(idstring=f'outbox{msg.id}', domain=domain)}",
        "MIME-Version: 1.0",
    ]

    def base64_body(data: bytes) -> str:
        return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")

    def part(text: str, subtype: str, params: str = "") -> str:
        return (f"Content-Type: text/{subtype}; charset=\"utf-8\"{params}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64_body(text.encode("utf-8")))

    def multipart(kind: str, mark: str, parts: list[str]) -> str:
        return (f'Content-Type: multipart/{kind}; boundary="{mark}"\r\n\r\n'
                + "".join(f"--{mark}\r\n{p}\r\n" for p in parts) + f"--{mark}--\r\n")

    alternatives = [part(msg.body_text, "plain")]
    if msg.body_html:
        alternatives.append(part(msg.body_html, "html"))
    if msg.calendar:
        method = method_of(msg.calendar)
        if method not in ("REQUEST", "CANCEL", "PUBLISH"):
            raise ValueError(gettext("日历邀请缺少有效的 METHOD，不予发送"))
        alternatives.append(part(msg.calendar, "calendar", f"; method={method}"))
        attachment = (f'Content-Type: application/ics; name="{INVITATION_FILE}"\r\n'
                      f'Content-Disposition: attachment; filename="{INVITATION_FILE}"\r\n'
                      "Content-Transfer-Encoding: base64\r\n\r\n" + base64_body(msg.calendar.encode("utf-8")))
        body = multipart("mixed", boundary, [multipart("alternative", boundary + "_alt", alternatives), attachment])
    elif len(alternatives) > 1:
        body = multipart("alternative", boundary, alternatives)
    else:
        return ("\r\n".join(head) + "\r\n" + alternatives[0]).encode("ascii")
    return ("\r\n".join(head) + "\r\n" + body).encode("ascii")


class Smtp(smtplib.SMTP):
    """smtplib with RFC 2920 PIPELINING when the server offers it: two round trips per message, not four."""

    def send_one(self, sender: str, recipient: str, data: bytes) -> None:
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("pipelining"):
            self.sendmail(sender, [recipient], data)
            return
        self.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
        (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = (self.getreply() for _ in range(3))
        if data_code == 354 and mail_code == 250 and rcpt_code in (250, 251):
            body = re.sub(rb"(?m)^\.", b"..", data)
            self.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
            code, reply = self.getreply()
            if code != 250:
                self.rset()
                raise smtplib.SMTPDataError(code, reply)
            return
        if data_code == 354:  # the envelope failed yet DATA was accepted: end it empty, then reset
            self.send(b".\r\n")
            self.getreply()
        self.rset()
        if mail_code != 250:
            raise smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        if rcpt_code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (rcpt_code, rcpt_reply)})
        raise smtplib.SMTPDataError(data_code, data_reply)


class DevMailbox:
    """Local-mailbox mode (`make run`, MAIL_DEV_MAILBOX=1): a message that would be sent counts as delivered and
    its outbox row is the mailbox (/dev/mailbox shows it); one a real server would refuse fails the same way."""

    def send_one(self, sender: str, recipient: str, data: bytes) -> None:
        return None

    def quit(self) -> None:
        return None


def connect() -> Smtp | DevMailbox:
    cfg = current_app.config
    if cfg.get("MAIL_DEV_MAILBOX"):
        return DevMailbox()
    smtp = Smtp(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=15)
    if cfg["SMTP_STARTTLS"]:
        smtp.starttls()
    if cfg["SMTP_USER"]:
        smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
    return smtp


#: Refusals of one message; the connection is still good for the next one.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                    smtplib.SMTPNotSupportedError, UnicodeError, ValueError)


def close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except Exception:  # already gone; closing is best effort  # nosec B110
            pass
    return None
