"""The one iCalendar (RFC 5545) writer: feeds, exports and meeting invitations; pure functions, no Flask.

Everything goes through the `icalendar` library (escaping, folding at 75 octets without splitting a
character, parameter quoting); callers hand over plain values.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

PRODID = "-//minutes//会议纪要系统//ZH"
#: The company's time zone: invitations carry local times with this TZID and its VTIMEZONE.
TZID = "Asia/Shanghai"
LOCAL = ZoneInfo(TZID)
#: The VTIMEZONE covers the years a meeting may be in (the planning form allows 2000–2100).
_TZ_FIRST, _TZ_LAST = date(2000, 1, 1), date(2100, 12, 31)


def new_calendar(method: str | None = None, name: str | None = None, **properties) -> Calendar:
    """An empty VCALENDAR: PRODID, VERSION 2.0, GREGORIAN, the METHOD (PUBLISH, REQUEST, CANCEL) and `name`."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for key, value in properties.items():
        cal.add(key.replace("_", "-"), value)
    return cal


def alarm(trigger: timedelta, text: str) -> Alarm:
    """A display reminder `trigger` from the event's start (negative: before it)."""
    item = Alarm()
    item.add("action", "DISPLAY")
    item.add("description", text)
    item.add("trigger", trigger)
    return item


def deadline_event(uid: str, day: date, summary: str, stamp: datetime, description: str = "", url: str = "",
                   reminder: Alarm | None = None, categories: list[str] | None = None) -> Event:
    """An all-day, transparent (free) event on `day`: an action's deadline."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    event.add("transp", "TRANSPARENT")
    if categories:
        event.add("categories", categories)
    if reminder is not None:
        event.add_component(reminder)
    return event


def timed_event(uid: str, starts: datetime, ends: datetime, summary: str, stamp: datetime, location: str = "",
                description: str = "", url: str = "", reminder: Alarm | None = None, local: bool = False) -> Event:
    """A timed event; `local`: times in Asia/Shanghai with a TZID (else UTC, ending in Z)."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts.astimezone(LOCAL) if local else starts)
    event.add("dtend", ends.astimezone(LOCAL) if local else ends)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    if reminder is not None:
        event.add_component(reminder)
    return event


@functools.cache
def _local_vtimezone() -> Timezone:
    """Asia/Shanghai's VTIMEZONE, computed once (about 27 ms each time otherwise); only ever serialized."""
    return Timezone.from_tzinfo(LOCAL, tzid=TZID, first_date=_TZ_FIRST, last_date=_TZ_LAST)


def to_bytes(cal: Calendar) -> bytes:
    """The calendar as iCalendar bytes (UTF-8, CRLF, folded), with the VTIMEZONE of every TZID it uses."""
    if TZID in cal.get_missing_tzids():
        cal.subcomponents.insert(len(cal.timezones), _local_vtimezone())
    cal.add_missing_timezones(first_date=_TZ_FIRST, last_date=_TZ_LAST)
    return cal.to_ical()


def uid_host(base_url: str) -> str:
    """The host name that makes UIDs unique to this installation (from its base URL)."""
    return base_url.split("://", 1)[-1].split("/", 1)[0] or "minutes"


def meeting_uid(meeting_id: int, host: str) -> str:
    """A meeting's UID: the same in the feed, the export and every invitation, update and cancellation."""
    return f"meeting-{meeting_id}@{host}"


# --- invitations (iTIP, RFC 5546) ------------------------------------------------------------

#: ROLE of each kind of invitee (RFC 5545 3.2.16); 抄送 is "copied for information purposes only".
ROLES = {"host": "CHAIR", "recorder": "REQ-PARTICIPANT", "participant": "REQ-PARTICIPANT", "cc": "NON-PARTICIPANT"}


@dataclass
class Person:
    """Someone in an invitation: a name, an address and (for attendees) the kind of invitee (a ROLES key)."""

    name: str
    email: str
    kind: str = "participant"


def _address(person: Person, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = value
    return address


def invitation(method: str, uid: str, sequence: int, starts: datetime, ends: datetime, summary: str,
               organizer: Person, attendees: list[Person], stamp: datetime, location: str = "",
               online_link: str = "", description: str = "", url: str = "", sent_by: str = "") -> bytes:
    """A meeting request (`METHOD:REQUEST`, also for an update with a higher `sequence`) or its cancellation
    (`METHOD:CANCEL`, STATUS:CANCELLED), times in Asia/Shanghai.

    The online link is the event's URL (where clients show a "join" button) and also stands in the
    description, which some clients show alone. `sent_by`: the mailbox that sends on the organizer's behalf.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    cal = new_calendar(method)
    text = "\n".join(part for part in (description, online_link and f"线上会议：{online_link}", url and f"会议详情：{url}")
                     if part)
    event = timed_event(uid, starts, ends, summary, stamp, location=location, description=text,
                        url=online_link or url, local=True)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer, **({"sent_by": f"mailto:{sent_by}"} if sent_by else {})))
    for person in attendees:
        chair = person.kind == "host"
        rsvp = method == "REQUEST" and not chair and person.kind != "cc"
        event.add("attendee", _address(person, cutype="INDIVIDUAL", role=ROLES.get(person.kind, "REQ-PARTICIPANT"),
                                       partstat="ACCEPTED" if chair else "NEEDS-ACTION",
                                       rsvp="TRUE" if rsvp else "FALSE"))
    if method == "REQUEST":
        event.add_component(alarm(timedelta(minutes=-15), f"会议即将开始：{summary}"))
    cal.add_component(event)
    return to_bytes(cal)


def method_of(ics: str | bytes) -> str | None:
    """The METHOD of an iCalendar text (for the e-mail's text/calendar part), None without one."""
    text = ics.decode("utf-8", "replace") if isinstance(ics, bytes) else ics
    for line in text.split("\r\n"):
        if line.startswith("METHOD:"):
            return line[len("METHOD:"):].strip() or None
        if line.startswith("BEGIN:V") and line != "BEGIN:VCALENDAR":
            return None
    return None
