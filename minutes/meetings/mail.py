"""The agenda e-mail and the meeting's calendar invitation, composed from the values the sending hands over."""
from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import gettext

from minutes.core import ical
from minutes.core.timefmt import cn_date


def agenda_email(meeting, recipient, role, link: str, budget, late: bool, reason: str) -> tuple[str, str, str]:
    """The agenda for one invited person: (subject, text, html)."""
    context = dict(meeting=meeting, recipient=recipient, role=role, link=link, budget=budget, late=late, reason=reason)
    return (gettext("【会议议程】%(topic)s（%(day)s）", topic=meeting.topic, day=cn_date(meeting.starts_at)),
            render_template("meetings/email_agenda.txt", **context),
            render_template("meetings/email_agenda.html", **context))


def notice_email(meeting, recipient, kind: str, changes: list[tuple[str, str, str]], link: str) -> tuple[str, str, str]:
    """About a meeting whose agenda went out: a change of time or place (`kind` "change", `changes`: (what,
    before, after)), its cancellation ("cancel") or the recipient's invitation withdrawn ("withdrawn"):
    (subject, text, html)."""
    context = dict(meeting=meeting, recipient=recipient, kind=kind, changes=changes, link=link)
    values = dict(topic=meeting.topic, day=cn_date(meeting.starts_at))
    if kind == "cancel":
        subject = gettext("【会议取消】%(topic)s（%(day)s）", **values)
    elif kind == "withdrawn":
        subject = gettext("【邀请撤回】%(topic)s（%(day)s）", **values)
    else:
        subject = gettext("【会议变更】%(topic)s（%(day)s）", **values)
    return (subject,
            render_template("meetings/email_notice.txt", **context),
            render_template("meetings/email_notice.html", **context))


def invitation(meeting, method: str, attendees: list, link: str, uid_host: str, sender: str, now: datetime) -> bytes:
    """The meeting as an iTIP message: REQUEST (the invitation and its updates) or CANCEL; `attendees`: the
    (user, role) invited, each with an e-mail address. The organizer is the host; the system sends for them."""
    host = meeting.host or meeting.created_by
    organizer = ical.Person(host.name, host.email or sender)
    agenda = "\n".join(gettext("%(no)s. %(title)s（%(minutes)s分钟）", no=item.position, title=item.title,
                                minutes=item.minutes) for item in meeting.agenda_items)
    description = gettext("核心目标：%(goal)s", goal=meeting.goal)
    if agenda:
        description += gettext("\n议程：\n%(agenda)s", agenda=agenda)
    return ical.invitation(
        method, ical.meeting_uid(meeting.id, uid_host), meeting.calendar_sequence, meeting.starts_at,
        meeting.ends_at, meeting.topic, organizer,
        [ical.Person(user.name, user.email, role.value) for user, role in attendees], now,
        location=meeting.location or (gettext("线上会议") if meeting.online_link else ""), online_link=meeting.online_link,
        description=description, url=link, sent_by=sender if sender != organizer.email else "")
