"""API operations of the live room: start and finish, attendance, points, decisions, actions, review."""
from flask import jsonify, request
from flask_babel import lazy_gettext

from minutes.api import schemas
from minutes.api.core import _department_id, _user, iso, me, operation, parse_iso
from minutes.core.clarity import describe_deadline
from minutes.core.errors import NotFound, ValidationFailed
from minutes.meetings import service as meetings
from minutes.room import attendance, recording, review
from minutes.room import service as room
from minutes.room.wording import VagueWording


def point_json(p) -> dict:
    return {"id": p.id, "agenda_item_id": p.agenda_item_id, "kind": p.kind.value, "kind_label": p.kind.label,
            "department": p.department.name if p.department else None,
            "speaker": p.speaker.username if p.speaker else None, "parties": [d.name for d in p.parties],
            "text": p.text, "position": p.position, "version": p.version}


def work_item_json(x) -> dict:
    data = {"id": x.id, "meeting_id": x.meeting_id, "agenda_item_id": x.agenda_item_id, "text": x.text,
            "owner": x.owner.username if x.owner else None,
            "owner_department": x.owner_department.name if x.owner_department else None,
            "departments": [d.name for d in x.cooperating_departments],
            "due": x.due_date.isoformat() if x.due_date else None,
            "due_label": describe_deadline(x.due_date) if x.due_date else "",
            "due_text": x.due_text or "", "confirmed": x.confirmed_at is not None, "version": x.version}
    if hasattr(x, "status"):
        data.update(status=x.status.value, status_label=x.status.label)
    return data


def room_json(meeting) -> dict:
    state = room.room_of(meeting)
    items = []
    # the whole room in a handful of statements, read once (the API shows no item clocks)
    for view in room.room_items(meeting, room=state, clocks=False):
        item = view.item
        items.append({"id": item.id, "title": item.title, "points": [point_json(p) for p in view.points],
                      "decisions": [work_item_json(d) for d in view.decisions],
                      "actions": [work_item_json(a) for a in view.actions]})
    return {
        "meeting_id": meeting.id, "status": meeting.status.value, "revision": state.revision if state else 0,
        "started_at": iso(state.started_at) if state else None, "ended_at": iso(state.ended_at) if state else None,
        "minutes_due_at": iso(state.minutes_due_at) if state else None,
        "current_agenda_item_id": state.current_item_id if state else None,
        "attendance": [{"username": a.user.username, "name": a.user.name, "status": a.status.value,
                        "status_label": a.status.label, "invited": a.invited, "arrived_at": iso(a.arrived_at),
                        "reason": a.absence_reason} for a in attendance.attendance(meeting)],
        "items": items,
    }


def _departments_ids(names, field: str) -> list[int]:
    return [_department_id(name, field) for name in names or []]


def _optional_user_id(username, field: str):
    return _user(username, field).id if username else None


def _item_and_meeting(item_id):
    item = meetings.get_agenda_item(me(), item_id)
    return item, item.meeting


def _vague_fields(exc: VagueWording) -> dict:
    fields = dict(exc.fields)
    fields["vague_terms"] = "、".join(f.term for f in exc.findings)
    fields["suggestions"] = "；".join(f"{f.term}：{f.suggestion}" for f in exc.findings)
    return fields


def _work_item_args(data: dict) -> dict:
    owner_id = _optional_user_id(data.get("owner"), "owner")
    return {"owner_department_id": _department_id(data.get("owner_department"), "owner_department"),
            "owner_id": owner_id, "cooperating_department_ids": _departments_ids(data.get("departments"), "departments"),
            "due": data.get("due") or "", "due_confirmed": str(data.get("due_confirmed") or "")}


@operation("/meetings/<int:meeting_id>/room", "GET", lazy_gettext("会议室当前记录：签到、各议题的观点/争议/共识、决议与待办"),
           response=schemas.ROOM, tag="room")
def get_room(meeting_id):
    return jsonify(room_json(meetings.get_meeting(me(), meeting_id)))


@operation("/meetings/<int:meeting_id>/start", "POST",
           lazy_gettext("开始会议（主持人或记录人；须已指定记录人且议程至少有一个议题，否则 409）：记录实际开始时间，此后会议时间以实际为准"
           "（原定时间见会议的 planned_starts_at）；与原定时间相差超过2小时也直接开始，不需确认（网页上会先请用户确认）"),
           response=schemas.ROOM, tag="room")
