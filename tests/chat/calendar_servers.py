"""The three platforms' calendar APIs on loopback, on top of their message servers (tests/chat/servers.py).

Each keeps the events it holds in `.events` (event id → {"summary", "starts", "ends" (Unix seconds, read back from
the vendor's own time format), "location", "online_link", "description", "organizer", "attendees" (set of the
people's user ids)}) and refuses what the vendor refuses: a missing or unknown token, a missing required field, a
time in the wrong format, an end before the start, an attendee who is not a member, an unknown event. `.down = True`
makes every calendar call answer 502 with an HTML page (a gateway in front of a platform that is down);
`.before_lookup`, when set, runs (in the server's thread) before DingTalk answers a user look-up
(topapi/v2/user/get, how the app finds a person's unionId): a test slows the look-ups with it.
"""
from datetime import datetime

from flask import jsonify, request

from tests.chat.servers import DingTalkChatServer, FeishuChatServer, WeComChatServer

DOWN_PAGE = "<html><body>502 Bad Gateway</body></html>"


class CalendarMixin:
    """What the three share: the events and the failure switch."""

    def __init__(self, *args, **kwargs):
        self.events: dict[str, dict] = {}
        self.down = False
        self.next_id = 1
        self.before_lookup = None
        super().__init__(*args, **kwargs)

    def reset(self):
        super().reset()
        self.events: dict[str, dict] = {}
        self.down = False
        self.next_id = 1
        self.before_lookup = None

    def new_event(self, **fields) -> str:
        event_id = f"{self.title}-ev-{self.next_id}"
        self.next_id += 1
        event = {"location": "", "online_link": "", "description": "", "organizer": ""}
        event.update(fields, attendees=set(fields.get("attendees") or ()))
        self.events[event_id] = event
        return event_id

    def guard(self, app, prefix: str, token_ok, token_refused, more=None) -> None:
        """Before every calendar call (paths under `prefix`): 502 while down, the vendor's answer to a bad token,
        then `more()` (None: go on)."""

        @app.before_request
        def gate():
            if not request.path.startswith(prefix):
                return None
            if self.down:
                return DOWN_PAGE, 502
            if not token_ok():
                return token_refused()
            return more() if more else None

    def only_event(self) -> dict:
        (event,) = self.events.values()
        return event


class FeishuCalendarServer(CalendarMixin, FeishuChatServer):
    """calendar v4: calendars/primary, events (create, patch, delete), attendees (create, batch_delete)."""

    CALENDAR = "feishu.cn_app0001@group.calendar.feishu.cn"

    def routes(self, app):
        super().routes(app)
        server = self
        base = "/open-apis/calendar/v4/calendars"

        def refused(code, msg, status=400):
            return jsonify(code=code, msg=msg), status

        server.guard(app, base, lambda: request.headers.get("Authorization", "").removeprefix("Bearer ") in server.app_tokens,
                     lambda: refused(99991663, "Invalid access token for authorization"))

        @app.post(f"{base}/primary")
        def primary():
            if request.args.get("user_id_type") == "user_id":  # the app's identity has no user_id
                return refused(190002, "invalid parameters in request: user_id_type")
            return jsonify(code=0, msg="success", data={"calendars": [
                {"calendar": {"calendar_id": server.CALENDAR, "summary": "app", "type": "primary", "role": "owner"},
                 "user_id": "ou_app_bot"}]})

        def times(body, required):
            found = {}
            for key in ("start_time", "end_time"):
                value = body.get(key)
                if value is None and not required:
                    continue
                stamp = (value or {}).get("timestamp")
                if not isinstance(stamp, str) or not stamp.isdigit() or (value or {}).get("timezone") != "Asia/Shanghai":
                    return None, refused(190002, f"invalid parameters in request: {key}")
                found[key] = int(stamp)
            if len(found) == 2 and found["end_time"] <= found["start_time"]:
                return None, refused(193102, "end_time must be after start_time")
            return found, None

        def fields(body, found):
            out = {"starts": found.get("start_time"), "ends": found.get("end_time"), "summary": body.get("summary"),
                   "description": body.get("description"), "location": (body.get("location") or {}).get("name"),
                   "online_link": (body.get("vchat") or {}).get("meeting_url"), "visibility": body.get("visibility")}
            return {k: v for k, v in out.items() if v is not None}

        @app.post(f"{base}/<calendar_id>/events")
        def create(calendar_id):
            if calendar_id != server.CALENDAR:
                return refused(191000, "calendar not found", 404)
            body = request.get_json(silent=True) or {}
            if body.get("attendees"):  # attendees are not part of the event body
                return refused(190002, "invalid parameters in request: attendees")
            found, problem = times(body, required=True)
            if problem:
                return problem
            event_id = server.new_event(organizer=calendar_id, **fields(body, found))
            return jsonify(code=0, msg="success", data={"event": {"event_id": event_id, "summary": body.get("summary")}})

        def event_or_404(calendar_id, event_id):
            if calendar_id != server.CALENDAR or event_id not in server.events:
                return None, refused(193001, "event not found", 404)
            return server.events[event_id], None

        @app.route(f"{base}/<calendar_id>/events/<event_id>", methods=["PATCH", "DELETE"])
        def event(calendar_id, event_id):
            found_event, problem = event_or_404(calendar_id, event_id)
            if problem:
                return problem
            if request.method == "DELETE":
                del server.events[event_id]
                return jsonify(code=0, msg="success", data={})
            body = request.get_json(silent=True) or {}
            found, problem = times(body, required=False)
            if problem:
                return problem
            found_event.update(fields(body, found))
            return jsonify(code=0, msg="success", data={"event": {"event_id": event_id}})

        @app.post(f"{base}/<calendar_id>/events/<event_id>/attendees")
        def invite(calendar_id, event_id):
            found_event, problem = event_or_404(calendar_id, event_id)
            if problem:
                return problem
            people = [a.get("user_id") for a in (request.get_json(silent=True) or {}).get("attendees") or []
                      if a.get("type") == "user"]
            if request.args.get("user_id_type") != "user_id" or not people or any(p not in server.members for p in people):
                return refused(193002, "invalid attendee user_id")
            found_event["attendees"].update(people)
            return jsonify(code=0, msg="success", data={"attendees": [{"type": "user", "user_id": p} for p in people]})

        @app.post(f"{base}/<calendar_id>/events/<event_id>/attendees/batch_delete")
        def uninvite(calendar_id, event_id):
            found_event, problem = event_or_404(calendar_id, event_id)
            if problem:
                return problem
            people = [d.get("user_id") for d in (request.get_json(silent=True) or {}).get("delete_ids") or []]
            if request.args.get("user_id_type") != "user_id" or not people:
                return refused(190002, "invalid parameters in request: delete_ids")
            found_event["attendees"].difference_update(people)
            return jsonify(code=0, msg="success", data={})


