"""JSON Schemas of the API: request bodies are validated against them and /openapi.json is built from them."""
from flask_babel import lazy_gettext

from minutes.meetings.service import MEETING_TEXT_LIMITS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

NULLABLE_STRING = {"type": ["string", "null"]}
#: Every string the API reads refuses NUL (PostgreSQL cannot store it; the server answers 400): `no_nul()`
#: adds this pattern to each string of a request schema.
NO_NUL = "^[^\\x00]*$"
#: A text that must say something: at least one character that is not a space (and no NUL).
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def at_least(least: int) -> str:
    """A text of at least `least` characters once the spaces around it are taken off (no NUL)."""
    if least <= 1:
        return NOT_BLANK
    return f"^\\s*[^\\s\\x00][^\\x00]{{{least - 2},}}[^\\s\\x00]\\s*$"
#: An optional date in a query string; empty is the same as leaving the parameter out.
OPTIONAL_DATE = {"type": "string", "anyOf": [{"format": "date"}, {"maxLength": 0}],
                 "description": lazy_gettext("YYYY-MM-DD；空值等同于不填")}


def no_nul(schema):
    """A copy of a request schema in which every string without a pattern of its own refuses NUL."""
    if isinstance(schema, list):
        return [no_nul(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: (no_nul(value) if key in ("items", "anyOf", "oneOf", "allOf", "not") else value)
            for key, value in schema.items()}
    for key in ("properties", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            copy[key] = ({name: no_nul(sub) for name, sub in schema[key].items()} if key == "properties"
                         else no_nul(schema[key]))
    types = schema.get("type")
    if (types == "string" or (isinstance(types, list) and "string" in types)) and "pattern" not in schema:
        copy["pattern"] = NO_NUL
    return copy
DATETIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset, e.g. 2026-06-15T14:00:00+08:00"}
USERNAME = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NOT_BLANK}

USER = {
    "type": "object",
    "required": ["id", "username", "name", "department"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "name": {"type": "string"},
        "department": {"type": "string"},
        "email": NULLABLE_STRING,
        "title": NULLABLE_STRING,
        "is_admin": {"type": "boolean"},
    },
}

MATERIAL = {
    "type": "object",
    "required": ["id", "name", "kind"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"enum": ["file", "link"]},
        "url": NULLABLE_STRING,
        "size": {"type": ["integer", "null"]},
    },
}

AGENDA_ITEM = {
    "type": "object",
    "required": ["id", "position", "title", "minutes"],
    "properties": {
        "id": {"type": "integer"},
        "position": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "minutes": {"type": "integer"},
        "department": NULLABLE_STRING,
        "materials": {"type": "array", "items": MATERIAL},
    },
}

PARTICIPANT = {
    "type": "object",
    "required": ["username", "role"],
    "properties": {
        "username": {"type": "string"},
        "name": {"type": "string"},
        "department": {"type": "string"},
        "role": {"enum": ["host", "recorder", "participant", "cc"]},
    },
}

MEETING = {
    "type": "object",
    "required": ["id", "topic", "starts_at", "ends_at", "status", "confidential"],
    "properties": {
        "id": {"type": "integer"},
        "topic": {"type": "string"},
        "goal": {"type": "string"},
        "expected_outcome": {"type": "string"},
        "scenario": {"enum": ["kickoff", "resources", "problem", "alignment"]},
        "scenario_label": {"type": "string"},
        "starts_at": {"type": "string", "description": "planned start; once the meeting has started, the actual start"},
        "ends_at": {"type": "string", "description": "planned end; once started, the actual start plus the planned "
                                                    "length; once ended, the actual end"},
        "planned_starts_at": {**NULLABLE_STRING, "description": "the planned start, kept when the meeting starts "
                                                                "(null before)"},
        "planned_ends_at": {**NULLABLE_STRING, "description": "the planned end, kept when the meeting starts"},
        "location": {"type": "string"},
        "online_link": {"type": "string"},
        "organizer_department": {"type": "string"},
        "confidential": {"type": "boolean"},
        "status": {"type": "string"},
        "status_label": {"type": "string"},
        "host": NULLABLE_STRING,
        "recorder": NULLABLE_STRING,
        "participants": {"type": "array", "items": PARTICIPANT},
        "agenda": {"type": "array", "items": AGENDA_ITEM},
        "agenda_minutes": {"type": "integer"},
        "agenda_sent_at": NULLABLE_STRING,
        "agenda_sent_by": NULLABLE_STRING,
        "agenda_late_reason": NULLABLE_STRING,
        "agenda_send_deadline": {"type": "string", "format": "date"},
        "version": {"type": "integer"},
        "url": {"type": "string"},
    },
}

