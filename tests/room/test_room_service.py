"""Rules of the live room: lifecycle, permissions, the vague-wording check, deadlines, stale edits, revisions."""
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from minutes.actions.models import ActionItem, ActionStatus
from minutes.core import timefmt
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.extensions import db
from minutes.meetings import service as meetings_service
from minutes.meetings.models import MeetingStatus
from minutes.room import attendance, carry, events, recording, review, service, wording
from minutes.room.models import AttendanceStatus, Point, PointKind, RoomState, ScreenMode


def _revision(meeting):
    return service.current_revision(meeting.id)


# --- lifecycle -------------------------------------------------------------------------------

def test_start_opens_the_room_puts_first_item_on_the_clock_and_lists_attendance(cast):
    room = service.start_meeting(cast.recorder, cast.meeting)
    db.session.commit()
    assert cast.meeting.status == MeetingStatus.IN_PROGRESS
    assert room.revision == 1 and room.screen_mode == ScreenMode.LIVE
    assert room.current_item_id == cast.items[0].id and room.item_started_at == timefmt.utcnow()
    rows = {r.user.username: r for r in attendance.attendance(cast.meeting)}
    # cc (抄送) is not expected in the room; the recorder who started it is present.
    assert set(rows) == {"host", "recorder", "tech"}
    assert rows["recorder"].status == AttendanceStatus.PRESENT
    assert rows["tech"].status == AttendanceStatus.PENDING


def test_host_may_start_a_draft_meeting(cast):
    assert cast.meeting.status == MeetingStatus.DRAFT
    service.start_meeting(cast.host, cast.meeting)
    assert cast.meeting.status == MeetingStatus.IN_PROGRESS


@pytest.mark.parametrize("who", ["participant", "cc", "outsider"])
def test_only_recorder_or_host_may_start(cast, who):
    with pytest.raises(PermissionDenied):
        service.start_meeting(getattr(cast, who), cast.meeting)
    assert room_missing(cast)


def room_missing(cast):
    return db.session.get(RoomState, cast.meeting.id) is None


def test_start_refused_twice_and_for_a_cancelled_meeting(cast, make_meeting):
    service.start_meeting(cast.recorder, cast.meeting)
    with pytest.raises(RuleViolation):
        service.start_meeting(cast.host, cast.meeting)
    from minutes.meetings import service as meetings

    other = make_meeting(cast.host)
    meetings.cancel_meeting(cast.host, other)
    with pytest.raises(RuleViolation):
        service.start_meeting(cast.host, other)


def test_writes_refused_before_the_start(cast):
    with pytest.raises(RuleViolation, match="尚未开始"):
        recording.add_point(cast.recorder, cast.meeting, cast.items[0].id, "viewpoint", "观点", cast.host.department_id)


def test_walking_the_agenda_moves_the_clock(started, clock):
    room = service.room_of(started.meeting)
    clock(2026, 6, 15, 14, 20)  # 25 minutes on the first item
    service.set_current_item(started.host, started.meeting, started.items[1].id)
    clock(2026, 6, 15, 14, 30)
    assert service.item_elapsed_seconds(room, started.items[0].id) == 25 * 60
    assert service.item_elapsed_seconds(room, started.items[1].id) == 10 * 60
    # Back to the first item: its clock resumes where it stopped.
    service.set_current_item(started.host, started.meeting, started.items[0].id)
    clock(2026, 6, 15, 14, 35)
    assert service.item_elapsed_seconds(room, started.items[0].id) == 30 * 60
    assert service.item_elapsed_seconds(room, started.items[1].id) == 10 * 60


def test_agenda_item_of_another_meeting_is_refused(started, make_meeting):
    from minutes.meetings import service as meetings

    other = make_meeting(started.host)
    foreign = meetings.add_agenda_item(started.host, other, "别的会议的议题", 10)
    with pytest.raises(ValidationFailed) as exc:
        recording.add_point(started.recorder, started.meeting, foreign.id, "consensus", "共识")
    assert "agenda_item_id" in exc.value.fields


# --- permissions -----------------------------------------------------------------------------

