"""The e-mails of the minutes, composed from the values the sign-off hands over: the ask to confirm a
version, the note to the recorder about a requested change, the final/correction notice."""
from __future__ import annotations

from flask import render_template

from minutes.records import render


def ask_email(meeting, version, recipient, due_on, link: str, because, revised: bool) -> tuple[str, str, str]:
    """Ask `recipient` to confirm a version (or a revised one): (subject, text, html)."""
    context = dict(meeting=meeting, version=version, recipient=recipient, due_on=due_on, link=link,
                   because=because, revised=revised, body_html=render.markdown_html(version.body),
                   decisions=version.decisions, actions=version.actions, render=render)
    subject = ("【会议纪要已修订，请重新确认】" if revised else "【会议纪要待确认】") + \
        f"{meeting.topic}（{version.label}）"
    return subject, render_template("records/email_ask.txt", **context), \
        render_template("records/email_ask.html", **context)


def change_email(meeting, version, answer, recorder, link: str) -> tuple[str, str]:
    """Tell the recorder about a requested change: (subject, text)."""
    context = dict(meeting=meeting, version=version, answer=answer, recorder=recorder, link=link)
    subject = f"【纪要修改意见】{answer.user.name}对“{meeting.topic}”{version.label}提出修改意见"
    return subject, render_template("records/email_change.txt", **context)


def final_email(meeting, version, recipient, link: str, what: str, diff_link: str | None) -> tuple[str, str]:
    """Tell `recipient` a version is final (`what` "final") or a correction is out: (subject, text)."""
    context = dict(meeting=meeting, version=version, recipient=recipient, link=link, what=what, diff_link=diff_link)
    subject = ("【会议纪要已定稿】" if what == "final" else "【会议纪要更正】") + f"{meeting.topic}（{version.label}）"
    return subject, render_template("records/email_final.txt", **context)