MEETING_SUMMARY = {
    "type": "object",
    "required": ["id", "topic", "starts_at", "status"],
    "properties": {k: MEETING["properties"][k] for k in (
        "id", "topic", "scenario", "starts_at", "ends_at", "location", "organizer_department", "confidential",
        "status", "status_label", "host", "recorder", "url")},
}

_MEETING_FIELDS = {
    "topic": {"type": "string", "minLength": MEETING_TEXT_LIMITS["topic"][0], "maxLength": MEETING_TEXT_LIMITS["topic"][1],
              "pattern": at_least(MEETING_TEXT_LIMITS["topic"][0])},
    "goal": {"type": "string", "minLength": MEETING_TEXT_LIMITS["goal"][0], "maxLength": MEETING_TEXT_LIMITS["goal"][1],
             "pattern": at_least(MEETING_TEXT_LIMITS["goal"][0])},
    "expected_outcome": {"type": "string", "maxLength": 5000},
    "scenario": {"enum": ["kickoff", "resources", "problem", "alignment"]},
    "starts_at": DATETIME,
    "ends_at": DATETIME,
    "location": {"type": "string", "maxLength": 200},
    "online_link": {"type": "string", "maxLength": 500, "description": "http:// or https://",
                    "pattern": "^\\s*([Hh][Tt][Tt][Pp][Ss]?://[^\\s<>\"'\\x00]+)?\\s*$"},
    "organizer_department": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": NOT_BLANK,
                             "description": "default: the token owner's department"},
    "confidential": {"type": "boolean"},
    "host": USERNAME,
    "recorder": USERNAME,
    "participants": {
        "type": "array",
        "maxItems": 200,
        "items": {
            "type": "object",
            "required": ["username"],
            "properties": {"username": USERNAME, "role": {"enum": ["participant", "cc", "host", "recorder"]}},
            "additionalProperties": False,
        },
    },
}

MEETING_CREATE = {
    "type": "object",
    "required": ["topic", "goal", "starts_at", "ends_at"],
    "properties": _MEETING_FIELDS,
    "anyOf": [{"required": ["location"], "properties": {"location": {"pattern": NOT_BLANK}}},
              {"required": ["online_link"], "properties": {"online_link": {"pattern": NOT_BLANK}}}],
    "description": lazy_gettext("location 与 online_link 至少填写一项"),
    "additionalProperties": False,
}

MEETING_PATCH = {
    "type": "object",
    "properties": {**_MEETING_FIELDS, "version": {"type": "integer", "description": "the version you edit; stale → 409"}},
    "additionalProperties": False,
}

AGENDA_CREATE = {
    "type": "object",
    "required": ["title", "minutes"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_BLANK},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 480},
        "department": {"type": ["string", "null"], "maxLength": 80},
        "description": {"type": "string", "maxLength": 5000},
        "materials": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": {"type": "string", "maxLength": 1000}, "title": {"type": "string", "maxLength": 200}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

AGENDA_PATCH = {
    "type": "object",
    "properties": {k: v for k, v in AGENDA_CREATE["properties"].items() if k != "materials"},
    "additionalProperties": False,
}

AGENDA_ORDER = {
    "type": "array",
    "items": {"type": "integer"},
    "maxItems": 500,
    "description": "every agenda item id of the meeting, in the new priority order",
}

SEND_AGENDA = {
    "type": "object",
    "properties": {"reason": {"type": "string", "maxLength": 2000}},
    "additionalProperties": False,
}

