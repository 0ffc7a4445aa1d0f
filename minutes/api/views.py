"""JSON API v1 over the same service functions as the pages; /openapi.json is built from this registry."""
import re
from datetime import datetime
from functools import wraps

import jsonschema
from flask import Blueprint, g, jsonify, request, url_for

from minutes.api import schemas
from minutes.api import service as tokens
from minutes.core.errors import DomainError, NotFound, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, to_local
from minutes.extensions import csrf, db
from minutes.meetings import service as meetings
from minutes.meetings.models import Role
from minutes.people import service as people

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: Every operation, registered by @operation; the OpenAPI document is generated from it.
OPERATIONS: list[dict] = []
ERROR_STATUSES = {"400": "请求格式错误", "401": "未登录或令牌无效", "403": "无权限", "404": "不存在或无权查看",
                  "409": "与业务规则或他人的修改冲突", "422": "字段校验失败"}


def _openapi_path(rule: str) -> tuple[str, list[str]]:
    params = re.findall(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", rule)
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule), params


def operation(rule: str, method: str, summary: str, *, body: dict | None = None, response: dict | None = None,
              status: int = 200, query: dict | None = None, tag: str = "meetings"):
    """Register an API operation: its route, request schema, response schema and OpenAPI entry."""

    def decorate(fn):
        path, params = _openapi_path(rule)
        OPERATIONS.append({"path": path, "method": method.lower(), "summary": summary, "body": body,
                           "response": response, "status": status, "params": params, "query": query or {},
                           "operationId": fn.__name__, "tag": tag})

        @wraps(fn)
        def view(**kwargs):
            if body is not None:
                data = request.get_json(silent=True)
                if data is None:
                    raise ValidationFailed("请求体须为 JSON（Content-Type: application/json）", field="body")
                errors = sorted(jsonschema.Draft202012Validator(body).iter_errors(data), key=lambda e: list(e.path))
                if errors:
                    fields = {}
                    for err in errors:
                        name = ".".join(str(p) for p in err.path) or "body"
                        fields.setdefault(name, _schema_message(err))
                    raise ValidationFailed(next(iter(fields.values())), fields=fields)
                kwargs["data"] = data
            return fn(**kwargs)

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
    if err.validator in ("maxLength", "maxItems"):
        return f"字段 {name} 过长（上限 {err.validator_value}）"
    if err.validator == "enum":
        return f"字段 {name} 的取值须为：{'、'.join(map(str, err.validator_value))}"
    return f"字段 {name} 无效"


@bp.before_request
def authenticate():
    """Every API call needs `Authorization: Bearer <token>`; the session cookie is not accepted."""
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    user = tokens.user_for_token(token)
    if user is None:
        return jsonify(error={"code": "unauthorized", "message": "缺少或无效的 API 令牌（Authorization: Bearer …）",
                              "fields": {}}), 401
    g.api_user = user
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
        "agenda_sent_at": iso(m.agenda_sent_at),
        "agenda_sent_by": m.agenda_sent_by.username if m.agenda_sent_by else None,
        "agenda_late_reason": m.agenda_late_reason,
        "agenda_send_deadline": meetings.agenda_send_deadline(m).isoformat(),
        "version": m.version,
    })
    return data


# --- parsing helpers -------------------------------------------------------------------------

def parse_iso(value, field: str) -> datetime:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{field} 须为 ISO 8601 时间，例如 2026-06-15T14:00:00+08:00", field=field) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LOCAL_TZ)
    return dt


def _department_id(name: str | None, field: str) -> int | None:
    if name in (None, ""):
        return None
    try:
        return people.get_department(name).id
    except NotFound:
        raise ValidationFailed(f"部门“{name}”不存在", field=field) from None


def _user(username: str, field: str):
    try:
        return people.user_by_username(username)
    except NotFound:
        raise ValidationFailed(f"用户“{username}”不存在", field=field) from None


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
           query={"scope": {"type": "string", "enum": ["upcoming", "past"]}})
def list_meetings():
    scope = "past" if request.args.get("scope") == "past" else "upcoming"
    return jsonify(meetings=[meeting_summary(m) for m in meetings.list_meetings(me(), scope)])


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


@operation("/meetings/<int:meeting_id>/agenda", "POST", "添加议题（排在最后）",
           body=schemas.AGENDA_CREATE, response=schemas.AGENDA_ITEM, status=201)
def create_agenda_item(meeting_id, data):
    meeting = meetings.get_meeting(me(), meeting_id)
    dept_id = _department_id(data.get("department"), "department")
    item = meetings.add_agenda_item(me(), meeting, data["title"], data["minutes"], dept_id, data.get("description", ""))
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
    meetings.send_agenda(me(), meeting, data.get("reason"))
    return jsonify(meeting_json(meeting))


@operation("/tokens", "POST", "为当前用户创建新令牌（明文只返回这一次）", body=schemas.TOKEN_CREATE,
           response={"type": "object", "required": ["id", "token"], "properties": {
               "id": {"type": "integer"}, "name": {"type": "string"}, "token": {"type": "string"}}},
           status=201, tag="people")
def create_token(data):
    token, plaintext = tokens.create_token(me(), data["name"])
    return jsonify(id=token.id, name=token.name, token=plaintext), 201


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
            "security": [{"bearer": []}],
            "responses": {
                str(op["status"]): {"description": "成功",
                                    "content": {"application/json": {"schema": op["response"] or {"type": "object"}}}},
                **{code: {"description": text, "content": {"application/json": {"schema": error_ref}}}
                   for code, text in ERROR_STATUSES.items()},
            },
        }
        parameters = [{"name": p, "in": "path", "required": True,
                       "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}} for p in op["params"]]
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(openapi_document())


@bp.errorhandler(DomainError)
def api_domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(error={"code": exc.code, "message": exc.message, "fields": exc.fields}), exc.status
