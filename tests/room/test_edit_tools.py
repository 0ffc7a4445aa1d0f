"""The recorder's edit and delete buttons (live.EditTools: labels, confirmations and addresses built once per render)
come out byte for byte as the per-button markup the templates built before, on the page and in a live update."""
import pytest
from flask import render_template_string

from minutes.extensions import db
from minutes.room import live, recording

#: The buttons as templates/room/_point.html and _entry_item.html (now the macros of _record.html) built them for every
#: point and entry before.
POINT_TOOLS = """\
    <button class="iconbutton" title="{{ _('编辑') }}" aria-label="{{ _('编辑') }}" hx-get="{{ url_for('room.edit', meeting_id=meeting.id, kind='points', obj_id=p.id) }}" hx-target="#editor">✎</button>
    <button class="iconbutton" title="{{ _('删除') }}" aria-label="{{ _('删除') }}" hx-post="{{ url_for('room.delete', meeting_id=meeting.id, kind='points', obj_id=p.id) }}"
            hx-vals='{"version": "{{ p.version }}"}' hx-target="#room-msg" hx-confirm="{{ _('删除这条%(kind)s？', kind=p.kind.label) }}">✕</button>"""
ENTRY_TOOLS = """\
      <button class="iconbutton" title="{{ _('编辑') }}" aria-label="{{ _('编辑') }}" hx-get="{{ url_for('room.edit', meeting_id=meeting.id, kind=kind, obj_id=entry.id) }}" hx-target="#editor">✎</button>
      <button class="iconbutton" title="{{ _('删除') }}" aria-label="{{ _('删除') }}" hx-post="{{ url_for('room.delete', meeting_id=meeting.id, kind=kind, obj_id=entry.id) }}"
              hx-vals='{"version": "{{ entry.version }}"}' hx-target="#room-msg" hx-confirm="{{ _('删除这条%(kind)s？', kind=_('决议') if kind == 'decisions' else _('待办')) }}">✕</button>"""


@pytest.fixture
def recorded(started):
    """A point of each kind, a decision and an action, in the started meeting."""
    m, rec = started.meeting, started.recorder
    item = started.items[0].id
    dept = started.dept("技术部").id
    points = [recording.add_point(rec, m, item, "viewpoint", "客服部需在1小时内补充问题描述", department_id=dept),
              recording.add_point(rec, m, item, "dispute", "时效由谁计算", party_ids=[dept, started.dept("客服部").id]),
              recording.add_point(rec, m, item, "consensus", "总时效不超过72小时")]
    decision = recording.add_decision(rec, m, item, "确定客户投诉处理总时效不超过72小时")
    action = recording.add_action(rec, m, item, "优化投诉提报模板", owner_id=started.participant.id, due="2026-06-30")
    db.session.commit()
    return started, points, [("decisions", decision), ("actions", action)]


def _expected(meeting, points, entries) -> list[str]:
    return ([render_template_string(POINT_TOOLS, meeting=meeting, p=p) for p in points]
            + [render_template_string(ENTRY_TOOLS, meeting=meeting, kind=kind, entry=e) for kind, e in entries])


def test_room_page_buttons_are_the_per_button_markup(recorded, client, login_as):
    cast, points, entries = recorded
    login_as(cast.recorder)
    page = client.get(f"/meetings/{cast.meeting.id}/room").get_data(as_text=True)
    expected = _expected(cast.meeting, points, entries)
    assert len(expected) == 5 and len({*expected}) == 5
    for buttons in expected:
        assert page.count(buttons) == 1, buttons
    assert "删除这条争议？" in page and "删除这条待办？" in page  # the confirmations really differ per kind


def test_a_new_point_sent_live_carries_the_same_buttons(recorded):
    cast, points, _entries = recorded
    fragments = live.render_points_added(cast.meeting, [points[1].id])
    assert _expected(cast.meeting, [points[1]], [])[0] in fragments["write"]
    assert "iconbutton" not in fragments["read"]


def test_addresses_put_the_id_where_url_for_does(app):
    tools = live.EditTools(12)
    for kind in ("points", "decisions", "actions"):
        for obj_id in (1, 12, 987654321, 2**31 - 1):
            assert tools.edit_url(kind, obj_id) == f"/meetings/12/room/{kind}/{obj_id}/edit"
            assert tools.delete_url(kind, obj_id) == f"/meetings/12/room/{kind}/{obj_id}/delete"


def test_the_room_page_looks_its_catalog_up_once(recorded, client, login_as, monkeypatch):
    """The templates' `_()` take the request's catalog from `g` (web.request_translations): Flask-Babel's own
    callables looked it up again for each of the room page's hundreds of translations."""
    import flask_babel

    cast, _points, _entries = recorded
    login_as(cast.recorder)
    lookups = []
    real = flask_babel.get_translations
    monkeypatch.setattr(flask_babel, "get_translations", lambda: lookups.append(1) or real())
    page = client.get(f"/meetings/{cast.meeting.id}/room").get_data(as_text=True)
    assert "删除这条争议？" in page and page.count("iconbutton") == 10
    assert len(lookups) == 1