TOKEN_CREATE = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NOT_BLANK},
                   "read_only": {"type": "boolean", "default": False,
                                 "description": lazy_gettext("只读令牌：只能查询（GET），其他请求一律 403")}},
    "additionalProperties": False,
}

# --- the live room ---------------------------------------------------------------------------

POINT = {
    "type": "object",
    "required": ["id", "agenda_item_id", "kind", "text", "version"],
    "properties": {
        "id": {"type": "integer"}, "agenda_item_id": {"type": "integer"},
        "kind": {"enum": ["viewpoint", "dispute", "consensus"]}, "kind_label": {"type": "string"},
        "department": NULLABLE_STRING, "speaker": NULLABLE_STRING,
        "parties": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"}, "position": {"type": "integer"}, "version": {"type": "integer"},
    },
}

_WORK_ITEM = {
    "type": "object",
    "required": ["id", "agenda_item_id", "text", "version"],
    "properties": {
        "id": {"type": "integer"}, "meeting_id": {"type": "integer"}, "agenda_item_id": {"type": ["integer", "null"]},
        "text": {"type": "string"}, "owner": NULLABLE_STRING, "owner_department": NULLABLE_STRING,
        "departments": {"type": "array", "items": {"type": "string"}},
        "due": {"type": ["string", "null"], "format": "date"}, "due_label": {"type": "string"},
        "due_text": {"type": "string"}, "confirmed": {"type": "boolean"}, "version": {"type": "integer"},
    },
}
DECISION = _WORK_ITEM
ACTION = {**_WORK_ITEM, "properties": {**_WORK_ITEM["properties"], "status": {"type": "string"},
                                       "status_label": {"type": "string"}}}

POINT_CREATE = {
    "type": "object",
    "required": ["kind", "text"],
    "properties": {
        "kind": {"enum": ["viewpoint", "dispute", "consensus"]},
        "department": {"type": ["string", "null"], "maxLength": 80},
        "speaker": {"type": ["string", "null"], "maxLength": 64, "description": "username"},
        "parties": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 80},
                    "description": "for a dispute: the departments that disagree"},
        "text": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": NOT_BLANK},
    },
    "additionalProperties": False,
}

POINT_PATCH = {
    "type": "object",
    "required": ["version"],
    "properties": {**POINT_CREATE["properties"], "version": {"type": "integer"}},
    "additionalProperties": False,
}

WORK_ITEM_CREATE = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": NOT_BLANK},
        "owner": {"type": ["string", "null"], "maxLength": 64, "description": "username of the person responsible"},
        "owner_department": {"type": ["string", "null"], "maxLength": 80},
        "departments": {"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 80},
                        "description": "cooperating departments (配合部门)"},
        "due": {"type": ["string", "null"], "maxLength": 100,
                "description": "a date (2026-06-30, 6月30日) or a phrase (3个工作日内, 下周五, 月底)"},
        "due_confirmed": {"type": ["string", "null"], "format": "date",
                          "description": "a week or a month without a day (下周, 月底) is refused until this names "
                                         "the date it was read as (the 422 says which)"},
    },
    "additionalProperties": False,
}

ATTENDANCE = {
    "type": "object",
    "required": ["username", "status"],
    "properties": {
        "username": USERNAME,
        "status": {"enum": ["present", "late", "absent"]},
        "reason": {"type": "string", "maxLength": 200},
        "arrived_at": DATETIME,
    },
    "additionalProperties": False,
}

ATTENDANCE_ROW = {
    "type": "object",
    "required": ["username", "status"],
    "properties": {"username": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string"},
                   "status_label": {"type": "string"}, "invited": {"type": "boolean"},
                   "arrived_at": NULLABLE_STRING, "reason": {"type": "string"}},
}

ROOM = {
    "type": "object",
    "required": ["meeting_id", "status", "revision"],
    "properties": {
        "meeting_id": {"type": "integer"}, "status": {"type": "string"}, "revision": {"type": "integer"},
        "started_at": NULLABLE_STRING, "ended_at": NULLABLE_STRING, "minutes_due_at": NULLABLE_STRING,
        "current_agenda_item_id": {"type": ["integer", "null"]},
        "attendance": {"type": "array", "items": ATTENDANCE_ROW},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "points": {"type": "array", "items": POINT},
            "decisions": {"type": "array", "items": DECISION},
            "actions": {"type": "array", "items": ACTION}}}},
    },
}

