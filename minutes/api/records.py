"""API operations on the formal minutes: draft, distribute, respond, finalize."""
from flask import jsonify
from flask_babel import lazy_gettext

from minutes.api import schemas
from minutes.api.core import _user, iso, me, operation
from minutes.meetings import service as meetings
from minutes.records import drafting, reading, signoff


def version_json(v, body: bool = True) -> dict | None:
    if v is None:
        return None
    data = {"id": v.id, "number": v.number, "label": v.label, "kind": v.kind.value, "corrects_id": v.corrects_id,
            "content_hash": v.content_hash, "final": v.is_final, "created_at": iso(v.created_at),
            "finalized_at": iso(v.finalized_at), "note": v.note or ""}
    if body:
        data["body"] = v.body
    return data


def minutes_json(state) -> dict:
    m = state.minutes
    return {
        "meeting_id": state.meeting.id, "status": m.status.value if m else "none", "status_label": state.status_label,
        "due_at": iso(state.due_at), "overdue": state.overdue,
        "draft": m.draft_body if (m and state.can_write) else None,
        "draft_revision": m.draft_revision if (m and state.can_write) else None,
        "current": version_json(state.current), "final": version_json(state.final), "final_intact": state.final_intact,
        "versions": [version_json(v, body=False) for v in state.versions],
        "recipients": [{"username": s.user.username, "name": s.user.name, "state": s.state, "label": s.label,
                        "overdue": s.overdue} for s in state.states],
    }


def _usernames_to_ids(names, field: str) -> list[int]:
    return [_user(n, field).id for n in names or []]


@operation("/meetings/<int:meeting_id>/minutes", "POST", lazy_gettext("根据会议记录生成纪要草稿（已存在则返回现有纪要）"),
           response=schemas.MINUTES, status=201, tag="minutes")
def create_minutes(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    drafting.draft_from_record(me(), meeting)
    return jsonify(minutes_json(reading.get_current(me(), meeting))), 201


@operation("/meetings/<int:meeting_id>/minutes", "GET", lazy_gettext("纪要状态、当前版本、定稿版本与收件人确认情况"),
           response=schemas.MINUTES, tag="minutes")
def get_minutes(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    return jsonify(minutes_json(reading.get_current(me(), meeting)))


@operation("/meetings/<int:meeting_id>/minutes/distribute", "POST", lazy_gettext("分发纪要（第1版），收件人须在1个工作日内回复"),
           body=schemas.DISTRIBUTE, response=schemas.MINUTES, tag="minutes")
def distribute_minutes(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    chosen = _usernames_to_ids(data["recipients"], "recipients") if "recipients" in data else None
    signoff.distribute(me(), meeting, recipient_ids=chosen, extra_ids=_usernames_to_ids(data.get("extra"), "extra"),
                       markdown=data.get("markdown"))
    return jsonify(minutes_json(reading.get_current(me(), meeting)))


@operation("/minutes/<int:version_id>/responses", "POST", lazy_gettext("收件人本人回复：确认无误（confirm）或提出修改意见（change）"),
           body=schemas.RESPONSE_CREATE, status=201, tag="minutes",
           response={"type": "object", "required": ["id", "response"], "properties": {
               "id": {"type": "integer"}, "response": {"type": "string"}, "version_id": {"type": "integer"},
               "comment": {"type": "string"}}})
def respond_to_minutes(version_id, data):
    answer = signoff.respond(me(), version_id, data["response"], data.get("comment", ""), data.get("item"))
    return jsonify(id=answer.id, response=data["response"], version_id=version_id,
                   comment=data.get("comment", "")), 201


@operation("/meetings/<int:meeting_id>/minutes/finalize", "POST", lazy_gettext("定稿：全部确认后自动定稿；主持人可注明原因后定稿"),
           body=schemas.FINALIZE, response=schemas.MINUTES, tag="minutes")
def finalize_minutes(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    signoff.finalize(me(), meeting, data.get("reason"))
    return jsonify(minutes_json(reading.get_current(me(), meeting)))