def test_participant_watches_but_cannot_write(started):
    assert not meetings_service.can_record(started.participant, started.meeting)
    assert meetings_service.get_meeting(started.participant, started.meeting.id) is started.meeting
    with pytest.raises(PermissionDenied):
        recording.add_point(started.participant, started.meeting, started.items[0].id, "viewpoint", "我的观点",
                            started.participant.department_id)


def test_public_meeting_room_visible_to_any_employee_read_only(started):
    assert meetings_service.get_meeting(started.outsider, started.meeting.id)
    assert not meetings_service.can_record(started.outsider, started.meeting)


def test_confidential_room_is_missing_for_non_invitees(app, make_user, make_meeting, clock):
    clock(2026, 6, 15, 13, 55)
    host = make_user("h2", dept="客服部")
    outsider = make_user("o2", dept="产品部")
    meeting = make_meeting(host, confidential=True)
    with pytest.raises(NotFound):
        meetings_service.get_meeting(outsider, meeting.id)
    with pytest.raises(NotFound):
        meetings_service.get_meeting(outsider, "not-a-number")


# --- attendance ------------------------------------------------------------------------------

def test_absent_needs_a_reason_and_late_records_the_arrival(started, clock):
    with pytest.raises(ValidationFailed, match="缺席的原因") as exc:
        attendance.mark_attendance(started.recorder, started.meeting, started.participant.id, "absent")
    assert "reason" in exc.value.fields
    row = attendance.mark_attendance(started.recorder, started.meeting, started.participant.id, "absent", reason="出差")
    assert row.status == AttendanceStatus.ABSENT and row.absence_reason == "出差"
    arrived = clock(2026, 6, 15, 14, 12)
    row = attendance.mark_attendance(started.recorder, started.meeting, started.participant.id, "late")
    assert row.status == AttendanceStatus.LATE and row.arrived_at == arrived and row.absence_reason == ""
    summary = attendance.attendance_summary(attendance.attendance(started.meeting))
    assert summary["expected"] == 3 and summary["here"] == 2 and summary["late"] == 1 and summary["pending"] == 1


def test_uninvited_attendee_is_added_once(started):
    row = attendance.add_attendee(started.recorder, started.meeting, started.outsider.id)
    assert row.status == AttendanceStatus.PRESENT and not row.invited
    with pytest.raises(RuleViolation, match="已在签到名单中"):
        attendance.add_attendee(started.host, started.meeting, started.outsider.id)
    with pytest.raises(NotFound):
        attendance.mark_attendance(started.recorder, started.meeting, started.cc.id, "present")


# --- points ----------------------------------------------------------------------------------

def test_points_are_kept_in_order_under_their_item(started):
    m, a, b = started.meeting, started.items[0].id, started.items[1].id
    dept = started.participant.department_id
    recording.add_point(started.recorder, m, a, "viewpoint", "需增加人力配置", dept, started.participant.id)
    recording.add_point(started.recorder, m, b, "viewpoint", "模板字段太多", dept)
    recording.add_point(started.recorder, m, a, "consensus", "客服部1小时内补充问题描述")
    db.session.commit()
    view = service.item_view(m, started.items[0])
    assert [p.text for p in view.points] == ["需增加人力配置", "客服部1小时内补充问题描述"]
    assert [p.position for p in view.points] == [1, 2]
    assert view.points[0].speaker == started.participant


def test_viewpoint_needs_a_department_and_dispute_two_parties(started):
    m, a = started.meeting, started.items[0].id
    with pytest.raises(ValidationFailed, match="部门") as exc:
        recording.add_point(started.recorder, m, a, "viewpoint", "观点")
    assert "department_id" in exc.value.fields
    with pytest.raises(ValidationFailed, match="分歧的双方"):
        recording.add_point(started.recorder, m, a, "dispute", "分歧", party_ids=[started.host.department_id])
    point = recording.add_point(started.recorder, m, a, "dispute", "技术部认为问题描述不完整", started.host.department_id,
                                party_ids=[started.participant.department_id])
    assert {d.name for d in point.parties} == {"客服部", "技术部"}
    with pytest.raises(ValidationFailed, match="请填写"):
        recording.add_point(started.recorder, m, a, "consensus", "   ")
    with pytest.raises(ValidationFailed, match="类型"):
        recording.add_point(started.recorder, m, a, "opinion", "x")


