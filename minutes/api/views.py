"""JSON API v1 over the same service functions as the pages; /openapi.json is built from this registry."""
import re
from datetime import datetime
from functools import wraps

import jsonschema
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from minutes.api import schemas
from minutes.api import service as tokens
from minutes.core.errors import DomainError, NotFound, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, to_local
from minutes.dbtypes import MAX_ID, parse_id
from minutes.extensions import csrf, db
from minutes.meetings import listing, sending, service as meetings
from minutes.meetings.models import Role
from minutes.people import service as people
from minutes.web import record_use_after_request, session_is_current

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

FIELD_ALIASES = {"owner_id": "owner", "owner_department_id": "owner_department", "department_id": "department",
                 "cooperating_department_ids": "departments", "speaker_id": "speaker", "party_ids": "parties",
                 "organizer_department_id": "organizer_department", "user_id": "username", "user_ids": "participants"}

#: Every operation, registered by @operation; the OpenAPI document is generated from it.
OPERATIONS: list[dict] = []
ERROR_STATUSES = {"400": "请求格式错误", "401": "未登录或令牌无效", "403": "无权限", "404": "不存在或无权查看",
                  "405": "不支持该请求方法（Allow 头列出支持的方法）", "409": "与业务规则或他人的修改冲突",
                  "422": "字段校验失败"}


def _openapi_path(rule: str) -> tuple[str, list[str]]:
    params = re.findall(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", rule)
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule), params


def operation(rule: str, method: str, summary: str, *, body: dict | None = None, response: dict | None = None,
              status: int = 200, query: dict | None = None, tag: str = "meetings", security: str = "bearer"):
    """Register an API operation: its route, request schema, response schema and OpenAPI entry."""

    body = None if body is None else schemas.no_nul(body)
    query = {name: schemas.no_nul(schema) for name, schema in (query or {}).items()}

    def decorate(fn):
        path, params = _openapi_path(rule)
        OPERATIONS.append({"path": path, "method": method.lower(), "summary": summary, "body": body,
                           "response": response, "status": status, "params": params, "query": query,
                           "operationId": fn.__name__, "tag": tag, "security": security})

        @wraps(fn)
        def view(**kwargs):
            unknown = sorted(set(request.args) - set(query))
            if unknown:  # like a body's unknown field: a misspelt filter must not silently mean "no filter"
                message = gettext("不认识的查询参数：%(names)s", names="、".join(unknown))
                raise ValidationFailed(message, fields=dict.fromkeys(unknown, message))
            if body is not None:
                data = request.get_json(silent=True)
                if data is None:
                    raise ValidationFailed(gettext("请求体须为 JSON（Content-Type: application/json）"), field="body")
                errors = sorted(jsonschema.Draft202012Validator(body).iter_errors(data), key=lambda e: list(e.path))
                if errors:
                    fields = {}
                    for err in errors:
                        name = ".".join(str(p) for p in err.path) or "body"
                        fields.setdefault(name, _schema_message(err))
                    raise ValidationFailed(next(iter(fields.values())), fields=fields)
                kwargs["data"] = data
            try:
                return fn(**kwargs)
            except DomainError as exc:
                # the services name form fields (owner_id); the API speaks in its own field names (owner)
                renamed = {}
                for key, message in exc.fields.items():
                    renamed.setdefault(FIELD_ALIASES.get(key, key), message)
                exc.fields = {**renamed, **{k: v for k, v in exc.fields.items() if k not in FIELD_ALIASES}}
                raise

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return view

    return decorate


