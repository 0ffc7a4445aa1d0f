"""The three platforms' calendar APIs: create, update, invite/uninvite and delete one meeting's event.

Each platform is a class with the same four calls; `facts` is what minutes.chat.calendar_events queued (summary,
description, starts/ends as Unix seconds, location, online_link, link, organizer and attendees as the people's user
ids on the platform). Every call uses the app's own token (the sign-in modules' cached tokens); a token the platform
no longer accepts is fetched again once. A refusal raises CalendarRefused with the platform's code and message
(the outbox retries it with back-off and shows the message).

- Feishu (飞书日历, calendar v4, tenant_access_token): the event lives in the app's calendar (FEISHU_CALENDAR_ID, or
  the app's primary calendar: POST calendars/primary); events are created without attendees, who are then invited
  with events/:id/attendees (user_id_type=user_id) and removed with attendees/batch_delete.
- DingTalk (钉钉日程, v1.0 calendar, x-acs-dingtalk-access-token): the event lives in the organizer's primary
  calendar, named by the organizer's unionId (looked up with topapi/v2/user/get, like the attendees' unionIds);
  times are ISO 8601 with the time zone; attendees are added/removed with attendees / attendees/batchRemove.
- WeCom (企业微信日程, oa/schedule, access_token): times are Unix seconds; an update replaces the whole schedule, so
  it carries every field (skip_attendees=1: the attendees go through add_attendees / del_attendees).
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from flask_babel import gettext, lazy_gettext

from minutes.core.timefmt import LOCAL_TZ
from minutes.identity import dingtalk as dingtalk_id, feishu as feishu_id, wecom as wecom_id
from minutes.identity.service import call_provider, drop_own_token

ZONE = "Asia/Shanghai"


class CalendarRefused(Exception):
    """The platform refused the call or could not be reached (the message is retried with back-off)."""


class EventGone(CalendarRefused):
    """The platform no longer has the event (someone deleted it in the client): deleting it is done, and a change
    makes it anew."""


def _timeout(config) -> float:
    return float(config.get("SSO_HTTP_TIMEOUT") or 10)


def _fresh_token_once(call, stale, drop):
    """`call()`'s answer; when `stale(answer)` (the platform no longer takes the app's token), `drop()` it and
    call again."""
    answer = call()
    if stale(answer):
        drop()
        answer = call()
    return answer


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Platform:
    """One delivery's calls to a platform; `keep()` runs before each (the deliverer renews its claim on the meeting's
    event there, or stops: minutes.chat.calendar_events.Claim)."""

    def __init__(self, keep=None):
        self.keep = keep or (lambda: None)


class Feishu(_Platform):
    what = lazy_gettext("飞书日历")
    #: 193001: event not found (deleted in the client).
    GONE = (193001,)

    def _call(self, config, method: str, path: str, **kwargs) -> dict:
        self.keep()
        url = config["FEISHU_BASE_URL"].rstrip("/") + "/open-apis/calendar/v4" + path

        def call():
            headers = {"Authorization": f"Bearer {feishu_id.tenant_access_token(config)}"}
            return call_provider(method, url, what=gettext("飞书开放平台"), timeout=_timeout(config), headers=headers,
                                 **kwargs)[1]

        answer = _fresh_token_once(call, lambda a: a.get("code") in feishu_id.TOKEN_REJECTED,
                                   lambda: drop_own_token(feishu_id._token_key(config, "tenant")))
        if answer.get("code") in self.GONE:
            raise EventGone(gettext("飞书日历中已没有该日程（%(code)s）", code=answer.get("code")))
        if answer.get("code") != 0:
            raise CalendarRefused(gettext("飞书日历拒绝了请求（%(code)s：%(msg)s）", code=answer.get("code"),
                                          msg=answer.get("msg") or "-"))
        return answer.get("data") or {}

    def _calendar(self, config) -> str:
        if config.get("FEISHU_CALENDAR_ID"):
            return config["FEISHU_CALENDAR_ID"]
        found = self._call(config, "POST", "/calendars/primary", params={"user_id_type": "open_id"})
        calendar_id = ((found.get("calendars") or [{}])[0].get("calendar") or {}).get("calendar_id")
        if not calendar_id:
            raise CalendarRefused(gettext("飞书没有返回应用的主日历，请确认应用已开启机器人能力"))
        return calendar_id

    @staticmethod
    def _event(facts: dict) -> dict:
        body = {"summary": _cut(facts["summary"], 1000), "description": facts["description"],
                "need_notification": True, "attendee_ability": "can_see_others",
                "visibility": "private" if facts.get("confidential") else "default",
                "start_time": {"timestamp": str(facts["starts"]), "timezone": ZONE},
                "end_time": {"timestamp": str(facts["ends"]), "timezone": ZONE},
                "location": {"name": _cut(facts["location"], 500)} if facts["location"] else {"name": ""}}
        if facts["online_link"]:
            body["vchat"] = {"vc_type": "third_party", "icon_type": "default", "description": gettext("线上会议"),
                             "meeting_url": facts["online_link"]}
        return body

    def create(self, config, facts: dict) -> tuple[str, str, list[str]]:
        calendar_id = self._calendar(config)
        made = self._call(config, "POST", f"/calendars/{quote(calendar_id, safe='')}/events", json=self._event(facts))
        event_id = (made.get("event") or {}).get("event_id")
        if not event_id:
            raise CalendarRefused(gettext("飞书没有返回日程的 event_id"))
        return event_id, calendar_id, []

    def _path(self, owner: str, event_id: str) -> str:
        return f"/calendars/{quote(owner, safe='')}/events/{quote(event_id, safe='')}"

    def update(self, config, owner: str, event_id: str, facts: dict) -> None:
        self._call(config, "PATCH", self._path(owner, event_id), json=self._event(facts))

    def set_attendees(self, config, owner: str, event_id: str, add: list[str], remove: list[str]) -> None:
        params = {"user_id_type": "user_id"}
        if add:
            self._call(config, "POST", self._path(owner, event_id) + "/attendees", params=params,
                       json={"attendees": [{"type": "user", "user_id": s, "is_optional": False} for s in add],
                             "need_notification": True})
        if remove:
            self._call(config, "POST", self._path(owner, event_id) + "/attendees/batch_delete", params=params,
                       json={"delete_ids": [{"type": "user", "user_id": s} for s in remove], "need_notification": True})

    def delete(self, config, owner: str, event_id: str) -> None:
        self._call(config, "DELETE", self._path(owner, event_id), params={"need_notification": "true"})


class DingTalk(_Platform):
    what = lazy_gettext("钉钉日程")

    def _call(self, config, method: str, path: str, **kwargs) -> dict:
        self.keep()
        url = config["DINGTALK_API_URL"].rstrip("/") + "/v1.0/calendar" + path

        def call():
            headers = {"x-acs-dingtalk-access-token": dingtalk_id.app_access_token(config)}
            return call_provider(method, url, what=gettext("钉钉开放平台"), timeout=_timeout(config), headers=headers,
                                 **kwargs)

        status, answer = _fresh_token_once(call, lambda a: a[0] == 401 or a[1].get("code") == "InvalidAuthentication",
                                           lambda: drop_own_token(dingtalk_id._token_key(config)))
        if status == 404:
            raise EventGone(gettext("钉钉日程中已没有该日程（%(code)s）", code=answer.get("code") or status))
        if status >= 300:
            raise CalendarRefused(gettext("钉钉日程拒绝了请求（%(code)s：%(msg)s）", code=answer.get("code") or status,
                                          msg=answer.get("message") or "-"))
        return answer

    #: (company, userid) → unionId, per process: both are fixed for a member of the company, so each is asked once.
    _unions: dict[tuple[str, str, str], str] = {}

    def _union_ids(self, config, userids: list[str]) -> list[str]:
        """The people's unionIds (the calendar API names people by them; the directory gives their userid)."""
        found = []
        for userid in userids:
            key = (config["DINGTALK_OAPI_URL"], config["DINGTALK_CLIENT_ID"], userid)
            if key not in self._unions:
                self.keep()  # 41 look-ups for 42 invitees can take minutes: the claim is renewed as they go
                detail = dingtalk_id._corp_call(config, "/topapi/v2/user/get", {"userid": userid})
                union = (detail.get("result") or {}).get("unionid") if detail.get("errcode") == 0 else None
                if not union:
                    raise CalendarRefused(gettext("钉钉找不到用户 %(userid)s（%(code)s：%(msg)s）", userid=userid,
                                                  code=detail.get("errcode"), msg=detail.get("errmsg") or "-"))
                self._unions[key] = union
            found.append(self._unions[key])
        return found

    @staticmethod
    def _time(seconds: int) -> dict:
        local = datetime.fromtimestamp(seconds, timezone.utc).astimezone(LOCAL_TZ)
        return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": ZONE}

    def _event(self, facts: dict) -> dict:
        return {"summary": _cut(facts["summary"], 2048), "description": _cut(facts["description"], 5000),
                "isAllDay": False,
                "start": self._time(facts["starts"]), "end": self._time(facts["ends"]),
                "location": {"displayName": _cut(facts["location"], 500)}}

    def _path(self, owner: str, event_id: str = "") -> str:
        path = f"/users/{quote(owner, safe='')}/calendars/primary/events"
        return path + (f"/{quote(event_id, safe='')}" if event_id else "")

    def create(self, config, facts: dict) -> tuple[str, str, list[str]]:
        owner = self._union_ids(config, [facts["organizer"]])[0]
        body = self._event(facts)
        body["attendees"] = [{"id": union, "isOptional": False}
                             for union in self._union_ids(config, facts["attendees"])]
        body["reminders"] = [{"method": "dingtalk", "minutes": 15}]
        made = self._call(config, "POST", self._path(owner), json=body)
        if not made.get("id"):
            raise CalendarRefused(gettext("钉钉没有返回日程的 id"))
        return made["id"], owner, list(facts["attendees"])

    def update(self, config, owner: str, event_id: str, facts: dict) -> None:
        self._call(config, "PUT", self._path(owner, event_id), json=dict(self._event(facts), id=event_id))

    def set_attendees(self, config, owner: str, event_id: str, add: list[str], remove: list[str]) -> None:
        if add:
            self._call(config, "POST", self._path(owner, event_id) + "/attendees",
                       json={"attendeesToAdd": [{"id": u, "isOptional": False} for u in self._union_ids(config, add)]})
        if remove:
            self._call(config, "POST", self._path(owner, event_id) + "/attendees/batchRemove",
                       json={"attendeesToRemove": [{"id": u} for u in self._union_ids(config, remove)]})

    def delete(self, config, owner: str, event_id: str) -> None:
        self._call(config, "DELETE", self._path(owner, event_id), params={"pushNotification": "true"})