def test_deleted_point_is_kept_but_shown_nowhere(started):
    point = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "共识一")
    db.session.commit()
    recording.delete_point(started.host, point, point.version)
    db.session.commit()
    assert db.session.get(Point, point.id).deleted_at is not None
    assert service.item_view(started.meeting, started.items[0]).points == []
    with pytest.raises(NotFound):
        recording.get_point(started.host, point.id)


# --- stale edits -----------------------------------------------------------------------------

def test_stale_edit_is_refused_with_a_clear_message(started):
    point = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "初稿")
    db.session.commit()
    loaded_version = point.version
    # The host saves first ...
    recording.update_point(started.host, point, loaded_version, "consensus", "主持人改过的内容")
    db.session.commit()
    # ... then the recorder saves an edit of the version both had loaded.
    with pytest.raises(StaleEdit) as exc:
        recording.update_point(started.recorder, point, loaded_version, "consensus", "记录人的修改")
    assert "王主持" in exc.value.message and "未保存" in exc.value.message
    db.session.rollback()
    assert db.session.get(Point, point.id).text == "主持人改过的内容"


def test_concurrent_write_on_the_row_is_refused_not_merged(started):
    point = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "初稿")
    db.session.commit()
    assert point.version == 1
    # Another writer's UPDATE lands between loading the row and flushing the edit (the ORM still holds version 1).
    db.session.execute(text("UPDATE point SET text = 'other', version = version + 1 WHERE id = :id"), {"id": point.id})
    with pytest.raises(StaleEdit, match="刚被他人修改"):
        recording.update_point(started.recorder, point, None, "consensus", "我的修改")


def test_stale_delete_is_refused(started):
    decision = recording.add_decision(started.recorder, started.meeting, started.items[0].id, "确定投诉处理总时效不超过72小时")
    db.session.commit()
    old = decision.version
    recording.update_decision(started.host, decision, old, "确定投诉处理总时效不超过48小时")
    db.session.commit()
    with pytest.raises(StaleEdit):
        recording.delete_decision(started.recorder, decision, old)


# --- vague wording and deadlines -------------------------------------------------------------

def test_decision_with_vague_wording_is_refused_with_the_findings(started):
    with pytest.raises(wording.VagueWording) as exc:
        recording.add_decision(started.recorder, started.meeting, started.items[0].id, "尽快协调，相关部门原则上配合")
    err = exc.value
    assert err.status == 422 and "text" in err.fields
    assert [f.term for f in err.findings] == ["尽快", "相关部门", "原则上"]
    assert all(f.suggestion for f in err.findings)
    assert "“尽快”" in err.message


def test_vague_deadline_field_is_refused_too(started):
    with pytest.raises(wording.VagueWording):
        recording.add_decision(started.recorder, started.meeting, started.items[0].id, "确定模板字段", due="近期")


@pytest.mark.parametrize("due", ["下周", "月底", "下个月"])
def test_a_week_or_a_month_without_a_day_waits_for_its_date_to_be_confirmed(started, due):
    owner = started.participant
    args = (started.recorder, started.meeting, started.items[0].id, "完成投诉模板上线", owner.department_id, owner.id, ())
    check = wording.check_wording("完成投诉模板上线", due)
    assert check.needs_confirm and not check.is_confirmed
    with pytest.raises(ValidationFailed) as exc:
        recording.add_action(*args, due=due)
    assert exc.value.fields == {"due": f"将理解为 {check.due_label}，请确认或改为具体日期"}
    with pytest.raises(ValidationFailed):  # a confirmation of another date does not count
        recording.add_action(*args, due=due, due_confirmed="2026-06-16")
    action = recording.add_action(*args, due=due, due_confirmed=check.due_date.isoformat())
    assert action.due_date == check.due_date and action.due_text == due
    assert wording.check_wording("完成投诉模板上线", "下周五").needs_confirm is False


