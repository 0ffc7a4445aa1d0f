"""Live updates of the room: render what changed before the commit, publish it after, stream it.

The service records which parts of a room changed (`minutes.room.events`). Just before the
commit this module renders those parts for each audience (`write`: host and recorder,
`read`: every other viewer, `screen`: the shared screen); right after the commit it publishes
them with the room's revision through the broker in `app.extensions["room_broker"]`. A
rollback drops them.

Each tab's stream of these events is `minutes.room.stream.RoomStream`.
"""
from __future__ import annotations

import logging
import os
import time

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from minutes import aftercommit
from minutes.core.timefmt import utcnow
from minutes.dbtypes import parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, Role
from minutes.people.models import User
from minutes.people.service import all_users, list_departments
from minutes.room import attendance, carry, events, recording, service
from minutes.room.broker import AUDIENCES, Hub, Message, make_broker
from minutes.room.models import Attendance, AttendanceStatus, Point, PointKind, RoomState

log = logging.getLogger(__name__)

EXTENSION_KEY = "room_broker"


def init_app(app) -> None:
    """Create the broker (Redis when REDIS_URL is set) and keep it in app.extensions; hook the commits.

    A room's changes are rendered just before the commit (while the transaction still sees them) and
    published just after it (see `minutes.aftercommit`).
    """
    if EXTENSION_KEY not in app.extensions:
        app.extensions[EXTENSION_KEY] = make_room_broker(app, app.config.get("REDIS_URL"))
    aftercommit.before_commit(events.KEY, _render_before_commit)
    aftercommit.after_commit(events.KEY, _publish_after_commit)


def make_room_broker(app, redis_url: str | None) -> Hub:
    """A broker for `app`: Redis pub/sub when a URL is given, in-process otherwise; both with the watchdog."""
    prefix = app.config.get("ROOM_REDIS_PREFIX") or os.environ.get("ROOM_REDIS_PREFIX") or "minutes:room"
    return make_broker(redis_url, revision_reader=revision_reader(app),
                       watch_seconds=float(app.config.get("ROOM_WATCH_SECONDS", 5.0)), prefix=prefix)


def revision_reader(app):
    """A function reading the committed revisions of some rooms, in its own short session (for the watchdog)."""

    def read(meeting_ids: list[int]) -> dict[int, int]:
        with app.app_context():
            try:
                rows = db.session.execute(select(RoomState.meeting_id, RoomState.revision)
                                          .where(RoomState.meeting_id.in_(meeting_ids))).all()
                return {m: r for m, r in rows}
            finally:
                db.session.remove()

    return read


def broker(app=None) -> Hub:
    """The room broker of the (current) app."""
    return (app or current_app).extensions[EXTENSION_KEY]


# --- rendering -------------------------------------------------------------------------------

def base_context(meeting, parts=None, now=None, screen_only: bool = False) -> dict:
    """What the room templates need, for every audience (never the current user's identity).

    `parts` limits the work to what an update re-renders (None: the whole room); `screen_only` to what the shared
    screen's page shows (of the points, the current item's; no attendance list).
    """
    now = now or utcnow()
    parts = () if screen_only else parts
    whole = parts is None or events.ALL in parts
    room = service.room_of(meeting)
    items = service.room_items(meeting, now, room, current_points_only=screen_only, point_rows=True)
    need_people = whole or events.ATTENDANCE in parts or events.HEAD in parts
    rows = attendance.attendance(meeting) if room and need_people else []
    entries = service.entries_of(items) if room else []
    review_index = next((i for i, e in enumerate(entries) if room and e.review_key == room.review_key), None)
    current = next((v for v in items if v.is_current), None)
    # The whole room names the departments of the agenda, the people and the record, and the recorder's forms
    # list them all: one statement loads them (kept here, so the session finds each one without asking again).
    departments = list_departments() if whole else _Lazy(list_departments)
    return dict(
        meeting=meeting, room=room, items=items, current=current,
        attendance=rows, summary=attendance.attendance_summary(rows),
        entries=entries, review_index=review_index,
        review_entry=entries[review_index] if review_index is not None else None,
        unconfirmed=sum(1 for e in entries if not e.is_confirmed),
        # the screen read the current item's points only: what other items hold is unknown there, not empty
        undiscussed=[] if screen_only else carry.undiscussed(items),
        departments=departments, now=now,
        revision=room.revision if room else 0,
        point_kinds=list(PointKind), speakers=_Lazy(lambda: _speakers(meeting, rows)),
        forms=entry_forms(meeting, current), people=_Lazy(all_users),
        start_problems=service.start_problems(meeting) if room is None else [],
        tools=EditTools(meeting.id),
    )


