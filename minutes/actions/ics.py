"""A person's calendar feed: action deadlines and meetings, written by `minutes.core.ical`; no Flask."""
from __future__ import annotations

from datetime import datetime, timedelta

from minutes.core import ical


def build_calendar(name: str, actions: list, meetings: list, host: str, now: datetime, action_link, meeting_link,
                   status_label=lambda a: a.status.label, topic=lambda a: a.meeting.topic) -> str:
    """Render the feed: one all-day event per action deadline, one timed event per meeting (links from the callers)."""
    cal = ical.new_calendar("PUBLISH", name, x_wr_timezone=ical.TZID, x_published_ttl="PT1H")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for action in actions:
        link = action_link(action)
        cal.add_component(ical.deadline_event(
            f"action-{action.id}@{host}", action.due_date, "【待办截止】" + action.text, now,
            description=f"状态：{status_label(action)}\n来源会议：{topic(action)}\n{link}", url=link,
            reminder=ical.alarm(timedelta(hours=9), "待办今天截止：" + action.text)))
    for meeting in meetings:
        link = meeting_link(meeting)
        where = meeting.location or ("线上会议" if meeting.online_link else "")
        online = meeting.online_link + "\n" if meeting.online_link else ""
        cal.add_component(ical.timed_event(
            ical.meeting_uid(meeting.id, host), meeting.starts_at, meeting.ends_at, meeting.topic, now, location=where,
            description=f"核心目标：{meeting.goal}\n{online}{link}", url=link,
            reminder=ical.alarm(timedelta(minutes=-15), "会议即将开始：" + meeting.topic)))
    return ical.to_bytes(cal).decode("utf-8")
