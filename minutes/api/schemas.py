"""JSON Schemas of the API: request bodies are validated against them and /openapi.json is built from them."""

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
DATETIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset, e.g. 2026-06-15T14:00:00+08:00"}
USERNAME = {"type": "string", "minLength": 1, "maxLength": 64}

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
    "topic": {"type": "string", "maxLength": 200},
    "goal": {"type": "string", "maxLength": 5000},
    "expected_outcome": {"type": "string", "maxLength": 5000},
    "scenario": {"enum": ["kickoff", "resources", "problem", "alignment"]},
    "starts_at": DATETIME,
    "ends_at": DATETIME,
    "location": {"type": "string", "maxLength": 200},
    "online_link": {"type": "string", "maxLength": 500},
    "organizer_department": {"type": "string", "maxLength": 80},
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
        "title": {"type": "string", "maxLength": 200},
        "minutes": {"type": "integer"},
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
    "properties": {"name": {"type": "string", "maxLength": 100}},
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
        "text": {"type": "string", "maxLength": 5000},
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
        "text": {"type": "string", "maxLength": 5000},
        "owner": {"type": ["string", "null"], "maxLength": 64, "description": "username of the person responsible"},
        "owner_department": {"type": ["string", "null"], "maxLength": 80},
        "departments": {"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 80},
                        "description": "cooperating departments (配合部门)"},
        "due": {"type": ["string", "null"], "maxLength": 100,
                "description": "a date (2026-06-30, 6月30日) or a phrase (3个工作日内, 下周五, 月底)"},
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

SEARCH_RESULTS = {
    "type": "object",
    "required": ["total", "results"],
    "properties": {
        "total": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "required": ["meeting_id", "topic", "date", "kind"],
                                               "properties": {"meeting_id": {"type": "integer"},
                                                              "topic": {"type": "string"},
                                                              "date": {"type": "string"},
                                                              "kind": {"type": "string"},
                                                              "snippet": {"type": "string"}}}},
    },
}