def test_action_needs_an_owner_and_a_date(started):
    m, a = started.meeting, started.items[0].id
    with pytest.raises(ValidationFailed, match="负责人") as exc:
        recording.add_action(started.recorder, m, a, "优化投诉提报模板", due="2026-06-30")
    assert "owner_id" in exc.value.fields
    with pytest.raises(ValidationFailed, match="完成时限") as exc:
        recording.add_action(started.recorder, m, a, "优化投诉提报模板", owner_id=started.participant.id)
    assert "due" in exc.value.fields
    with pytest.raises(ValidationFailed, match="无法识别"):
        recording.add_action(started.recorder, m, a, "优化投诉提报模板", owner_id=started.participant.id, due="等通知")
    action = recording.add_action(started.recorder, m, a, "优化投诉提报模板", owner_id=started.participant.id,
                                  cooperating_department_ids=[started.host.department_id], due="2026-06-30")
    assert action.due_date == date(2026, 6, 30) and action.status == ActionStatus.NOT_STARTED
    assert action.owner_department == started.participant.department  # the owner's own department by default
    assert [d.name for d in action.cooperating_departments] == ["客服部"]


def test_deadline_phrase_is_read_on_the_company_calendar(started):
    # Monday 2026-06-15; Friday 2026-06-19 is 端午节: 5 working days end on Tuesday 2026-06-23.
    action = recording.add_action(started.recorder, started.meeting, started.items[0].id, "上线新模板",
                                  owner_id=started.participant.id, due="5个工作日内")
    assert action.due_date == date(2026, 6, 23) and action.due_text == "5个工作日内"


def test_company_day_off_moves_the_deadline(started):
    from minutes.calendar.service import set_override
    from minutes.people.service import create_user

    admin = create_user("admin", "管理员", "行政部", "correct-horse-42", is_admin=True)
    set_override(admin, date(2026, 6, 16), False, "公司年会")
    check = wording.check_wording("完成模板上线", "3个工作日内")
    # 17, 18 and (after the 19th's holiday and the weekend) 22: the company's day off on the 16th counts.
    assert check.due_date == date(2026, 6, 22)
    assert check.due_label == "2026年6月22日（周一）"


def test_deadline_taken_from_the_text_when_the_field_is_empty(started):
    decision = recording.add_decision(started.recorder, started.meeting, started.items[0].id,
                                      "产品部6月30日前完成投诉提报模板上线")
    assert decision.due_date == date(2026, 6, 30)
    check = wording.check_wording("3个工作日内完成协调")
    assert check.due_source == "text" and check.due_label == "2026年6月18日（周四）"


def test_past_deadline_is_refused(started):
    with pytest.raises(ValidationFailed, match="早于今天"):
        recording.add_action(started.recorder, started.meeting, started.items[0].id, "补交报表",
                             owner_id=started.participant.id, due="2026-06-01")


def test_live_check_offers_a_concrete_fix(started):
    check = wording.check_wording("尽快完成协调")
    assert [f.term for f in check.findings] == ["尽快"]
    assert check.example_due == "2026年6月18日（周四）"
    assert not check.is_clear
    assert wording.check_wording("3个工作日内完成协调").is_clear


# --- review and finish -----------------------------------------------------------------------

def _record_outcomes(cast):
    m, a, b = cast.meeting, cast.items[0].id, cast.items[1].id
    action = recording.add_action(cast.recorder, m, b, "上线新模板", owner_id=cast.participant.id, due="2026-06-30")
    decision = recording.add_decision(cast.recorder, m, a, "确定投诉处理总时效不超过72小时")
    db.session.commit()
    return decision, action


def test_review_walks_decisions_and_actions_in_agenda_order(started):
    decision, action = _record_outcomes(started)
    room = review.enter_review(started.host, started.meeting)
    assert started.meeting.status == MeetingStatus.REVIEW and room.screen_mode == ScreenMode.REVIEW
    assert [e.review_key for e in review.review_entries(started.meeting)] == [decision.review_key, action.review_key]
    assert room.review_key == decision.review_key
    review.confirm_entry(started.host, started.meeting, decision.review_key, decision.version)
    assert decision.confirmed_at is not None and decision.confirmed_by == started.host and not decision.reworded
    assert room.review_key == action.review_key
    review.review_step(started.host, started.meeting, -1)
    assert room.review_key == decision.review_key


