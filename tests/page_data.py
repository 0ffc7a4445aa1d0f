"""Realistic data for the main pages, built through the app's own services (in an app context): what the page
budgets count statements on (tests/test_page_budgets.py) and what bench/pages.py times.

`make_user`, `make_meeting` and `clock` are tests/conftest.py's factories (new_user, new_meeting, set_clock).
"""
from datetime import date, datetime, timedelta

from sqlalchemy import insert

from minutes.actions.models import ActionItem, ActionStatus
from minutes.core import timefmt
from minutes.extensions import db
from minutes.meetings import materials, service as planning
from minutes.room import attendance, recording, review
from minutes.room import service as room

DEPARTMENTS = ("客服部", "技术部", "法务部", "财务部", "产品部")


def office(make_user, clock):
    """Twelve colleagues in five departments (a head in each); the clock on Mon 2026-06-08 09:00."""
    clock(2026, 6, 8, 9, 0)
    people = [make_user(f"u{i:02d}", f"同事{i:02d}", dept=DEPARTMENTS[i % 5]) for i in range(12)]
    for head in people[:5]:
        head.is_department_head = True
    db.session.commit()
    return people


def planned_meeting(make_meeting, host, people, starts, topic="解决客户投诉处理流程卡点", items=3, recorder=None,
                    confidential=False):
    """A planned meeting: a recorder, the people invited, `items` agenda items."""
    meeting = make_meeting(host, starts=starts, topic=topic, confidential=confidential)
    recorder = recorder or next(p for p in people if p is not host)
    planning.invite(host, meeting, [recorder.id], "recorder")
    others = [p.id for p in people if p is not host and p is not recorder]
    if others:
        planning.invite(host, meeting, others, "participant")
    for i in range(items):
        planning.add_agenda_item(host, meeting, f"{topic}·议题{i + 1}", 15, people[i % len(people)].department_id)
    db.session.commit()
    db.session.expire(meeting)  # invite() lists a new participant twice in the loaded collection
    return meeting


def hold(clock, meeting, recorder, people, points=3, actions=1, finish=True):
    """Start the meeting at its planned time, record in it, walk the review and finish it."""
    at = timefmt.to_local(meeting.starts_at)
    clock(at.year, at.month, at.day, at.hour, at.minute)
    room.start_meeting(recorder, meeting)
    for person in people[:4]:
        attendance.mark_attendance(recorder, meeting, person.id, "present")
    items = list(meeting.agenda_items)
    for i in range(points):
        item = items[i % len(items)]
        recording.add_point(recorder, meeting, item.id, "viewpoint", f"第{i + 1}条观点：客服部需在1小时内补充问题描述",
                            department_id=people[i % len(people)].department_id)
    recording.add_decision(recorder, meeting, items[0].id, "确定客户投诉处理总时效不超过72小时")
    due = (at.date() + timedelta(days=20)).isoformat()
    for i in range(actions):
        owner = people[i % len(people)]
        recording.add_action(recorder, meeting, items[0].id, f"第{i + 1}项待办：优化投诉提报模板", owner_id=owner.id,
                             due=due)
    if finish:
        review.enter_review(recorder, meeting)
        for entry in review.review_entries(meeting):
            review.confirm_entry(recorder, meeting, entry.review_key)
        clock(at.year, at.month, at.day, at.hour + 1, at.minute)
        review.finish_meeting(recorder, meeting)
    db.session.commit()
    return meeting


def history(office, make_meeting, clock):
    """What a colleague's month looks like: four meetings held and finished (two with their minutes out for
    sign-off), one going on, three coming."""
    from minutes.records import drafting, signoff

    host, recorder = office[0], office[1]
    held = []
    for n, day in enumerate((1, 2, 3, 4)):
        meeting = planned_meeting(make_meeting, host, office, (2026, 6, day, 10, 0), topic=f"季度协调会第{n + 1}次")
        held.append(hold(clock, meeting, recorder, office, points=4, actions=2))
    for meeting in held[:2]:  # two of them have their minutes out for sign-off
        drafting.draft_from_record(recorder, meeting)
        signoff.distribute(recorder, meeting)
    db.session.commit()
    clock(2026, 6, 8, 9, 0)
    going_on = planned_meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="预算审批流程")
    hold(clock, going_on, recorder, office, points=3, actions=1, finish=False)
    coming = [planned_meeting(make_meeting, host, office, (2026, 6, 15 + n, 14, 0), topic=f"上线验收标准{n + 1}",
                              items=5)
              for n in range(3)]
    for n, item in enumerate(coming[0].agenda_items):  # materials to prepare, as links
        materials.add_material_link(host, item, f"https://wiki.example.com/acceptance/{n}", f"验收清单{n + 1}")
    db.session.commit()
    clock(2026, 6, 8, 9, 30)
    return {"host": host, "recorder": recorder, "held": held, "going_on": going_on, "coming": coming}