class EditTools:
    """What the markup of every point, decision and action shares, built once per render instead of once per record:
    the recorder's edit and delete buttons (labels, confirmations, addresses: 300 points cost 1,500 translations and
    600 url_for calls a render, a third of the room page's time) and the points' kind labels."""

    #: an obj_id and a version no row has, to find where they go in built markup
    _MARK, _VERSION_MARK = 987654321, 876543219

    def __init__(self, meeting_id: int):
        self.meeting_id = meeting_id
        self.edit_label, self.delete_label = gettext("编辑"), gettext("删除")
        self.kind_label = {kind: kind.label for kind in PointKind}
        entry_kinds = {"decisions": gettext("决议"), "actions": gettext("待办")}
        self.confirm = {kind: gettext("删除这条%(kind)s？", kind=label)
                        for kind, label in [*self.kind_label.items(), *entry_kinds.items()]}
        self._around: dict[tuple[str, str], tuple[str, str]] = {}
        self._buttons: dict[tuple, list[list[Markup]]] = {}

    def _url(self, endpoint: str, kind: str, obj_id: int) -> str:
        key = (endpoint, kind)
        if key not in self._around:
            built = url_for(endpoint, meeting_id=self.meeting_id, kind=kind, obj_id=self._MARK)
            head, tail = built.split(f"/{self._MARK}/")
            self._around[key] = (f"{head}/", f"/{tail}")
        head, tail = self._around[key]
        return f"{head}{int(obj_id)}{tail}"

    def edit_url(self, kind: str, obj_id: int) -> str:
        return self._url("room.edit", kind, obj_id)

    def delete_url(self, kind: str, obj_id: int) -> str:
        return self._url("room.delete", kind, obj_id)

    def buttons(self, kind: str, obj_id: int, version: int, confirm_key, pad: str) -> Markup:
        """The `buttons` macro of templates/room/_record.html for one record: rendered once per kind of record
        (with marks where the id and the version go), then filled in per record (a macro call per record cost
        more than the rest of a point's markup)."""
        key = (kind, confirm_key, pad)
        pieces = self._buttons.get(key)
        if pieces is None:
            macro = current_app.jinja_env.get_template("room/_record.html").module.buttons
            built = macro(self, kind, self._MARK, self._VERSION_MARK, self.confirm[confirm_key], pad)
            # Markup's split keeps the macro's (escaped) markup as Markup: nothing is marked safe that was not
            pieces = self._buttons[key] = [part.split(str(self._VERSION_MARK)) for part in built.split(str(self._MARK))]
        obj_id, version = str(int(obj_id)), str(int(version))
        filled = []
        for n, part in enumerate(pieces):
            if n:
                filled.append(obj_id)
            for m, piece in enumerate(part):
                if m:
                    filled.append(version)
                filled.append(piece)
        return escape("").join(filled)  # an escaped join: the plain pieces (digits) are escaped too


def entry_context(meeting) -> dict:
    """The little the recorder's entry forms need (their POST answers render only the form)."""
    room = service.room_of(meeting)
    items = [service.ItemView(item=i, points=[], decisions=[], actions=[],
                              is_current=bool(room and room.current_item_id == i.id)) for i in meeting.agenda_items]
    return dict(meeting=meeting, room=room, items=items, current=next((v for v in items if v.is_current), None),
                audience="write", writable=True, departments=list_departments(), point_kinds=list(PointKind),
                speakers=_Lazy(lambda: _speakers(meeting, attendance.attendance(meeting, users_loaded=True)
                                                 if room else [])),
                people=_Lazy(all_users), _invited=_invited_people(meeting))