def test_reword_reruns_the_vague_check_and_confirms(started):
    decision, action = _record_outcomes(started)
    review.enter_review(started.recorder, started.meeting)
    db.session.commit()
    with pytest.raises(wording.VagueWording):
        review.reword_entry(started.recorder, started.meeting, action.review_key, "上线新模板，后续再议", version=action.version)
    db.session.rollback()
    action = db.session.get(ActionItem, action.id)
    review.reword_entry(started.recorder, started.meeting, action.review_key, "上线新模板（含客户反馈字段）",
                        version=action.version)
    assert action.reworded and action.confirmed_at is not None
    assert action.text == "上线新模板（含客户反馈字段）" and action.due_date == date(2026, 6, 30)


def test_finish_needs_every_item_confirmed_and_sets_the_minutes_deadline(started, clock):
    decision, action = _record_outcomes(started)
    review.enter_review(started.host, started.meeting)
    review.confirm_entry(started.host, started.meeting, decision.review_key)
    with pytest.raises(RuleViolation, match="还有1项"):
        review.finish_meeting(started.host, started.meeting)
    review.confirm_entry(started.host, started.meeting, action.review_key)
    ended = clock(2026, 6, 15, 15, 25)
    room = review.finish_meeting(started.host, started.meeting)
    assert started.meeting.status == MeetingStatus.MINUTES_DUE
    assert room.ended_at == ended and room.minutes_due_at == ended + timedelta(hours=24)
    assert started.meeting.room is room
    with pytest.raises(RuleViolation, match="不能修改"):
        recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "会后补充")


def test_editing_a_confirmed_entry_needs_confirming_again(started):
    decision, _ = _record_outcomes(started)
    review.enter_review(started.host, started.meeting)
    review.confirm_entry(started.host, started.meeting, decision.review_key)
    recording.update_decision(started.recorder, decision, decision.version, "确定投诉处理总时效不超过48小时")
    assert decision.confirmed_at is None
    assert review.unconfirmed_count(started.meeting) == 2


def test_confirm_outside_review_is_refused(started):
    decision, _ = _record_outcomes(started)
    with pytest.raises(RuleViolation, match="会末确认"):
        review.confirm_entry(started.host, started.meeting, decision.review_key)


def test_leaving_review_restarts_the_clock(started, clock):
    review.enter_review(started.host, started.meeting)
    clock(2026, 6, 15, 14, 40)
    room = review.leave_review(started.host, started.meeting)
    assert started.meeting.status == MeetingStatus.IN_PROGRESS and room.screen_mode == ScreenMode.LIVE
    assert room.item_started_at == timefmt.utcnow()


# --- revisions -------------------------------------------------------------------------------

def test_every_visible_change_bumps_the_revision_by_one(started):
    m, a = started.meeting, started.items[0].id
    seen = [_revision(m)]
    point = recording.add_point(started.recorder, m, a, "consensus", "共识")
    db.session.commit()
    seen.append(_revision(m))
    recording.update_point(started.host, point, point.version, "consensus", "共识（改）")
    db.session.commit()
    seen.append(_revision(m))
    attendance.mark_attendance(started.recorder, m, started.participant.id, "present")
    db.session.commit()
    seen.append(_revision(m))
    service.set_current_item(started.recorder, m, started.items[1].id)
    db.session.commit()
    seen.append(_revision(m))
    assert seen == [1, 2, 3, 4, 5]


def test_changes_are_announced_only_when_committed(started):
    recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "不会保存")
    assert [e.revision for e in events.pending(db.session)] == [2]
    db.session.rollback()
    assert events.pending(db.session) == []
    assert _revision(started.meeting) == 1