def big_room(office, make_meeting, clock):
    """A meeting going on with 30 agenda items and 300 points (ten per item), decisions and actions:
    (meeting, host, recorder, an attendee)."""
    host, recorder = office[0], office[1]
    meeting = planned_meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="年度预算协调会", items=30)
    clock(2026, 6, 8, 9, 0)
    room.start_meeting(recorder, meeting)
    for person in office:
        attendance.mark_attendance(recorder, meeting, person.id, "present")
    items = list(meeting.agenda_items)
    due = date(2026, 6, 30).isoformat()
    kinds = ("viewpoint", "viewpoint", "dispute", "consensus")
    for n, item in enumerate(items):
        room.set_current_item(recorder, meeting, item.id)
        for i in range(10):
            kind = kinds[i % 4]
            dept = office[(n + i) % len(office)].department_id
            other = office[(n + i + 1) % len(office)].department_id
            recording.add_point(recorder, meeting, item.id, kind, f"议题{n + 1}第{i + 1}条：客服部需在1小时内补充问题描述",
                                department_id=dept, speaker_id=office[(n + i) % len(office)].id,
                                party_ids=[dept, other] if kind == "dispute" and dept != other else ())
        if n % 3 == 0:
            recording.add_decision(recorder, meeting, item.id, f"议题{n + 1}：处理总时效不超过72小时",
                                   owner_department_id=host.department_id, owner_id=host.id,
                                   cooperating_department_ids=[office[2].department_id], due=due)
            recording.add_action(recorder, meeting, item.id, f"议题{n + 1}：优化投诉提报模板", owner_id=office[n % 12].id,
                                 cooperating_department_ids=[office[3].department_id], due=due)
    room.set_current_item(recorder, meeting, items[12].id)
    db.session.commit()
    return meeting, host, recorder, office[5]


def minutes_with_ten_versions(office, make_meeting, clock):
    """A finished meeting whose minutes went out and were revised nine times on recipients' comments:
    (meeting, recorder, the tenth version)."""
    from minutes.records import drafting, signoff

    host, recorder = office[0], office[1]
    meeting = planned_meeting(make_meeting, host, office, (2026, 6, 1, 10, 0), topic="投诉提报模板优化")
    hold(clock, meeting, recorder, office, points=6, actions=3)
    clock(2026, 6, 1, 15, 0)
    drafting.draft_from_record(recorder, meeting)
    version = signoff.distribute(recorder, meeting)
    for n in range(2, 11):
        clock(2026, 6, 1, 15, n)
        answer = signoff.respond(office[n % 12], version.id, "change", f"第{n}条修改意见：请注明责任部门")
        version = signoff.revise(recorder, meeting, version.body + f"\n\n修订{n}：已注明责任部门。", answers=[answer.id])
    db.session.commit()
    return meeting, recorder, version


def two_thousand_actions(history):
    """2,000 actions over the held meetings (bulk-inserted, as the room would have written them)."""
    held, people = history["held"], [history["host"], history["recorder"]]
    first = held[0]
    rows = []
    statuses = list(ActionStatus)
    for n in range(2000):
        meeting = held[n % len(held)]
        owner = people[n % 2]
        rows.append(dict(meeting_id=meeting.id, agenda_item_id=meeting.agenda_items[0].id,
                         text=f"第{n + 1}项：优化投诉提报模板", owner_department_id=owner.department_id,
                         owner_id=owner.id, due_date=date(2026, 6, 1) + timedelta(days=n % 60), due_text="",
                         status=statuses[n % len(statuses)], position=100 + n, reworded=False,
                         created_by_id=first.host.id, created_at=datetime(2026, 6, 1, 2, 0, tzinfo=timefmt.UTC),
                         version=1))
    db.session.execute(insert(ActionItem), rows)
    db.session.commit()