def _invited_people(meeting) -> list:
    """Load the invited people and everyone on the attendance list in one query, and keep them: the session
    holds objects only while something refers to them. The department choices list the departments of the
    people invited (the departments themselves are loaded beside); the speakers are the attendees, whose
    rows then find their users here instead of reading them again."""
    ids = [p.user_id for p in meeting.participants]
    attending = select(Attendance.user_id).where(Attendance.meeting_id == meeting.id)
    return list(db.session.scalars(select(User).where(or_(User.id.in_(ids), User.id.in_(attending)))))


class _Lazy:
    """A list loaded only if a template uses it (departments, people, speakers)."""

    def __init__(self, load):
        self._load, self._items = load, None

    def _get(self) -> list:
        if self._items is None:
            self._items = list(self._load())
        return self._items

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())

    def __bool__(self):
        return bool(self._get())


def _speakers(meeting, rows) -> list:
    """People who may speak: those on the attendance list (or invited, before the start), by department."""
    people = [r.user for r in rows if r.status != AttendanceStatus.ABSENT] if rows else [
        p.user for p in meeting.participants if p.role != Role.CC]
    return sorted(people, key=lambda u: (u.department_id, u.name))


def entry_forms(meeting, current, **overrides) -> dict:
    """Default values of the recorder's entry forms: the current agenda item, kind 观点."""
    if current is not None:
        item_id = str(current.item.id)
    else:
        item_id = str(meeting.agenda_items[0].id) if meeting.agenda_items else ""
    forms = {
        "point": dict(agenda_item_id=item_id, kind="viewpoint", department_id="", speaker_id="", text="",
                      party_ids=[]),
        "decision": dict(agenda_item_id=item_id, text="", owner_department_id="", owner_id="",
                         cooperating_department_ids=[], due=""),
        "action": dict(agenda_item_id=item_id, text="", owner_department_id="", owner_id="",
                       cooperating_department_ids=[], due=""),
    }
    for values in forms.values():  # a fresh form gets a new one-time token; one sent back keeps its own
        values["submission"] = recording.new_submission()
    for name, values in overrides.items():
        forms[name].update(values)
    return forms


def room_context(meeting, audience: str, base: dict | None = None) -> dict:
    """The room's template context for one audience: `write` (host, recorder), `read`, `screen`."""
    context = dict(base if base is not None else base_context(meeting))
    context["audience"] = audience
    context["writable"] = audience == "write" and meeting.is_recording
    return context


def render_live(meeting, audience: str, base: dict | None = None) -> str:
    """The whole live part of the room (what a resync swaps in) for one audience."""
    context = room_context(meeting, audience, base)
    template = "room/_screen.html" if audience == "screen" else "room/_live.html"
    return render_template(template, **context)


def render_parts(meeting, audience: str, parts, base: dict | None = None) -> str:
    """Out-of-band fragments for the parts that changed."""
    context = room_context(meeting, audience, base)
    if audience == "screen":
        return render_template("room/_screen.html", oob=True, **context)
    html = []
    by_id = {v.item.id: v for v in context["items"]}
    agenda_done = False
    for part in dict.fromkeys(parts):
        if part == events.HEAD:
            html.append(render_template("room/_head.html", oob=True, **context))
        elif part in (events.AGENDA, events.CURRENT):
            if not agenda_done:
                html.append(render_template("room/_agenda.html", oob=True, **context))
                agenda_done = True
        elif part == events.ATTENDANCE:
            html.append(render_template("room/_attendance.html", oob=True, **context))
        elif part == events.REVIEW:
            html.append(render_template("room/_review.html", oob=True, **context))
        elif part.startswith("item:"):
            view = by_id.get(int(part.split(":", 1)[1]))
            if view is not None:
                html.append(render_template("room/_item.html", oob=True, view=view, **context))
        elif part.startswith("item+:"):
            view = by_id.get(int(part.split(":", 1)[1]))
            if view is not None:
                html.append('<div hx-swap-oob="beforeend:#room-items">'
                            + render_template("room/_item.html", view=view, **context) + "</div>")
        elif part.startswith("point+:"):
            point_id = int(part.split(":", 1)[1])
            for view in context["items"]:
                point = next((p for p in view.points if p.id == point_id), None)
                if point is not None:
                    html.append(render_template("room/_point_added.html", p=point, count=view.count, **context))
    return "\n".join(html)


