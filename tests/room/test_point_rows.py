"""The room's points are read as light rows (room.service.PointRow: one select, names joined in, no ORM objects) for
the page and every resync, and built from a loaded Point for a point sent live: both must show the same."""
import re

import pytest
from sqlalchemy import delete, update

from minutes.extensions import db
from minutes.room import live, recording
from minutes.room import service as room_service
from minutes.room.models import Point, point_party


@pytest.fixture
def points(started, make_user):
    """A point of every shape the markup tells apart: a department and a speaker; a dispute between three
    departments (named out of id order) with markup characters in text and names; nothing but the text; a speaker
    alone; a dispute whose parties are gone (older data: its department shows); and a deleted one."""
    m, rec = started.meeting, started.recorder
    item = started.items[0].id
    odd = make_user("odd", '王<b>&"\'五', dept='研发<&>"部\'')
    tech, service_dept = started.dept("技术部"), started.dept("客服部")
    made = [
        recording.add_point(rec, m, item, "viewpoint", "客服部需在1小时内补充问题描述", department_id=tech.id,
                            speaker_id=started.participant.id),
        recording.add_point(rec, m, item, "dispute", '<script>alert("x")</script> & \'时效\'',
                            party_ids=[odd.department_id, service_dept.id, tech.id], speaker_id=odd.id),
        recording.add_point(rec, m, started.items[1].id, "consensus", "总时效不超过72小时\n第二行"),
        recording.add_point(rec, m, item, "consensus", "只有发言人", speaker_id=started.host.id),
        recording.add_point(rec, m, item, "consensus", "争议双方已不在", department_id=odd.department_id),
    ]
    gone = recording.add_point(rec, m, item, "viewpoint", "已删除", department_id=tech.id)
    db.session.flush()
    recording.delete_point(rec, gone)
    db.session.execute(update(Point).where(Point.id == made[4].id).values(kind="dispute"))
    db.session.execute(delete(point_party).where(point_party.c.point_id == made[4].id))
    db.session.commit()
    db.session.expire_all()
    return started, made, gone


def test_rows_hold_what_the_points_hold(points):
    cast, made, gone = points
    rows = room_service.point_rows_where(Point.meeting_id == cast.meeting.id, Point.deleted_at.is_(None))
    assert [r.id for r in rows] == [p.id for p in sorted(made, key=lambda p: (p.position, p.id))]
    by_id = {r.id: r for r in rows}
    for point in made:
        assert by_id[point.id] == room_service.PointRow.of(point)
    dispute = by_id[made[1].id]
    assert dispute.parties == [d.name for d in sorted(made[1].parties, key=lambda d: d.id)]
    assert len(dispute.parties) == 3 and dispute.who == " ↔ ".join(dispute.parties)
    assert by_id[made[4].id].who == '研发<&>"部\'' and by_id[made[4].id].parties == []
    assert by_id[made[2].id].who == "" and by_id[made[2].id].speaker is None
    assert by_id[made[3].id].who == "" and by_id[made[3].id].speaker == "王主持"
    assert gone.id not in by_id


def _point_markup(html: str, point_id: int) -> str:
    found = re.findall(rf'<li class="point [^"]*" id="point-{point_id}".*?</li>', html, re.S)
    assert len(found) == 1, html[:2000]
    return found[0]


@pytest.mark.parametrize("who", ["recorder", "participant"])
def test_a_point_sent_live_is_the_point_on_the_page(points, client, login_as, who):
    """The page (and so a resync) and the live fragment of a new point give the same bytes for every shape."""
    cast, made, _gone = points
    login_as(getattr(cast, who))
    page = client.get(f"/meetings/{cast.meeting.id}/room").get_data(as_text=True)
    audience = "write" if who == "recorder" else "read"
    for point in made:
        fragment = live.render_points_added(cast.meeting, [point.id])[audience]
        assert _point_markup(fragment, point.id) == _point_markup(page, point.id)
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert ("iconbutton" in page) is (who == "recorder")


def test_buttons_fill_in_each_records_id_and_version(points, app):
    """EditTools.buttons renders the macro once per kind and fills in the numbers: each record gets its own."""
    _cast, made, _gone = points
    tools = live.EditTools(7)
    first, second = made[0], made[3]
    one = str(tools.buttons("points", first.id, 5, first.kind, "  "))
    other = str(tools.buttons("points", second.id, 12, second.kind, "  "))
    assert f"/meetings/7/room/points/{first.id}/edit" in one and f"/meetings/7/room/points/{first.id}/delete" in one
    assert '"version": "5"' in one and "删除这条观点？" in one
    assert f"/points/{second.id}/" in other and f"/points/{first.id}/" not in other
    assert '"version": "12"' in other and "删除这条共识？" in other
    assert str(tools.buttons("actions", 987654321, 876543219, "actions", "")).count("987654321") == 2