def test_two_writers_never_reuse_a_revision(started, app):
    """Host and recorder write at the same moment from their own sessions: every revision is used once."""
    meeting_id, item_id = started.meeting.id, started.items[0].id
    writers = {"host": started.host.id, "recorder": started.recorder.id}
    db.session.commit()
    errors, barrier = [], threading.Barrier(len(writers))

    def write(user_id, label):
        from minutes.meetings.models import Meeting
        from minutes.people.models import User

        from minutes.extensions import write_intent

        write_intent.set(True)  # like a POST request: SQLite transactions take the write lock up front
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                for n in range(5):
                    user = db.session.get(User, user_id)
                    meeting = db.session.get(Meeting, meeting_id)
                    recording.add_point(user, meeting, item_id, "consensus", f"{label} {n}")
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(uid, label)) for label, uid in writers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    db.session.expire_all()
    assert _revision(started.meeting) == 1 + 10
    positions = db.session.scalars(select(Point.position).where(Point.agenda_item_id == item_id)).all()
    assert sorted(positions) == list(range(1, 11))


def test_a_point_added_while_another_is_being_saved_takes_the_next_position(started, app):
    """The first writer has read max(position) and not yet committed when the second one adds a point to the
    same item: the second waits (PostgreSQL: the item's row is locked; SQLite: the write lock) and comes after."""
    meeting_id, item_id = started.meeting.id, started.items[0].id
    recorder_id = started.recorder.id
    db.session.commit()
    done, errors = threading.Event(), []

    def second():
        from minutes.extensions import write_intent
        from minutes.meetings.models import Meeting
        from minutes.people.models import User

        write_intent.set(True)
        try:
            with app.app_context():
                recording.add_point(db.session.get(User, recorder_id), db.session.get(Meeting, meeting_id), item_id,
                                    "consensus", "第二条")
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    recording.add_point(started.recorder, started.meeting, item_id, "consensus", "第一条")  # not committed yet
    thread = threading.Thread(target=second)
    thread.start()
    assert not done.wait(1.0), "the second writer did not wait for the first"
    db.session.commit()
    thread.join(timeout=30)
    assert not errors, errors
    db.session.expire_all()
    rows = db.session.execute(select(Point.text, Point.position).where(Point.agenda_item_id == item_id)
                              .order_by(Point.position)).all()
    assert [tuple(r) for r in rows] == [("第一条", 1), ("第二条", 2)]


def test_the_same_submission_saved_twice_gives_the_first_row_and_changes_nothing(started):
    """No lookup before the insert (which two racing requests could both pass): the unique index refuses
    the second row, and the service answers with the row saved the first time."""
    from minutes.room.models import Point

    token = "feedfacefeedfacefeedfacefeedface"
    first = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "统一口径",
                                submission=token)
    db.session.commit()
    revision = _revision(started.meeting)
    second = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "统一口径",
                                 submission=token)
    db.session.commit()
    assert second.id == first.id
    assert db.session.query(Point).count() == 1 and _revision(started.meeting) == revision
    assert recording._submission(token) == token and recording._submission(" " + token.upper()) is None


def test_items_without_any_record_carry_over_to_a_follow_up_with_the_same_people(started):
    first, second = started.items
    recording.add_point(started.recorder, started.meeting, first.id, "viewpoint", "升级投诉须在24小时内给出方案",
                        started.host.department_id)
    with pytest.raises(RuleViolation):  # not before the end
        carry.carry_over(started.recorder, started.meeting)
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    assert carry.undiscussed_items(started.meeting) == [second]
    with pytest.raises(PermissionDenied):
        carry.carry_over(started.participant, started.meeting)
    new = carry.carry_over(started.recorder, started.meeting).meeting
    assert [(i.title, i.minutes, i.department_id) for i in new.agenda_items] == [
        (second.title, second.minutes, second.department_id)]
    assert new.topic == f"{started.meeting.topic}（待议事项）" and new.status == MeetingStatus.DRAFT
    assert (new.host, new.recorder) == (started.host, started.recorder)
    assert {p.user_id: p.role.value for p in new.participants} == {
        started.host.id: "host", started.recorder.id: "recorder", started.participant.id: "participant",
        started.cc.id: "cc"}


def test_minutes_deadline_on_a_day_off_names_the_working_day(app):
    from minutes.records.service import minutes_deadline

    friday_end = datetime(2026, 12, 4, 10, 0, tzinfo=timefmt.LOCAL_TZ)
    deadline = minutes_deadline(friday_end + review.MINUTES_DUE_AFTER)
    assert deadline.day_off and deadline.working_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=timefmt.LOCAL_TZ)
    deadline = minutes_deadline(friday_end - timedelta(days=1) + review.MINUTES_DUE_AFTER)
    assert not deadline.day_off and deadline.working_due_at is None
    assert minutes_deadline(None) is None


