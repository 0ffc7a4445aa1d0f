"""API operations on meetings and their agenda (and who the caller is)."""
from flask import jsonify, request, url_for
from flask_babel import gettext, lazy_gettext

from minutes.api import schemas
from minutes.api.core import _department_id, _user, iso, me, operation, parse_iso, user_json
from minutes.core.errors import ValidationFailed
from minutes.meetings import listing, materials, sending
from minutes.meetings import service as meetings
from minutes.meetings.models import Role
from minutes.room import service as room


# --- serializers -----------------------------------------------------------------------------

def meeting_summary(m) -> dict:
    return {"id": m.id, "topic": m.topic, "scenario": m.scenario.value, "starts_at": iso(m.starts_at),
            "ends_at": iso(m.ends_at), "location": m.location, "organizer_department": m.organizer_department.name,
            "confidential": m.confidential, "status": m.status.value, "status_label": m.status.label,
            "host": m.host.username if m.host else None, "recorder": m.recorder.username if m.recorder else None,
            "url": url_for("meetings.show", meeting_id=m.id, _external=True)}


def agenda_json(item) -> dict:
    return {"id": item.id, "position": item.position, "title": item.title, "description": item.description,
            "minutes": item.minutes, "department": item.department.name if item.department else None,
            "materials": [{"id": mat.id, "name": mat.name, "kind": "link" if mat.is_link else "file",
                           "url": mat.url, "size": mat.size} for mat in item.materials]}


def meeting_json(m) -> dict:
    data = meeting_summary(m)
    data.update({
        "goal": m.goal, "expected_outcome": m.expected_outcome, "scenario_label": m.scenario.label,
        "online_link": m.online_link,
        "participants": [{"username": p.user.username, "name": p.user.name, "department": p.user.department.name,
                          "role": p.role.value} for p in m.participants],
        "agenda": [agenda_json(i) for i in m.agenda_items], "agenda_minutes": m.agenda_minutes,
        "planned_starts_at": iso(m.planned_starts_at), "planned_ends_at": iso(m.planned_ends_at),
        "agenda_sent_at": iso(m.agenda_sent_at),
        "agenda_sent_by": m.agenda_sent_by.username if m.agenda_sent_by else None,
        "agenda_late_reason": m.agenda_late_reason,
        "agenda_send_deadline": sending.agenda_send_deadline(m).isoformat(),
        "version": m.version,
    })
    return data


# --- parsing helpers -------------------------------------------------------------------------

def _meeting_input(data: dict, base=None) -> tuple[meetings.MeetingInput, dict]:
    errors = {}
    current = {}
    if base is not None:
        current = {"topic": base.topic, "goal": base.goal, "expected_outcome": base.expected_outcome,
                   "scenario": base.scenario.value, "starts_at": base.starts_at, "ends_at": base.ends_at,
                   "location": base.location, "online_link": base.online_link,
                   "organizer_department_id": base.organizer_department_id, "confidential": base.confidential}
    values = dict(current)
    for key in ("topic", "goal", "expected_outcome", "scenario", "location", "online_link", "confidential"):
        if key in data:
            values[key] = data[key]
    for key in ("starts_at", "ends_at"):
        if key in data:
            try:
                values[key] = parse_iso(data[key], key)
            except ValidationFailed as exc:
                errors.update(exc.fields)
                values[key] = None
    if "organizer_department" in data:
        try:
            values["organizer_department_id"] = _department_id(data["organizer_department"], "organizer_department")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    elif base is None:
        values["organizer_department_id"] = me().department_id
    values.setdefault("scenario", "kickoff")
    return meetings.MeetingInput(**values), errors


def _apply_people(meeting, data: dict) -> None:
    for role in (Role.HOST, Role.RECORDER):
        if data.get(role.value):
            meetings.assign_lead_role(me(), meeting, role, _user(data[role.value], role.value))
    for entry in data.get("participants") or []:
        user = _user(entry["username"], "participants")
        role = Role(entry.get("role", "participant"))
        if role in (Role.HOST, Role.RECORDER):
            meetings.assign_lead_role(me(), meeting, role, user)
            continue
        existing = next((p for p in meeting.participants if p.user_id == user.id), None)
        if existing is None:
            meetings.invite(me(), meeting, [user.id], role.value)
        elif existing.role not in (Role.HOST, Role.RECORDER):
            meetings.set_role(me(), existing, role.value)


# --- operations ------------------------------------------------------------------------------

@operation("/me", "GET", lazy_gettext("当前令牌所属的用户"), response=schemas.USER, tag="people")
def get_me():
    return jsonify(user_json(me()))