def _schema_message(err: jsonschema.ValidationError) -> str:
    name = ".".join(str(p) for p in err.path) or "请求体"
    if err.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        return f"缺少必填字段：{', '.join(missing) or err.message}"
    if err.validator == "additionalProperties":
        return f"不认识的字段：{err.message.split('(')[-1].rstrip(')')}"
    if err.validator == "type":
        return f"字段 {name} 的类型不正确（应为 {err.validator_value}）"
    if err.validator == "pattern":
        return f"字段 {name} 不能为空白，也不能含 NUL 字符"
    if err.validator in ("minimum", "maximum"):
        return f"字段 {name} 超出允许范围（{err.schema.get('minimum', '…')}–{err.schema.get('maximum', '…')}）"
    if err.validator == "minLength":
        return f"字段 {name} 不能为空"
    if err.validator == "anyOf" and err.schema.get("description"):
        return err.schema["description"]
    if err.validator in ("maxLength", "maxItems"):
        return f"字段 {name} 过长（上限 {err.validator_value}）"
    if err.validator == "enum":
        return f"字段 {name} 的取值须为：{'、'.join(map(str, err.validator_value))}"
    return f"字段 {name} 无效"


@bp.before_request
def authenticate():
    """Every API call needs `Authorization: Bearer <token>`; the session cookie is not accepted.

    Except for creating a token, which needs a signed-in person and is refused to a token: that call
    takes the browser's session (and its CSRF token) when no Bearer token is sent.
    """
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if not header and request.endpoint == "api.create_token":
        return _authenticate_browser()
    token = tokens.live_token(header[7:].strip() if header.lower().startswith("bearer ") else "")
    if token is None:
        return jsonify(error={"code": "unauthorized", "message": "缺少或无效的 API 令牌（Authorization: Bearer …）",
                              "fields": {}}), 401
    record_use_after_request(token, tokens.record_token_use)
    if request.endpoint == "api.create_token":
        tokens.check_may_issue(token)
    tokens.check_method(token, request.method)
    g.api_user, g.api_token = token.user, token
    return None


def _authenticate_browser():
    from flask_login import current_user

    if not current_user.is_authenticated or not session_is_current():
        return jsonify(error={"code": "unauthorized", "message": gettext("请先登录"), "fields": {}}), 401
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    g.api_user, g.api_token = current_user._get_current_object(), None
    return None


def me():
    return g.api_user


# --- serializers -----------------------------------------------------------------------------

def iso(dt: datetime | None) -> str | None:
    return to_local(dt).isoformat() if dt else None


def user_json(user) -> dict:
    return {"id": user.id, "username": user.username, "name": user.name, "department": user.department.name,
            "email": user.email, "title": user.title, "is_admin": bool(user.is_admin)}


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

def parse_iso(value, field: str) -> datetime:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(gettext("%(field)s 须为 ISO 8601 时间，例如 2026-06-15T14:00:00+08:00",
                                       field=field), field=field) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LOCAL_TZ)
    return dt


def _department_id(name: str | None, field: str) -> int | None:
    if name in (None, ""):
        return None
    try:
        return people.get_department(name).id
    except NotFound:
        raise ValidationFailed(gettext("部门“%(name)s”不存在", name=name), field=field) from None


def _user(username: str, field: str):
    try:
        return people.user_by_username(username)
    except NotFound:
        raise ValidationFailed(gettext("用户“%(username)s”不存在", username=username), field=field) from None


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

@operation("/me", "GET", "当前令牌所属的用户", response=schemas.USER, tag="people")
def get_me():
    return jsonify(user_json(me()))


@operation("/meetings", "GET", "我可见的会议（默认即将召开，scope=past 为已结束）",
           response={"type": "object", "required": ["meetings"], "properties": {
               "meetings": {"type": "array", "items": schemas.MEETING_SUMMARY}}},
           query={"scope": {"type": "string", "enum": ["", "upcoming", "past"], "description": "空值等同于不填"}})
def list_meetings():
    scope = request.args.get("scope", "").strip() or "upcoming"
    if scope not in ("upcoming", "past"):
        raise ValidationFailed(gettext("scope 须为 upcoming 或 past"), field="scope")
    return jsonify(meetings=[meeting_summary(m) for m in listing.list_meetings(me(), scope)])


@operation("/meetings", "POST", "创建会议（创建者默认为主持人）", body=schemas.MEETING_CREATE,
           response=schemas.MEETING, status=201)
