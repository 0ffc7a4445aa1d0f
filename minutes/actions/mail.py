"""The messages about actions, composed from plain values: a status change (delay asked, support needed) — the
e-mail to the host or a supporting department's head and the supporting department's IM message — and the
reminder run's e-mails, robot posts and subjects."""
from __future__ import annotations

from flask import current_app, render_template

from minutes.actions.models import ActionStatus
from minutes.core.timefmt import cn_date
from minutes.notify import service as notify


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def reminder_subject(stage: str, text: str, due, owner_name: str, overdue_days: int) -> str:
    """The subject of a reminder (stage: before, due, overdue_k, escalate) of the action `text` due on `due`."""
    short = _short(text)
    if stage == "before":
        return f"【待办提醒】{short}（{cn_date(due, weekday=False)}到期）"
    if stage == "due":
        return f"【待办今日到期】{short}"
    if stage == "escalate":
        return f"【需协调】{owner_name}的待办已逾期{overdue_days}个工作日：{short}"
    return f"【待办已逾期·请更新进展】{short}（已逾期{overdue_days}个工作日）"


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
