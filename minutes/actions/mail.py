"""The messages about an action's status change (delay asked, support needed), composed from plain values:
the e-mail to the host or a supporting department's head, and the supporting department's IM message."""
from __future__ import annotations

from flask import render_template

from minutes.actions.models import ActionStatus
from minutes.core.timefmt import cn_date
from minutes.notify import service as notify


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def status_email(update, action, meeting, recipient, role: str, link: str) -> tuple[str, str]:
    """The e-mail telling `recipient` (the host, or a supporting department's head) about `update`: (subject, text)."""
    short = _short(action.text)
    if update.new_status == ActionStatus.DELAYED:
        subject = f"【待办延期】{action.owner.name}申请将“{short}”延期至{cn_date(update.new_due, weekday=False)}"
    else:
        subject = f"【需支持】{action.owner.name}的待办“{short}”需要{update.support_department.name}支持"
    return subject, render_template("actions/email_status.txt", update=update, action=action, meeting=meeting,
                                    recipient=recipient, role=role, link=link)


def support_im(update, action) -> tuple[str, str]:
    """The supporting department's IM message about a call for support: (title, text)."""
    im = notify.im_text
    quoted = "\n> ".join(im(action.text).splitlines())
    text = (f"**{im(action.owner.name)}**（{im(action.owner_department.name)}）的待办需要"
            f"{im(update.support_department.name)}支持：\n\n> {quoted}\n\n需要的支持：{im(update.note)}\n"
            f"截止日期：{cn_date(action.due_date)}")
    return f"【需支持】{im(_short(action.text))}", text
