"""The agenda e-mail, composed from the values the agenda sending hands over."""
from __future__ import annotations

from flask import render_template

from minutes.core.timefmt import cn_date


def agenda_email(meeting, recipient, role, link: str, budget, late: bool, reason: str) -> tuple[str, str, str]:
    """The agenda for one invited person: (subject, text, html)."""
    context = dict(meeting=meeting, recipient=recipient, role=role, link=link, budget=budget, late=late, reason=reason)
    return (f"【会议议程】{meeting.topic}（{cn_date(meeting.starts_at)}）",
            render_template("meetings/email_agenda.txt", **context),
            render_template("meetings/email_agenda.html", **context))
