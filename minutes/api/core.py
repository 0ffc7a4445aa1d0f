"""The API's core: the blueprint, the one `operation` registry, authentication and the OpenAPI document.

The operations live by domain in meetings, tokens, room, records and actions; minutes.api.views imports them
so that the registry is full before /openapi.json is built from it.
"""
import re
from datetime import datetime
from functools import wraps

import jsonschema
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext, lazy_gettext

from minutes.api import schemas
from minutes.api import service as tokens
from minutes.core import dates
from minutes.core.errors import DomainError, NotFound, ValidationFailed
from minutes.core.timefmt import to_local
from minutes.dbtypes import MAX_ID
from minutes.extensions import csrf, db
from minutes.people import service as people
from minutes.webutil import record_use_after_request, session_is_current

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

FIELD_ALIASES = {"owner_id": "owner", "owner_department_id": "owner_department", "department_id": "department",
                 "cooperating_department_ids": "departments", "speaker_id": "speaker", "party_ids": "parties",
                 "organizer_department_id": "organizer_department", "user_id": "username", "user_ids": "participants"}

#: Every operation, registered by @operation; the OpenAPI document is generated from it.
OPERATIONS: list[dict] = []
ERROR_STATUSES = {"400": lazy_gettext("请求格式错误"), "401": lazy_gettext("未登录或令牌无效"),
                  "403": lazy_gettext("无权限"), "404": lazy_gettext("不存在或无权查看"),
                  "405": lazy_gettext("不支持该请求方法（Allow 头列出支持的方法）"),
                  "409": lazy_gettext("与业务规则或他人的修改冲突"), "422": lazy_gettext("字段校验失败")}


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
    name = ".".join(str(p) for p in err.path) or gettext("请求体")
    if err.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        return gettext("缺少必填字段：%(names)s", names=", ".join(missing) or err.message)
    if err.validator == "additionalProperties":
        return gettext("不认识的字段：%(names)s", names=err.message.split("(")[-1].rstrip(")"))
    if err.validator == "type":
        return gettext("字段 %(name)s 的类型不正确（应为 %(type)s）", name=name, type=err.validator_value)
    if err.validator == "pattern":
        return gettext("字段 %(name)s 不能为空白，也不能含 NUL 字符", name=name)
    if err.validator in ("minimum", "maximum"):
        return gettext("字段 %(name)s 超出允许范围（%(minimum)s–%(maximum)s）", name=name,
                       minimum=err.schema.get("minimum", "…"), maximum=err.schema.get("maximum", "…"))
    if err.validator == "minLength":
        return gettext("字段 %(name)s 不能为空", name=name)
    if err.validator == "anyOf" and err.schema.get("description"):
        return str(err.schema["description"])
    if err.validator in ("maxLength", "maxItems"):
        return gettext("字段 %(name)s 过长（上限 %(limit)s）", name=name, limit=err.validator_value)
    if err.validator == "enum":
        return gettext("字段 %(name)s 的取值须为：%(values)s", name=name, values="、".join(map(str, err.validator_value)))
    return gettext("字段 %(name)s 无效", name=name)


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
        return jsonify(error={"code": "unauthorized",
                              "message": gettext("缺少或无效的 API 令牌（Authorization: Bearer …）"), "fields": {}}), 401
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


# --- parsing helpers -------------------------------------------------------------------------

def parse_iso(value, field: str) -> datetime:
    try:
        return dates.parse_iso_datetime(value)
    except ValueError:
        raise ValidationFailed(gettext("%(field)s 须为 ISO 8601 时间，例如 2026-06-15T14:00:00+08:00",
                                       field=field), field=field) from None


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


# --- the OpenAPI document --------------------------------------------------------------------

def openapi_document() -> dict:
    """Build the OpenAPI 3.1 description from the registered operations."""
    paths: dict = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for op in OPERATIONS:
        entry = {
            "operationId": op["operationId"], "summary": str(op["summary"]), "tags": [op["tag"]],
            "security": [{op["security"]: []}],
            "responses": {
                str(op["status"]): {"description": gettext("成功"),
                                    "content": {"application/json": {"schema": op["response"] or {"type": "object"}}}},
                **{code: {"description": str(text), "content": {"application/json": {"schema": error_ref}}}
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
                 "description": gettext("跨部门会议纪要系统的集成接口。所有请求须带 Authorization: Bearer <令牌>；"
                                        "令牌在“个人设置”中创建，或用 flask minutes token <用户名>。")},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": schemas.ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                                            "description": gettext("登录后的浏览器会话；写请求另带 X-CSRFToken 头")}},
        },
    }


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(openapi_document())


@bp.errorhandler(DomainError)
def api_domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(error={"code": exc.code, "message": exc.message, "fields": exc.fields}), exc.status
