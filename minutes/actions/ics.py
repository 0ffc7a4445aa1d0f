"""iCalendar (RFC 5545) for a person's action deadlines and meetings; pure functions, no Flask."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def _escape(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n") \
        .replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def build_calendar(name: str, actions: list, meetings: list, base_url: str, host: str, now: datetime,
                   status_label=lambda a: a.status.label, topic=lambda a: a.meeting.topic) -> str:
    """Render the feed: one all-day event per action deadline, one timed event per meeting."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//minutes//会议纪要系统//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(name)}", "X-WR-TIMEZONE:Asia/Shanghai",
             "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    stamp = _stamp(now)
    for action in actions:
        day: date = action.due_date
        link = f"{base_url}/actions/{action.id}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:action-{action.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape('【待办截止】' + action.text)}",
            f"DESCRIPTION:{_escape(f'状态：{status_label(action)}' + chr(10) + f'来源会议：{topic(action)}' + chr(10) + link)}",
            f"URL:{link}",
            "TRANSP:TRANSPARENT",
            "BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{_escape('待办今天截止：' + action.text)}",
            "TRIGGER:PT9H", "END:VALARM",
            "END:VEVENT",
        ]
    for meeting in meetings:
        link = f"{base_url}/meetings/{meeting.id}"
        where = meeting.location or ("线上会议" if meeting.online_link else "")
        lines += [
            "BEGIN:VEVENT",
            f"UID:meeting-{meeting.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_stamp(meeting.starts_at)}",
            f"DTEND:{_stamp(meeting.ends_at)}",
            f"SUMMARY:{_escape(meeting.topic)}",
            f"LOCATION:{_escape(where)}",
            f"DESCRIPTION:{_escape(f'核心目标：{meeting.goal}' + chr(10) + (meeting.online_link + chr(10) if meeting.online_link else '') + link)}",
            f"URL:{link}",
            "BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{_escape('会议即将开始：' + meeting.topic)}",
            "TRIGGER:-PT15M", "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