def start_meeting(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    room.start_meeting(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/meetings/<int:meeting_id>/finish", "POST", lazy_gettext("结束会议，进入待出纪要（24小时内）"), response=schemas.ROOM,
           tag="room")
def finish_meeting(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    review.finish_meeting(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/meetings/<int:meeting_id>/attendance", "POST", lazy_gettext("签到：到会 / 迟到 / 缺席（须注明原因）"),
           body=schemas.ATTENDANCE, response=schemas.ATTENDANCE_ROW, tag="room")
def post_attendance(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    user = _user(data["username"], "username")
    arrived = parse_iso(data["arrived_at"], "arrived_at") if data.get("arrived_at") else None
    try:
        row = attendance.mark_attendance(me(), meeting, user.id, data["status"], arrived_at=arrived,
                                   reason=data.get("reason", ""))
    except NotFound:
        row = attendance.add_attendee(me(), meeting, user.id)  # came without an invitation
        if data["status"] != "present":
            row = attendance.mark_attendance(me(), meeting, user.id, data["status"], arrived_at=arrived,
                                       reason=data.get("reason", ""))
    return jsonify({"username": row.user.username, "name": row.user.name, "status": row.status.value,
                    "status_label": row.status.label, "invited": row.invited, "arrived_at": iso(row.arrived_at),
                    "reason": row.absence_reason})


@operation("/agenda/<int:item_id>/points", "POST", lazy_gettext("记录观点 / 争议 / 共识（实时推送到所有参会者）"),
           body=schemas.POINT_CREATE, response=schemas.POINT, status=201, tag="room")
def create_point(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    point = recording.add_point(me(), meeting, item.id, data["kind"], data["text"],
                           _department_id(data.get("department"), "department"),
                           _optional_user_id(data.get("speaker"), "speaker"),
                           _departments_ids(data.get("parties"), "parties"))
    return jsonify(point_json(point)), 201


@operation("/points/<int:point_id>", "PATCH", lazy_gettext("修改要点（须带所修改的 version，过期则 409）"), body=schemas.POINT_PATCH,
           response=schemas.POINT, tag="room")
def patch_point(point_id, data):
    point = recording.get_point(me(), point_id)
    department = data["department"] if "department" in data else (point.department.name if point.department else None)
    speaker = data["speaker"] if "speaker" in data else (point.speaker.username if point.speaker else None)
    parties = data["parties"] if "parties" in data else [d.name for d in point.parties]
    recording.update_point(me(), point, data["version"], data.get("kind", point.kind.value), data.get("text", point.text),
                      _department_id(department, "department"), _optional_user_id(speaker, "speaker"),
                      _departments_ids(parties, "parties"))
    return jsonify(point_json(point))


@operation("/points/<int:point_id>", "DELETE", lazy_gettext("删除要点（可带 ?version= 防止误删他人刚改过的内容）"),
           response={"type": "object", "properties": {"deleted": {"type": "integer"}}}, tag="room",
           query={"version": {"type": "integer"}})
def delete_point(point_id):
    point = recording.get_point(me(), point_id)
    version = request.args.get("version", type=int)
    recording.delete_point(me(), point, version)
    return jsonify(deleted=point_id)


@operation("/agenda/<int:item_id>/decisions", "POST", lazy_gettext("记录决议（含模糊表述则 422 并列出词语与改法）"),
           body=schemas.WORK_ITEM_CREATE, response=schemas.DECISION, status=201, tag="room")
def create_decision(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    try:
        decision = recording.add_decision(me(), meeting, item.id, data["text"], **_work_item_args(data))
    except VagueWording as exc:
        raise ValidationFailed(exc.message, fields=_vague_fields(exc)) from None
    return jsonify(work_item_json(decision)), 201


@operation("/agenda/<int:item_id>/actions", "POST", lazy_gettext("记录待办（须有负责人与明确日期；含模糊表述则 422）"),
           body=schemas.WORK_ITEM_CREATE, response=schemas.ACTION, status=201, tag="room")
def create_action(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    try:
        action = recording.add_action(me(), meeting, item.id, data["text"], **_work_item_args(data))
    except VagueWording as exc:
        raise ValidationFailed(exc.message, fields=_vague_fields(exc)) from None
    return jsonify(work_item_json(action)), 201


@operation("/meetings/<int:meeting_id>/review", "POST", lazy_gettext("进入会末确认（逐项确认决议与待办）"), response=schemas.ROOM,
           tag="room")
def enter_review(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    review.enter_review(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/decisions/<int:decision_id>/confirm", "POST", lazy_gettext("会末确认：确认一项决议"), response=schemas.DECISION,
           body={"type": "object", "properties": {"version": {"type": "integer"}}, "additionalProperties": False},
           tag="room")
def confirm_decision(decision_id, data):
    decision = recording.get_decision(me(), decision_id)
    review.confirm_entry(me(), decision.meeting, decision.review_key, data.get("version"))
    return jsonify(work_item_json(decision))


@operation("/actions/<int:action_id>/confirm", "POST", lazy_gettext("会末确认：确认一项待办"), response=schemas.ACTION,
           body={"type": "object", "properties": {"version": {"type": "integer"}}, "additionalProperties": False},
           tag="room")
def confirm_action(action_id, data):
    action = recording.get_action(me(), action_id)
    review.confirm_entry(me(), action.meeting, action.review_key, data.get("version"))
    return jsonify(work_item_json(action))