def test_undiscussed_items_go_to_the_series_next_meeting_once(started):
    from minutes.meetings import series

    series.start_series(started.host, started.meeting, "投诉协调例会", "monthly")
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    first, second = started.items
    nxt = carry.carry_over(started.recorder, started.meeting, into="series").meeting
    assert nxt.series_id == started.meeting.series_id and nxt.starts_at > started.meeting.starts_at
    assert [i.title for i in nxt.agenda_items] == [series.REVIEW_TITLE, first.title, second.title]
    again = carry.carry_over(started.recorder, started.meeting, into="series")
    assert again.already and again.meeting.id == nxt.id and len(nxt.agenda_items) == 3
    # nor to a follow-up meeting after that: the items have gone to the series already
    assert carry.carry_over(started.recorder, started.meeting).meeting.id == nxt.id


def test_a_period_in_a_decisions_wording_sets_no_deadline_unless_confirmed(started):
    item = started.items[0]
    plain = recording.add_decision(started.recorder, started.meeting, item.id, "Q2预算上调5%")
    assert plain.due_date is None
    check = wording.check_wording("Q2预算上调5%", "")
    confirmed = recording.add_decision(started.recorder, started.meeting, item.id, "Q2预算上调5%",
                                       due_confirmed=check.due_date.isoformat())
    assert confirmed.due_date == check.due_date
    with pytest.raises(ValidationFailed):  # an action's deadline is never taken from a period unconfirmed
        recording.add_action(started.recorder, started.meeting, item.id, "Q2完成预算复核",
                             owner_id=started.participant.id)


def _follow_ups(meeting):
    from minutes.meetings.models import Meeting

    return db.session.scalars(select(Meeting).where(Meeting.topic == f"{meeting.topic}（待议事项）")).all()


def test_carrying_again_plans_no_second_follow_up_unless_the_first_was_cancelled(started):
    from minutes.meetings import service as meetings

    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    first = carry.carry_over(started.recorder, started.meeting)
    db.session.commit()
    assert (first.count, first.already) == (2, False)
    again = carry.carry_over(started.host, started.meeting)  # the host, a moment later
    db.session.commit()
    assert again.already and again.count == 0 and again.meeting.id == first.meeting.id
    assert len(_follow_ups(started.meeting)) == 1 and len(first.meeting.agenda_items) == 2
    assert [target.id for _, target in carry.carry_overview(started.meeting)] == [first.meeting.id] * 2
    meetings.cancel_meeting(started.recorder, first.meeting)
    db.session.commit()
    assert [target for _, target in carry.carry_overview(started.meeting)] == [None, None]
    other = carry.carry_over(started.recorder, started.meeting)
    assert not other.already and other.meeting.id != first.meeting.id


def test_a_second_carry_waits_for_the_first_and_finds_its_meeting(started, app):
    """Two people carry the same items at the same moment: the second waits (PostgreSQL: the meeting's row
    lock; SQLite: the write lock) until the first commits, then finds the follow-up it planned."""
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    db.session.commit()
    meeting_id, host_id = started.meeting.id, started.host.id
    done, results, errors = threading.Event(), [], []

    def second():
        from minutes.extensions import write_intent
        from minutes.meetings.models import Meeting
        from minutes.people.models import User

        write_intent.set(True)
        try:
            with app.test_request_context():
                carried = carry.carry_over(db.session.get(User, host_id), db.session.get(Meeting, meeting_id))
                results.append((carried.meeting.id, carried.already))
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    first = carry.carry_over(started.recorder, started.meeting)  # flushed, not committed: holds the lock
    thread = threading.Thread(target=second)
    thread.start()
    assert not done.wait(0.5), (results, errors)  # the second waits for the first
    db.session.commit()
    thread.join(30)
    assert not errors, errors
    assert results == [(first.meeting.id, True)]
    db.session.expire_all()
    assert len(_follow_ups(started.meeting)) == 1
