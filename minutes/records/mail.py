"""The e-mails of the minutes, composed from the values the sign-off hands over: the ask to confirm a
version, the note to the recorder about a requested change, the final/correction notice."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext

from minutes.records import render


def ask_email(meeting, version, recipient, due_on, link: str, because, revised: bool) -> tuple[str, str, str]:
    """Ask `recipient` to confirm a version (or a revised one): (subject, text, html)."""
    context = dict(meeting=meeting, version=version, recipient=recipient, due_on=due_on, link=link,
                   because=because, revised=revised, body_html=render.markdown_html(version.body),
                   decisions=version.decisions, actions=version.actions, render=render)
    if revised:
        subject = gettext("【会议纪要已修订，请重新确认】%(topic)s（%(version)s）", topic=meeting.topic, version=version.label)
    else:
        subject = gettext("【会议纪要待确认】%(topic)s（%(version)s）", topic=meeting.topic, version=version.label)
    return subject, render_template("records/email_ask.txt", **context), \
        render_template("records/email_ask.html", **context)


def change_email(meeting, version, answer, recorder, link: str) -> tuple[str, str]:
    """Tell the recorder about a requested change: (subject, text)."""
    context = dict(meeting=meeting, version=version, answer=answer, recorder=recorder, link=link)
    subject = gettext("【纪要修改意见】%(name)s对“%(topic)s”%(version)s提出修改意见", name=answer.user.name,
                      topic=meeting.topic, version=version.label)
    return subject, render_template("records/email_change.txt", **context)


def final_email(meeting, version, recipient, link: str, what: str, diff_link: str | None) -> tuple[str, str]:
    """Tell `recipient` a version is final (`what` "final") or a correction is out: (subject, text)."""
    context = dict(meeting=meeting, version=version, recipient=recipient, link=link, what=what, diff_link=diff_link)
    if what == "final":
        subject = gettext("【会议纪要已定稿】%(topic)s（%(version)s）", topic=meeting.topic, version=version.label)
    else:
        subject = gettext("【会议纪要更正】%(topic)s（%(version)s）", topic=meeting.topic, version=version.label)
    return subject, render_template("records/email_final.txt", **context)


def minutes_overdue_email(meeting, lead, due_at: str, link: str) -> tuple[str, str]:
    """Tell the recorder or the host the minutes are not out 24 hours after the meeting: (subject, text)."""
    return gettext("【纪要已逾期】%(topic)s", topic=meeting.topic), gettext(
        "%(name)s，您好：\n\n“%(topic)s”的会议纪要应于%(due)s前（会后24小时内）发出，目前尚未发出。\n\n%(link)s"
        "\n\n—— 会议纪要系统", name=lead.name, topic=meeting.topic, due=due_at, link=link)


def answer_overdue_email(version, user, due_on: str, link: str) -> tuple[str, str]:
    """Tell a recipient their answer is past its working day: (subject, text)."""
    topic = version.meeting.topic
    return gettext("【纪要确认已逾期】%(topic)s（%(version)s）", topic=topic, version=version.label), gettext(
        "%(name)s，您好：\n\n“%(topic)s”会议纪要（%(version)s）请您于%(due)s当天内回复，目前尚未收到您的回复。"
        "请确认无误或提出修改意见：\n%(link)s\n\n—— 会议纪要系统", name=user.name, topic=topic, version=version.label,
        due=due_on, link=link)