def create_meeting(data):
    payload, errors = _meeting_input(data)
    meeting = meetings.create_meeting(me(), payload, errors)
    _apply_people(meeting, data)
    return jsonify(meeting_json(meeting)), 201


@operation("/meetings/<int:meeting_id>", "GET", "会议详情", response=schemas.MEETING)
def get_meeting(meeting_id):
    return jsonify(meeting_json(meetings.get_meeting(me(), meeting_id)))


@operation("/meetings/<int:meeting_id>", "PATCH", "修改会议（可带 version 防止覆盖他人修改）",
           body=schemas.MEETING_PATCH, response=schemas.MEETING)
def patch_meeting(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    fields = set(data) - {"host", "recorder", "participants", "version"}
    if fields:
        payload, errors = _meeting_input(data, base=meeting)
        meetings.update_meeting(me(), meeting, payload, data.get("version"), errors)
    elif "version" in data and data["version"] != meeting.version:
        meetings.update_meeting(me(), meeting, _meeting_input({}, base=meeting)[0], data["version"])
    _apply_people(meeting, data)
    return jsonify(meeting_json(meeting))


@operation("/meetings/<int:meeting_id>/agenda", "POST",
           "添加议题（排在最后）；会议进行中由主持人或记录人添加临时议题，实时推送到所有参会者",
           body=schemas.AGENDA_CREATE, response=schemas.AGENDA_ITEM, status=201)
def create_agenda_item(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    dept_id = _department_id(data.get("department"), "department")
    item = room.add_agenda_item(me(), meeting, data["title"], data["minutes"], dept_id, data.get("description", ""))
    for material in data.get("materials") or []:
        meetings.add_material_link(me(), item, material["url"], material.get("title", ""))
    return jsonify(agenda_json(item)), 201


@operation("/agenda/<int:item_id>", "PATCH", "修改议题", body=schemas.AGENDA_PATCH,
           response=schemas.AGENDA_ITEM)
def patch_agenda_item(item_id, data):
    item = meetings.get_agenda_item(me(), item_id)
    department = data["department"] if "department" in data else (item.department.name if item.department else None)
    meetings.update_agenda_item(me(), item, data.get("title", item.title), data.get("minutes", item.minutes),
                                _department_id(department, "department"), data.get("description", item.description))
    return jsonify(agenda_json(item))


@operation("/agenda/<int:item_id>", "DELETE", "删除议题",
           response={"type": "object", "properties": {"deleted": {"type": "integer"}}})
def delete_agenda_item(item_id):
    item = meetings.get_agenda_item(me(), item_id)
    meetings.delete_agenda_item(me(), item)
    return jsonify(deleted=item_id)


@operation("/meetings/<int:meeting_id>/agenda/order", "POST", "调整议题优先级顺序",
           body=schemas.AGENDA_ORDER, response={"type": "object", "properties": {
               "agenda": {"type": "array", "items": schemas.AGENDA_ITEM}}})
def order_agenda(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    meetings.reorder_agenda(me(), meeting, data)
    return jsonify(agenda=[agenda_json(i) for i in meeting.agenda_items])


@operation("/meetings/<int:meeting_id>/send-agenda", "POST",
           "发送议程（不足2个工作日须填写 reason，否则 409 并给出最早合规的会议日期）",
           body=schemas.SEND_AGENDA, response=schemas.MEETING)
def send_agenda(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    sending.send_agenda(me(), meeting, data.get("reason"))
    return jsonify(meeting_json(meeting))


@operation("/tokens", "POST", "为当前用户创建新令牌（明文只返回这一次）；须登录的浏览器会话（Cookie 与 X-CSRFToken），"
           "用 API 令牌调用时返回 403", body=schemas.TOKEN_CREATE,
           response={"type": "object", "required": ["id", "token", "read_only"], "properties": {
               "id": {"type": "integer"}, "name": {"type": "string"}, "read_only": {"type": "boolean"},
               "token": {"type": "string"}}},
           status=201, tag="people", security="session")
def create_token(data):
    token, plaintext = tokens.create_token(me(), data["name"], data.get("read_only", False), via_token=g.api_token)
    return jsonify(id=token.id, name=token.name, read_only=token.read_only, token=plaintext), 201


@operation("/tokens/<int:token_id>", "DELETE", "吊销令牌",
           response={"type": "object", "properties": {"revoked": {"type": "integer"}}}, tag="people")
def revoke_token(token_id):
    tokens.revoke_token(me(), token_id)
    return jsonify(revoked=token_id)


# --- the OpenAPI document --------------------------------------------------------------------

def openapi_document() -> dict:
    """Build the OpenAPI 3.1 description from the registered operations."""
    paths: dict = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for op in OPERATIONS:
        entry = {
            "operationId": op["operationId"], "summary": op["summary"], "tags": [op["tag"]],
            "security": [{op["security"]: []}],
            "responses": {
                str(op["status"]): {"description": "成功",
                                    "content": {"application/json": {"schema": op["response"] or {"type": "object"}}}},
                **{code: {"description": text, "content": {"application/json": {"schema": error_ref}}}
                   for code, text in ERROR_STATUSES.items()},
            },
        }
        parameters = [{"name": p, "in": "path", "required": True,
                       "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}} for p in op["params"]]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in op["query"].items()]
        if parameters:
            entry["parameters"] = parameters
        if op["body"] is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": op["body"]}}}
        paths.setdefault(op["path"], {})[op["method"]] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "minutes API", "version": "1.0.0",
                 "description": "跨部门会议纪要系统的集成接口。所有请求须带 Authorization: Bearer <令牌>；"
                                "令牌在“个人设置”中创建，或用 flask minutes token <用户名>。"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": schemas.ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                                            "description": "登录后的浏览器会话；写请求另带 X-CSRFToken 头"}},
        },
    }


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(openapi_document())


@bp.errorhandler(DomainError)
def api_domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(error={"code": exc.code, "message": exc.message, "fields": exc.fields}), exc.status


# --- the live room ---------------------------------------------------------------------------

from minutes.core.clarity import describe_deadline  # noqa: E402
from minutes.room import service as room  # noqa: E402
from minutes.room.service import VagueWording  # noqa: E402


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
    for item in meeting.agenda_items:
        view = room.item_view(meeting, item, state)
        items.append({"id": item.id, "title": item.title, "points": [point_json(p) for p in view.points],
                      "decisions": [work_item_json(d) for d in view.decisions],
                      "actions": [work_item_json(a) for a in view.actions]})
    return {
        "meeting_id": meeting.id, "status": meeting.status.value, "revision": room.current_revision(meeting.id),
        "started_at": iso(state.started_at) if state else None, "ended_at": iso(state.ended_at) if state else None,
        "minutes_due_at": iso(state.minutes_due_at) if state else None,
        "current_agenda_item_id": state.current_item_id if state else None,
        "attendance": [{"username": a.user.username, "name": a.user.name, "status": a.status.value,
                        "status_label": a.status.label, "invited": a.invited, "arrived_at": iso(a.arrived_at),
                        "reason": a.absence_reason} for a in room.attendance(meeting)],
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


@operation("/meetings/<int:meeting_id>/room", "GET", "会议室当前记录：签到、各议题的观点/争议/共识、决议与待办",
           response=schemas.ROOM, tag="room")
def get_room(meeting_id):
    return jsonify(room_json(meetings.get_meeting(me(), meeting_id)))


@operation("/meetings/<int:meeting_id>/start", "POST",
           "开始会议（主持人或记录人；须已指定记录人且议程至少有一个议题，否则 409）：记录实际开始时间，此后会议时间以实际为准"
           "（原定时间见会议的 planned_starts_at）；与原定时间相差超过2小时也直接开始，不需确认（网页上会先请用户确认）",
           response=schemas.ROOM, tag="room")
def start_meeting(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    room.start_meeting(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/meetings/<int:meeting_id>/finish", "POST", "结束会议，进入待出纪要（24小时内）", response=schemas.ROOM,
           tag="room")
def finish_meeting(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    room.finish_meeting(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/meetings/<int:meeting_id>/attendance", "POST", "签到：到会 / 迟到 / 缺席（须注明原因）",
           body=schemas.ATTENDANCE, response=schemas.ATTENDANCE_ROW, tag="room")
def post_attendance(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    user = _user(data["username"], "username")
    arrived = parse_iso(data["arrived_at"], "arrived_at") if data.get("arrived_at") else None
    try:
        row = room.mark_attendance(me(), meeting, user.id, data["status"], arrived_at=arrived,
                                   reason=data.get("reason", ""))
    except NotFound:
        row = room.add_attendee(me(), meeting, user.id)  # came without an invitation
        if data["status"] != "present":
            row = room.mark_attendance(me(), meeting, user.id, data["status"], arrived_at=arrived,
                                       reason=data.get("reason", ""))
    return jsonify({"username": row.user.username, "name": row.user.name, "status": row.status.value,
                    "status_label": row.status.label, "invited": row.invited, "arrived_at": iso(row.arrived_at),
                    "reason": row.absence_reason})


@operation("/agenda/<int:item_id>/points", "POST", "记录观点 / 争议 / 共识（实时推送到所有参会者）",
           body=schemas.POINT_CREATE, response=schemas.POINT, status=201, tag="room")
def create_point(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    point = room.add_point(me(), meeting, item.id, data["kind"], data["text"],
                           _department_id(data.get("department"), "department"),
                           _optional_user_id(data.get("speaker"), "speaker"),
                           _departments_ids(data.get("parties"), "parties"))
    return jsonify(point_json(point)), 201


@operation("/points/<int:point_id>", "PATCH", "修改要点（须带所修改的 version，过期则 409）", body=schemas.POINT_PATCH,
           response=schemas.POINT, tag="room")
def patch_point(point_id, data):
    point = room.get_point(me(), point_id)
    department = data["department"] if "department" in data else (point.department.name if point.department else None)
    speaker = data["speaker"] if "speaker" in data else (point.speaker.username if point.speaker else None)
    parties = data["parties"] if "parties" in data else [d.name for d in point.parties]
    room.update_point(me(), point, data["version"], data.get("kind", point.kind.value), data.get("text", point.text),
                      _department_id(department, "department"), _optional_user_id(speaker, "speaker"),
                      _departments_ids(parties, "parties"))
    return jsonify(point_json(point))


@operation("/points/<int:point_id>", "DELETE", "删除要点（可带 ?version= 防止误删他人刚改过的内容）",
           response={"type": "object", "properties": {"deleted": {"type": "integer"}}}, tag="room",
           query={"version": {"type": "integer"}})
def delete_point(point_id):
    point = room.get_point(me(), point_id)
    version = request.args.get("version", type=int)
    room.delete_point(me(), point, version)
    return jsonify(deleted=point_id)


@operation("/agenda/<int:item_id>/decisions", "POST", "记录决议（含模糊表述则 422 并列出词语与改法）",
           body=schemas.WORK_ITEM_CREATE, response=schemas.DECISION, status=201, tag="room")
def create_decision(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    try:
        decision = room.add_decision(me(), meeting, item.id, data["text"], **_work_item_args(data))
    except VagueWording as exc:
        raise ValidationFailed(exc.message, fields=_vague_fields(exc)) from None
    return jsonify(work_item_json(decision)), 201


@operation("/agenda/<int:item_id>/actions", "POST", "记录待办（须有负责人与明确日期；含模糊表述则 422）",
           body=schemas.WORK_ITEM_CREATE, response=schemas.ACTION, status=201, tag="room")
def create_action(item_id, data):
    item, meeting = _item_and_meeting(item_id)
    try:
        action = room.add_action(me(), meeting, item.id, data["text"], **_work_item_args(data))
    except VagueWording as exc:
        raise ValidationFailed(exc.message, fields=_vague_fields(exc)) from None
    return jsonify(work_item_json(action)), 201


@operation("/meetings/<int:meeting_id>/review", "POST", "进入会末确认（逐项确认决议与待办）", response=schemas.ROOM,
           tag="room")
def enter_review(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    room.enter_review(me(), meeting)
    return jsonify(room_json(meeting))


@operation("/decisions/<int:decision_id>/confirm", "POST", "会末确认：确认一项决议", response=schemas.DECISION,
           body={"type": "object", "properties": {"version": {"type": "integer"}}, "additionalProperties": False},
           tag="room")
def confirm_decision(decision_id, data):
    decision = room.get_decision(me(), decision_id)
    room.confirm_entry(me(), decision.meeting, decision.review_key, data.get("version"))
    return jsonify(work_item_json(decision))


@operation("/actions/<int:action_id>/confirm", "POST", "会末确认：确认一项待办", response=schemas.ACTION,
           body={"type": "object", "properties": {"version": {"type": "integer"}}, "additionalProperties": False},
           tag="room")
def confirm_action(action_id, data):
    action = room.get_action(me(), action_id)
    room.confirm_entry(me(), action.meeting, action.review_key, data.get("version"))
    return jsonify(work_item_json(action))


# --- formal minutes --------------------------------------------------------------------------

from minutes.records import drafting, reading, signoff  # noqa: E402


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


@operation("/meetings/<int:meeting_id>/minutes", "POST", "根据会议记录生成纪要草稿（已存在则返回现有纪要）",
           response=schemas.MINUTES, status=201, tag="minutes")
def create_minutes(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    drafting.draft_from_record(me(), meeting)
    return jsonify(minutes_json(reading.get_current(me(), meeting))), 201


@operation("/meetings/<int:meeting_id>/minutes", "GET", "纪要状态、当前版本、定稿版本与收件人确认情况",
           response=schemas.MINUTES, tag="minutes")
def get_minutes(meeting_id):
    meeting = meetings.get_meeting(me(), meeting_id)
    return jsonify(minutes_json(reading.get_current(me(), meeting)))


@operation("/meetings/<int:meeting_id>/minutes/distribute", "POST", "分发纪要（第1版），收件人须在1个工作日内回复",
           body=schemas.DISTRIBUTE, response=schemas.MINUTES, tag="minutes")
def distribute_minutes(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    chosen = _usernames_to_ids(data["recipients"], "recipients") if "recipients" in data else None
    signoff.distribute(me(), meeting, recipient_ids=chosen, extra_ids=_usernames_to_ids(data.get("extra"), "extra"),
                       markdown=data.get("markdown"))
    return jsonify(minutes_json(reading.get_current(me(), meeting)))


@operation("/minutes/<int:version_id>/responses", "POST", "收件人本人回复：确认无误（confirm）或提出修改意见（change）",
           body=schemas.RESPONSE_CREATE, status=201, tag="minutes",
           response={"type": "object", "required": ["id", "response"], "properties": {
               "id": {"type": "integer"}, "response": {"type": "string"}, "version_id": {"type": "integer"},
               "comment": {"type": "string"}}})
def respond_to_minutes(version_id, data):
    answer = signoff.respond(me(), version_id, data["response"], data.get("comment", ""), data.get("item"))
    return jsonify(id=answer.id, response=data["response"], version_id=version_id,
                   comment=data.get("comment", "")), 201


@operation("/meetings/<int:meeting_id>/minutes/finalize", "POST", "定稿：全部确认后自动定稿；主持人可注明原因后定稿",
           body=schemas.FINALIZE, response=schemas.MINUTES, tag="minutes")
def finalize_minutes(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    signoff.finalize(me(), meeting, data.get("reason"))
    return jsonify(minutes_json(reading.get_current(me(), meeting)))


# --- action tracking -------------------------------------------------------------------------

from minutes.actions import service as actions  # noqa: E402


def _page_arg() -> int:
    """The `page` query argument of a paged list (1 when absent); a page past the end is answered empty."""
    page = request.args.get("page", "1").strip()
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 100000:
        raise ValidationFailed(gettext("page 须为正整数"), field="page")
    return int(page)


def _paged(total: int, page: int, per_page: int) -> dict:
    """What every paged list says about its paging: the page asked for and how many pages there are."""
    return {"total": total, "page": page, "pages": max(1, -(-total // per_page))}


def _date_arg(name: str):
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationFailed(gettext("%(name)s 须为日期，例如 2026-06-30", name=name), field=name) from None


@operation("/actions", "GET", "待办跟踪：按负责人、部门、状态、截止日期筛选（我可见的会议中的待办）",
           response={"type": "object", "required": ["total", "page", "pages", "actions"], "properties": {
               **schemas.PAGING, "actions": {"type": "array", "items": schemas.ACTION}}},
           query={"owner": {"type": "string"}, "department": {"type": "string"},
                  "status": {"type": "string", "enum": ["", "not_started", "in_progress", "done", "delayed",
                                                        "need_support", "open", "overdue", "escalated"]},
                  "due_before": schemas.OPTIONAL_DATE, "due_after": schemas.OPTIONAL_DATE,
                  "meeting": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                  "page": {"type": "integer", "minimum": 1, "maximum": 100000}},
           tag="actions")
def list_actions():
    status = request.args.get("status", "")
    if status and status not in actions.STATUS_FILTERS:
        raise ValidationFailed(gettext("status 取值无效"), field="status")
    owner = request.args.get("owner", "").strip()
    department = request.args.get("department", "").strip()
    meeting_arg = request.args.get("meeting", "").strip()
    page = _page_arg()
    if meeting_arg and parse_id(meeting_arg) is None:
        raise ValidationFailed(gettext("meeting 须为会议编号"), field="meeting")
    filters = actions.ActionFilters(
        owner_id=_user(owner, "owner").id if owner else None,
        department_id=_department_id(department, "department") if department else None,
        status=status, meeting_id=parse_id(meeting_arg),
        due_from=_date_arg("due_after"), due_to=_date_arg("due_before"), page=page)
    result = actions.list_actions(me(), filters)
    return jsonify(**_paged(result.total, result.page, actions.PAGE_SIZE),
                   actions=[work_item_json(a) for a in result.items])


@operation("/actions/<int:action_id>", "PATCH", "负责人更新待办状态与进展（延期须给新日期，需支持须写明部门与所需支持）",
           body=schemas.ACTION_PATCH, response=schemas.ACTION, tag="actions")
def patch_action(action_id, data):
    action = actions.get_action(me(), action_id)
    support = _department_id(data.get("support_department"), "support_department")
    actions.update_status(me(), action, data["status"], data.get("note", ""), data.get("new_due"), support,
                          version=data.get("version"), source="api")
    return jsonify(work_item_json(action))


# --- search ----------------------------------------------------------------------------------

from minutes.archive.models import DocKind  # noqa: E402


@operation("/search", "GET", "知识库检索：主题、目标、观点、决议、待办与定稿纪要的中文全文检索",
           response=schemas.SEARCH_RESULTS, tag="archive",
           query={"q": {"type": "string"}, "department": {"type": "string"}, "from": schemas.OPTIONAL_DATE,
                  "to": schemas.OPTIONAL_DATE, "kind": {"type": "string", "enum": ["", *(k.value for k in DocKind)]},
                  "page": {"type": "integer", "minimum": 1, "maximum": 100000}})
def search():
    from minutes.archive import service as archive

    args = request.args
    page = _page_arg()
    found = archive.search_api(me(), q=args.get("q", ""), department=args.get("department"),
                               date_from=args.get("from"), date_to=args.get("to"), kind=args.get("kind"), page=page)
    return jsonify({**found, **_paged(found["total"], page, archive.API_PER_PAGE)})