class DingTalkCalendarServer(CalendarMixin, DingTalkChatServer):
    """v1.0/calendar/users/{unionId}/calendars/primary/events (POST, PUT, DELETE) and their attendees."""

    def routes(self, app):
        super().routes(app)
        server = self
        base = "/v1.0/calendar/users/<union_id>/calendars/<calendar_id>/events"

        def refused(code, message, status=400):
            return jsonify(code=code, message=message, requestid="r-cal"), status

        def owner_and_calendar():
            args = request.view_args or {}
            if args.get("calendar_id") != "primary":
                return refused("invalidParameter.calendarId", "calendarId 只支持 primary")
            if args.get("union_id") not in server.unionids():
                return refused("invalidParameter.userId", "userId 须为组织者的 unionId")
            return None

        server.guard(app, "/v1.0/calendar/", lambda: request.headers.get("x-acs-dingtalk-access-token") in server.app_tokens,
                     lambda: refused("InvalidAuthentication", "不合法的access_token", 401), owner_and_calendar)

        @app.before_request
        def slow_lookup():
            if request.path == "/topapi/v2/user/get" and server.before_lookup is not None:
                server.before_lookup()

        def times(body, required):
            found = {}
            for key in ("start", "end"):
                value = body.get(key)
                if value is None and not required:
                    continue
                try:
                    when = datetime.fromisoformat((value or {})["dateTime"])
                except (KeyError, TypeError, ValueError):
                    return None, refused("invalidParameter.dateTime", f"{key}.dateTime 须为 ISO-8601 时间")
                if when.tzinfo is None or value.get("timeZone") != "Asia/Shanghai":
                    return None, refused("invalidParameter.timeZone", f"{key} 须带时区")
                found[key] = int(when.timestamp())
            if len(found) == 2 and found["end"] <= found["start"]:
                return None, refused("invalidParameter.time", "结束时间须晚于开始时间")
            return found, None

        def fields(body, found):
            out = {"starts": found.get("start"), "ends": found.get("end"), "summary": body.get("summary"),
                   "description": body.get("description"), "location": (body.get("location") or {}).get("displayName")}
            return {k: v for k, v in out.items() if v is not None}

        def people(items):
            ids = [a.get("id") for a in items or []]
            if any(i not in server.unionids() for i in ids):
                return None
            return {server.userid_of(i) for i in ids}

        @app.post(base)
        def create(union_id, calendar_id):
            body = request.get_json(silent=True) or {}
            if not body.get("summary"):
                return refused("MissingSummary", "summary 不能为空")
            found, problem = times(body, required=True)
            if problem:
                return problem
            attendees = people(body.get("attendees"))
            if attendees is None:
                return refused("invalidParameter.attendees", "参与人须为企业成员的 unionId")
            event_id = server.new_event(organizer=union_id, attendees=attendees, **fields(body, found))
            return jsonify(id=event_id, summary=body["summary"], start=body["start"], end=body["end"])

        def owned(union_id, event_id):
            found_event = server.events.get(event_id)
            if found_event is None:
                return None, refused("eventNotFound", "日程不存在", 404)
            if found_event["organizer"] != union_id:
                return None, refused("forbidden.notOrganizer", "只有组织者可以修改日程", 403)
            return found_event, None

        @app.route(base + "/<event_id>", methods=["PUT", "DELETE"])
        def event(union_id, calendar_id, event_id):
            found_event, problem = owned(union_id, event_id)
            if problem:
                return problem
            if request.method == "DELETE":
                del server.events[event_id]
                return jsonify({})
            body = request.get_json(silent=True) or {}
            if body.get("id") != event_id:
                return refused("invalidParameter.id", "id 须与路径中的 eventId 一致")
            found, problem = times(body, required=False)
            if problem:
                return problem
            found_event.update(fields(body, found))
            return jsonify(id=event_id)

        def change_attendees(union_id, calendar_id, event_id, adding):
            found_event, problem = owned(union_id, event_id)
            if problem:
                return problem
            key = "attendeesToAdd" if adding else "attendeesToRemove"
            changed = people((request.get_json(silent=True) or {}).get(key))
            if not changed:
                return refused(f"invalidParameter.{key}", "参与人须为企业成员的 unionId")
            found_event["attendees"] = found_event["attendees"] | changed if adding else found_event["attendees"] - changed
            return jsonify({})

        app.add_url_rule(base + "/<event_id>/attendees", "calendar_add_attendees",
                         lambda **args: change_attendees(adding=True, **args), methods=["POST"])
        app.add_url_rule(base + "/<event_id>/attendees/batchRemove", "calendar_remove_attendees",
                         lambda **args: change_attendees(adding=False, **args), methods=["POST"])

    def unionids(self) -> set[str]:
        return {m["unionid"] for m in self.members.values()}

    def userid_of(self, union_id: str) -> str:
        return next(uid for uid, m in self.members.items() if m["unionid"] == union_id)