class WeCom(_Platform):
    what = lazy_gettext("企业微信日程")
    #: 400105: schedule not found (cancelled in the client).
    GONE = (400105,)

    def _call(self, config, path: str, body: dict) -> dict:
        self.keep()
        url = config["WECOM_BASE_URL"].rstrip("/") + "/cgi-bin/oa/schedule" + path

        def call():
            return call_provider("POST", url, what=gettext("企业微信"), timeout=_timeout(config),
                                 params={"access_token": wecom_id.access_token(config)}, json=body)[1]

        answer = _fresh_token_once(call, lambda a: a.get("errcode") in wecom_id.TOKEN_REJECTED,
                                   lambda: drop_own_token(wecom_id._token_key(config)))
        if answer.get("errcode") in self.GONE:
            raise EventGone(gettext("企业微信日程中已没有该日程（%(code)s）", code=answer.get("errcode")))
        if answer.get("errcode") != 0:
            raise CalendarRefused(gettext("企业微信日程拒绝了请求（%(code)s：%(msg)s）", code=answer.get("errcode"),
                                          msg=answer.get("errmsg") or "-"))
        return answer

    @staticmethod
    def _schedule(facts: dict) -> dict:
        return {"start_time": int(facts["starts"]), "end_time": int(facts["ends"]),
                "summary": _cut(facts["summary"], 128), "description": _cut(facts["description"], 1000),
                "location": _cut(facts["location"], 128),
                "reminders": {"is_remind": 1, "remind_before_event_secs": 900, "timezone": 8}}

    def create(self, config, facts: dict) -> tuple[str, str, list[str]]:
        schedule = dict(self._schedule(facts), attendees=[{"userid": s} for s in facts["attendees"]])
        made = self._call(config, "/add", {"schedule": schedule, "agentid": int(config["WECOM_AGENT_ID"])})
        if not made.get("schedule_id"):
            raise CalendarRefused(gettext("企业微信没有返回日程的 schedule_id"))
        return made["schedule_id"], "", list(facts["attendees"])

    def update(self, config, owner: str, event_id: str, facts: dict) -> None:
        self._call(config, "/update",
                   {"skip_attendees": 1, "schedule": dict(self._schedule(facts), schedule_id=event_id)})

    def set_attendees(self, config, owner: str, event_id: str, add: list[str], remove: list[str]) -> None:
        for path, people in (("/add_attendees", add), ("/del_attendees", remove)):
            if people:
                self._call(config, path, {"schedule_id": event_id, "attendees": [{"userid": s} for s in people]})

    def delete(self, config, owner: str, event_id: str) -> None:
        self._call(config, "/del", {"schedule_id": event_id})


#: The platforms' calls, made anew for each delivery (`PLATFORMS[name](keep=...)`).
PLATFORMS = {"feishu": Feishu, "dingtalk": DingTalk, "wecom": WeCom}