def render_points_added(meeting, point_ids: list[int]) -> dict[str, str]:
    """The hot path: points just added travel alone, appended where they belong (no room to load)."""
    room = service.room_of(meeting)
    out = {a: [] for a in AUDIENCES}
    tools = EditTools(meeting.id)
    for point_id in point_ids:
        point = db.session.get(Point, point_id)
        if point is None or point.deleted_at is not None:
            continue
        p = service.PointRow.of(point)
        count = service.item_count(p.agenda_item_id)
        for audience in ("write", "read"):
            out[audience].append(_fragment("room/_point_added.html", p=p, count=count, meeting=meeting,
                                           writable=audience == "write", tools=tools))
        if room is not None and room.current_item_id == p.agenda_item_id and meeting.is_live:
            out["screen"].append(f'<div hx-swap-oob="beforeend:#screen-points">'
                                 f'{_fragment("room/_screen_point.html", p=p)}</div>')
    return {a: "\n".join(html) for a, html in out.items()}


def _fragment(name: str, **context) -> str:
    """Render a fragment from what it is given alone: none of the request's context processors (the
    current user, their CSRF token) can slip into what every tab receives, and it is quicker."""
    return current_app.jinja_env.get_template(name).render(context)


def render_event(pending: events.PendingEvent) -> Message:
    """Render one recorded change for every audience."""
    meeting = db.session.get(Meeting, pending.meeting_id)
    if pending.parts and all(part.startswith("point+:") for part in pending.parts):
        fragments = render_points_added(meeting, [int(part.split(":", 1)[1]) for part in pending.parts])
        return Message(pending.meeting_id, pending.revision, "update", fragments)
    base = base_context(meeting, pending.parts)
    if events.ALL in pending.parts:
        fragments = {a: render_live(meeting, a, base) for a in AUDIENCES}
        return Message(pending.meeting_id, pending.revision, "resync", fragments)
    fragments = {a: render_parts(meeting, a, pending.parts, base) for a in AUDIENCES}
    return Message(pending.meeting_id, pending.revision, "update", fragments)


def _render_pending(session: Session) -> None:
    todo = [p for p in events.pending(session) if p.payload is None]
    if not todo:
        return
    app = current_app._get_current_object()
    if has_request_context():
        for p in todo:
            p.payload = render_event(p)
        return
    with app.test_request_context("/", base_url=app.config.get("BASE_URL")):
        for p in todo:
            p.payload = render_event(p)


def _render_before_commit(session: Session, pending: list[events.PendingEvent]) -> None:
    """Render what changed while the transaction still sees it (it is what gets committed)."""
    _render_pending(session)


def _publish_after_commit(session: Session, done: list[events.PendingEvent]) -> None:
    """Publish, in revision order, once the change is durable."""
    try:
        hub = broker()
    except (RuntimeError, KeyError):
        return
    published = False
    for p in sorted(done, key=lambda p: p.revision):
        if p.payload is not None:
            p.payload.published_at = time.time()
            hub.publish(p.payload)
            published = True
    if published:
        # Under gevent (the production server) the streams of this worker that the publish woke run only
        # when this greenlet yields; without this they would wait until the request's answer is rendered
        # and sent. Elsewhere it only gives up the GIL for a moment.
        time.sleep(0)


# --- the stream ------------------------------------------------------------------------------

def parse_revision(*values) -> int | None:
    """The newest revision a client says it has (Last-Event-ID header, ?rev=), or None."""
    found = [parse_id(v) for v in values]
    return max((v for v in found if v is not None), default=None)