class WeComCalendarServer(CalendarMixin, WeComChatServer):
    """cgi-bin/oa/schedule/add, update, add_attendees, del_attendees, del."""

    def routes(self, app):
        super().routes(app)
        server = self
        base = "/cgi-bin/oa/schedule"

        def refused(code, msg):
            return jsonify(errcode=code, errmsg=msg)

        server.guard(app, base, lambda: request.args.get("access_token") in server.app_tokens,
                     lambda: refused(40014, "invalid access_token"))

        def checked(schedule):
            """The schedule's fields as kept, or an error answer (times are Unix seconds, integers)."""
            starts, ends = schedule.get("start_time"), schedule.get("end_time")
            if not isinstance(starts, int) or not isinstance(ends, int):
                return None, refused(40058, "missing paramters start_time/end_time")
            if ends <= starts:
                return None, refused(400103, "end_time must be after start_time")
            if len(schedule.get("summary") or "") > 128 or len(schedule.get("location") or "") > 128:
                return None, refused(40058, "summary or location too long")
            return {"starts": starts, "ends": ends, "summary": schedule.get("summary", ""),
                    "description": schedule.get("description", ""), "location": schedule.get("location", "")}, None

        def members(items):
            ids = [a.get("userid") for a in items or []]
            return set(ids) if all(i in server.members for i in ids) else None

        @app.post(f"{base}/add")
        def add():
            body = request.get_json(silent=True) or {}
            if body.get("agentid") != int(server.agent_id):
                return refused(40056, "invalid agentid")
            schedule = body.get("schedule") or {}
            fields, problem = checked(schedule)
            if problem:
                return problem
            attendees = members(schedule.get("attendees"))
            if attendees is None:
                return refused(40031, "invalid userid in attendees")
            schedule_id = server.new_event(attendees=attendees, **fields)
            return jsonify(errcode=0, errmsg="ok", schedule_id=schedule_id)

        def known(body):
            return server.events.get(body.get("schedule_id") or (body.get("schedule") or {}).get("schedule_id") or "")

        @app.post(f"{base}/update")
        def update():
            body = request.get_json(silent=True) or {}
            event = known(body)
            if event is None:
                return refused(400105, "schedule not found")
            fields, problem = checked(body["schedule"])  # an update replaces the whole schedule
            if problem:
                return problem
            event.update(fields)
            if not body.get("skip_attendees"):
                event["attendees"] = members(body["schedule"].get("attendees")) or set()
            return jsonify(errcode=0, errmsg="ok")

        def change_attendees(adding):
            body = request.get_json(silent=True) or {}
            event = known(body)
            if event is None:
                return refused(400105, "schedule not found")
            people = members(body.get("attendees"))
            if not people:
                return refused(40031, "invalid userid in attendees")
            event["attendees"] = event["attendees"] | people if adding else event["attendees"] - people
            return jsonify(errcode=0, errmsg="ok")

        app.add_url_rule(f"{base}/add_attendees", "schedule_add_attendees", lambda: change_attendees(True),
                         methods=["POST"])
        app.add_url_rule(f"{base}/del_attendees", "schedule_del_attendees", lambda: change_attendees(False),
                         methods=["POST"])

        @app.post(f"{base}/del")
        def delete():
            body = request.get_json(silent=True) or {}
            if known(body) is None:
                return refused(400105, "schedule not found")
            del server.events[body["schedule_id"]]
            return jsonify(errcode=0, errmsg="ok")
