"""The messages about actions, composed from plain values: a status change (delay asked, support needed) — the
e-mail to the host or a supporting department's head and the supporting department's IM message — and the
reminder run's e-mails, robot posts and subjects."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext

from minutes.actions.models import ActionStatus
from minutes.core.timefmt import cn_date
from minutes.notify import service as notify


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def reminder_subject(stage: str, text: str, due, owner_name: str, overdue_days: int) -> str:
    """The subject of a reminder (stage: before, due, overdue_k, escalate) of the action `text` due on `due`."""
    short = _short(text)
    if stage == "before":
        return gettext("【待办提醒】%(text)s（%(due)s到期）", text=short, due=cn_date(due, weekday=False))
    if stage == "due":
        return gettext("【待办今日到期】%(text)s", text=short)
    if stage == "escalate":
        return gettext("【需协调】%(owner)s的待办已逾期%(days)s个工作日：%(text)s", owner=owner_name, days=overdue_days,
                       text=short)
    return gettext("【待办已逾期·请更新进展】%(text)s（已逾期%(days)s个工作日）", text=short, days=overdue_days)


class ReminderTexts:
    """The reminder run's message bodies, their templates loaded once per run (thousands of messages)."""

    def __init__(self):
        env = current_app.jinja_env
        self._text = env.get_template("actions/email_reminder.txt")
        self._html = env.get_template("actions/email_reminder.html")
        self._im = env.get_template("actions/im_reminder.txt")

    def email(self, context: dict) -> tuple[str, str]:
        """(text, html) of the e-mail to one person; `context` names the recipient and the topic they may read."""
        return self._text.render(context), self._html.render(context)

    def robot(self, context: dict) -> str:
        """The post to a department's group robot."""
        return self._im.render(context).strip()


def status_email(update, action, meeting, recipient, role: str, link: str) -> tuple[str, str]:
    """The e-mail telling `recipient` (the host, or a supporting department's head) about `update`: (subject, text)."""
    short = _short(action.text)
    if update.new_status == ActionStatus.DELAYED:
        subject = gettext("【待办延期】%(owner)s申请将“%(text)s”延期至%(due)s", owner=action.owner.name, text=short,
                          due=cn_date(update.new_due, weekday=False))
    else:
        subject = gettext("【需支持】%(owner)s的待办“%(text)s”需要%(department)s支持", owner=action.owner.name,
                          text=short, department=update.support_department.name)
    return subject, render_template("actions/email_status.txt", update=update, action=action, meeting=meeting,
                                    recipient=recipient, role=role, link=link)


def support_im(update, action) -> tuple[str, str]:
    """The supporting department's IM message about a call for support: (title, text)."""
    im = notify.im_text
    quoted = "\n> ".join(im(action.text).splitlines())
    text = gettext("**%(owner)s**（%(department)s）的待办需要%(supporter)s支持：\n\n> %(text)s\n\n"
                   "需要的支持：%(note)s\n截止日期：%(due)s", owner=im(action.owner.name),
                   department=im(action.owner_department.name), supporter=im(update.support_department.name),
                   text=quoted, note=im(update.note), due=cn_date(action.due_date))
    return gettext("【需支持】%(text)s", text=im(_short(action.text))), text
