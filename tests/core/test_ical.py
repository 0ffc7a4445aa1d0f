"""The one iCalendar writer: what it writes is read back the same by a second parser (vobject)."""
from datetime import datetime, timedelta, timezone

import pytest
import vobject

from minutes.core import ical

STAMP = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)
STARTS = datetime(2026, 6, 15, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
HOSTILE = '周会"\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:假会议;x=1,y:2'


def request(**overrides) -> str:
    values = dict(method="REQUEST", uid="meeting-7@minutes.test", sequence=3, starts=STARTS,
                  ends=STARTS + timedelta(minutes=90), summary=HOSTILE, organizer=ical.Person('赵"敏', "zhaomin@example.com"),
                  attendees=[ical.Person('李;四:"五"', "lisi@example.com", "recorder"),
                             ical.Person("孙\n七", "sunqi@example.com", "cc")],
                  stamp=STAMP, location="301会议室\r\nX-EVIL:1", online_link="https://meet.example.com/j/1?a=1&b=2",
                  description=HOSTILE, url="http://minutes.test/meetings/7", sent_by="minutes@example.com")
    values.update(overrides)
    return ical.invitation(**values).decode("utf-8")


def test_user_text_stays_inside_its_property_and_lines_are_folded_whole():
    text = request()
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = vobject.readOne(text)
    assert len(cal.contents["vevent"]) == 1
    event = cal.vevent
    assert event.summary.value == HOSTILE.replace("\r\n", "\n")
    assert event.location.value == "301会议室\nX-EVIL:1" and "x-evil" not in event.contents
    assert [a.value for a in event.attendee_list] == ["mailto:lisi@example.com", "mailto:sunqi@example.com"]
    assert event.organizer.value == "mailto:zhaomin@example.com"
    assert event.organizer.params["SENT-BY"] == ["mailto:minutes@example.com"]
    assert event.sequence.value == "3" and event.url.value == "https://meet.example.com/j/1?a=1&b=2"
    assert event.dtstart.value.utcoffset() == timedelta(hours=8) and event.dtstart.value.hour == 14
    assert ical.method_of(text) == "REQUEST"


def test_roles_rsvp_and_the_host_as_chair():
    cal = vobject.readOne(request(attendees=[ical.Person("赵敏", "zhaomin@example.com", "host"),
                                             ical.Person("王五", "wangwu@example.com", "participant"),
                                             ical.Person("孙七", "sunqi@example.com", "cc")]))
    params = {a.value: a.params for a in cal.vevent.attendee_list}
    assert params["mailto:zhaomin@example.com"]["ROLE"] == ["CHAIR"]
    assert params["mailto:zhaomin@example.com"]["PARTSTAT"] == ["ACCEPTED"]
    assert params["mailto:wangwu@example.com"]["RSVP"] == ["TRUE"]
    assert params["mailto:sunqi@example.com"]["ROLE"] == ["NON-PARTICIPANT"]
    assert params["mailto:sunqi@example.com"]["RSVP"] == ["FALSE"]
    assert cal.vevent.valarm.trigger.value == timedelta(minutes=-15)


def test_cancel_is_cancelled_without_a_reminder_or_an_rsvp():
    text = request(method="CANCEL", sequence=4)
    cal = vobject.readOne(text)
    assert cal.method.value == "CANCEL" and cal.vevent.status.value == "CANCELLED" and cal.vevent.sequence.value == "4"
    assert "valarm" not in cal.vevent.contents
    assert all(a.params["RSVP"] == ["FALSE"] for a in cal.vevent.attendee_list)
    assert ical.method_of(text) == "CANCEL"


def test_only_request_and_cancel_are_written():
    with pytest.raises(ValueError):
        request(method="REPLY")


def test_the_vtimezone_is_the_one_of_china_standard_time_for_every_year_a_meeting_may_be_in():
    cal = vobject.readOne(request(starts=datetime(2099, 12, 31, 15, 0, tzinfo=timezone.utc),
                                  ends=datetime(2099, 12, 31, 16, 0, tzinfo=timezone.utc)))
    assert cal.vtimezone.tzid.value == "Asia/Shanghai"
    assert cal.vevent.dtstart.value.utcoffset() == timedelta(hours=8)
    assert cal.vevent.dtstart.value.year == 2099 and cal.vevent.dtstart.value.hour == 23