# --- formal minutes --------------------------------------------------------------------------

VERSION = {
    "type": "object",
    "required": ["id", "number", "label", "content_hash", "final"],
    "properties": {
        "id": {"type": "integer"}, "number": {"type": "integer"}, "label": {"type": "string"},
        "kind": {"enum": ["regular", "correction"]}, "corrects_id": {"type": ["integer", "null"]},
        "content_hash": {"type": "string"}, "final": {"type": "boolean"}, "created_at": {"type": "string"},
        "finalized_at": NULLABLE_STRING, "body": {"type": "string"}, "note": {"type": "string"},
    },
}

MINUTES = {
    "type": "object",
    "required": ["meeting_id", "status"],
    "properties": {
        "meeting_id": {"type": "integer"}, "status": {"type": "string"}, "status_label": {"type": "string"},
        "due_at": NULLABLE_STRING, "overdue": {"type": "boolean"},
        "draft": {"type": ["string", "null"]}, "draft_revision": {"type": ["integer", "null"]},
        "current": {"oneOf": [VERSION, {"type": "null"}]}, "final": {"oneOf": [VERSION, {"type": "null"}]},
        "final_intact": {"type": ["boolean", "null"]},
        "versions": {"type": "array", "items": VERSION},
        "recipients": {"type": "array", "items": {"type": "object", "properties": {
            "username": {"type": "string"}, "name": {"type": "string"}, "state": {"type": "string"},
            "label": {"type": "string"}, "overdue": {"type": "boolean"}}}},
    },
}

DISTRIBUTE = {
    "type": "object",
    "properties": {
        "recipients": {"type": "array", "maxItems": 500, "items": USERNAME,
                       "description": "pick among the default recipients (default: all of them)"},
        "extra": {"type": "array", "maxItems": 100, "items": USERNAME, "description": "add others, e.g. a superior"},
        "markdown": {"type": "string", "maxLength": 200000},
    },
    "additionalProperties": False,
}

RESPONSE_CREATE = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "response": {"enum": ["confirm", "change"]},
        "comment": {"type": "string", "maxLength": 5000},
        "item": {"type": "string", "maxLength": 100, "description": "what the comment is about (see the page)"},
    },
    "additionalProperties": False,
}

FINALIZE = {
    "type": "object",
    "properties": {"reason": {"type": "string", "maxLength": 2000,
                              "description": "required when some recipients have not confirmed (host only)"}},
    "additionalProperties": False,
}

ACTION_PATCH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": ["not_started", "in_progress", "done", "delayed", "need_support"]},
        "note": {"type": "string", "maxLength": 5000},
        "new_due": {"type": ["string", "null"], "format": "date", "description": "延期 (delayed): the new proposed date"},
        "support_department": {"type": ["string", "null"], "maxLength": 80,
                               "description": "需支持 (need_support): the department asked for support"},
        "version": {"type": "integer"},
    },
    "additionalProperties": False,
}

#: The paging fields of every paged list: `page` is the page asked for (empty past the last one).
PAGING = {
    "total": {"type": "integer", "description": lazy_gettext("符合条件的总条数")},
    "page": {"type": "integer", "minimum": 1, "description": lazy_gettext("所请求的页码；超出末页时该页为空")},
    "pages": {"type": "integer", "minimum": 1, "description": lazy_gettext("总页数")},
}

SEARCH_RESULTS = {
    "type": "object",
    "required": ["total", "page", "pages", "results"],
    "properties": {
        **PAGING,
        "results": {"type": "array", "items": {"type": "object", "required": ["meeting_id", "topic", "date", "kind"],
                                               "properties": {"meeting_id": {"type": "integer"},
                                                              "topic": {"type": "string"},
                                                              "date": {"type": "string"},
                                                              "kind": {"type": "string"},
                                                              "snippet": {"type": "string"}}}},
    },
}