@operation("/meetings", "GET", lazy_gettext("我可见的会议（默认即将召开，scope=past 为已结束）"),
           response={"type": "object", "required": ["meetings"], "properties": {
               "meetings": {"type": "array", "items": schemas.MEETING_SUMMARY}}},
           query={"scope": {"type": "string", "enum": ["", "upcoming", "past"],
                            "description": lazy_gettext("空值等同于不填")}})
def list_meetings():
    scope = request.args.get("scope", "").strip() or "upcoming"
    if scope not in ("upcoming", "past"):
        raise ValidationFailed(gettext("scope 须为 upcoming 或 past"), field="scope")
    return jsonify(meetings=[meeting_summary(m) for m in listing.list_meetings(me(), scope)])


@operation("/meetings", "POST", lazy_gettext("创建会议（创建者默认为主持人）"), body=schemas.MEETING_CREATE,
           response=schemas.MEETING, status=201)
def create_meeting(data):
    payload, errors = _meeting_input(data)
    meeting = meetings.create_meeting(me(), payload, errors)
    _apply_people(meeting, data)
    return jsonify(meeting_json(meeting)), 201


@operation("/meetings/<int:meeting_id>", "GET", lazy_gettext("会议详情"), response=schemas.MEETING)
def get_meeting(meeting_id):
    return jsonify(meeting_json(meetings.get_meeting(me(), meeting_id)))


@operation("/meetings/<int:meeting_id>", "PATCH", lazy_gettext("修改会议（可带 version 防止覆盖他人修改）"),
           body=schemas.MEETING_PATCH, response=schemas.MEETING)
def patch_meeting(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    fields = set(data) - {"host", "recorder", "participants", "version"}
    if fields:
        payload, errors = _meeting_input(data, base=meeting)
        sending.change_meeting(me(), meeting, payload, data.get("version"), errors)
    elif "version" in data and data["version"] != meeting.version:
        meetings.update_meeting(me(), meeting, _meeting_input({}, base=meeting)[0], data["version"])
    _apply_people(meeting, data)
    return jsonify(meeting_json(meeting))


@operation("/meetings/<int:meeting_id>/agenda", "POST",
           lazy_gettext("添加议题（排在最后）；会议进行中由主持人或记录人添加临时议题，实时推送到所有参会者"),
           body=schemas.AGENDA_CREATE, response=schemas.AGENDA_ITEM, status=201)
def create_agenda_item(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    dept_id = _department_id(data.get("department"), "department")
    item = room.add_agenda_item(me(), meeting, data["title"], data["minutes"], dept_id, data.get("description", ""))
    for material in data.get("materials") or []:
        materials.add_material_link(me(), item, material["url"], material.get("title", ""))
    return jsonify(agenda_json(item)), 201


@operation("/agenda/<int:item_id>", "PATCH", lazy_gettext("修改议题"), body=schemas.AGENDA_PATCH,
           response=schemas.AGENDA_ITEM)
def patch_agenda_item(item_id, data):
    item = meetings.get_agenda_item(me(), item_id)
    department = data["department"] if "department" in data else (item.department.name if item.department else None)
    meetings.update_agenda_item(me(), item, data.get("title", item.title), data.get("minutes", item.minutes),
                                _department_id(department, "department"), data.get("description", item.description))
    return jsonify(agenda_json(item))


@operation("/agenda/<int:item_id>", "DELETE", lazy_gettext("删除议题"),
           response={"type": "object", "properties": {"deleted": {"type": "integer"}}})
def delete_agenda_item(item_id):
    item = meetings.get_agenda_item(me(), item_id)
    meetings.delete_agenda_item(me(), item)
    return jsonify(deleted=item_id)


@operation("/meetings/<int:meeting_id>/agenda/order", "POST", lazy_gettext("调整议题优先级顺序"),
           body=schemas.AGENDA_ORDER, response={"type": "object", "properties": {
               "agenda": {"type": "array", "items": schemas.AGENDA_ITEM}}})
def order_agenda(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    meetings.reorder_agenda(me(), meeting, data)
    return jsonify(agenda=[agenda_json(i) for i in meeting.agenda_items])


@operation("/meetings/<int:meeting_id>/send-agenda", "POST",
           lazy_gettext("发送议程（不足2个工作日须填写 reason，否则 409 并给出最早合规的会议日期）"),
           body=schemas.SEND_AGENDA, response=schemas.MEETING)
def send_agenda(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    sending.send_agenda(me(), meeting, data.get("reason"))
    return jsonify(meeting_json(meeting))
