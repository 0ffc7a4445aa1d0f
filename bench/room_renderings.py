"""Write every rendering of the room to a directory, to compare two checkouts byte for byte.

    .venv/bin/python bench/room_renderings.py OUT [--root /work/main]
    diff -r OUT_MAIN OUT_BRANCH

Builds the page budgets' big room (tests/page_data.py: 30 items, 300 points) in a scratch SQLite file with the clock
frozen, adds points that exercise every branch of a point's markup (a dispute with and without parties, no
department, no speaker, markup characters in text and names, a deleted point, an edited one), then, in progress,
in review (with the cursor on an entry) and ended, writes: the pages (the recorder's and an attendee's room, the
screen) and their htmx resyncs through the test client, `live.render_live` for each audience, `render_parts` for
each kind of part, and a new point's live fragments (`render_points_added`). Per-session tokens (CSRF, the entry
forms' one-time submission) are masked. `--root` imports the app from another checkout (same data, same ids).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MASKS = ((re.compile(r'name="submission" value="[0-9a-f]+"'), 'name="submission" value="…"'),
         (re.compile(r'(csrf[-_]token"? (?:content|value)=")[^"]+'), r"\1…"),
         (re.compile(r'("X-CSRFToken": ")[^"]+'), r"\1…"))


def mask(html: str) -> str:
    for pattern, replacement in MASKS:
        html = pattern.sub(replacement, html)
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--root", type=Path, default=HERE)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    os.environ.pop("DATABASE_URL", None)
    from minutes import create_app
    from minutes.extensions import db
    from minutes.room import events, live, recording, review
    from sqlalchemy import update

    from minutes.room.models import Point, point_party
    from tests import page_data
    from tests.conftest import PASSWORD, IsolatedClient, new_meeting, new_user, set_clock

    args.out.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tempfile.mkdtemp(prefix='room-renderings-')}/r.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "renderings",
                      "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False, "WTF_CSRF_ENABLED": False})
    app.test_client_class = IsolatedClient  # each request in its own app context, as tests/conftest.py's client
    written = 0

    def write(name: str, html: str) -> None:
        nonlocal written
        (args.out / f"{name}.html").write_text(mask(html))
        written += 1

    with app.app_context(), app.test_request_context():
        db.create_all()
        office = page_data.office(new_user, set_clock)
        meeting, _host, recorder, attendee = page_data.big_room(office, new_meeting, set_clock)
        odd_person = new_user("odd", '王<b>&"\'五', dept='研发<&>"部\'')
        odd = odd_person.department
        items = list(meeting.agenda_items)
        current = items[12].id
        extra = [
            recording.add_point(recorder, meeting, current, "dispute", "争议双方后来被删去的争议", department_id=odd.id,
                                party_ids=[odd.id, office[1].department_id]),
            recording.add_point(recorder, meeting, current, "dispute", '<script>alert("x")</script> & \'q\'',
                                party_ids=[odd.id, office[0].department_id], speaker_id=odd_person.id),
            recording.add_point(recorder, meeting, current, "consensus", "无部门无发言人\n第二行  "),
            recording.add_point(recorder, meeting, current, "consensus", "只有发言人", speaker_id=office[3].id),
            recording.add_point(recorder, meeting, current, "consensus", "变成没有双方的争议"),
        ]
        gone = recording.add_point(recorder, meeting, current, "viewpoint", "将被删除", department_id=odd.id)
        db.session.commit()
        recording.delete_point(recorder, gone)
        recording.update_point(recorder, extra[0], extra[0].version, "dispute", "改过的争议", department_id=odd.id,
                               party_ids=[office[1].department_id, odd.id])
        # a dispute whose parties are gone (older data): the markup falls back to its department
        db.session.execute(point_party.delete().where(point_party.c.point_id == extra[4].id))
        db.session.execute(update(Point).where(Point.id == extra[4].id).values(kind="dispute", department_id=odd.id))
        db.session.commit()
        clients = {}
        for who, person in (("recorder", recorder), ("attendee", attendee)):
            clients[who] = app.test_client()
            assert clients[who].post("/login", data={"username": person.username, "password": PASSWORD}).status_code == 302

        def render_all(state: str) -> None:
            db.session.expire_all()
            for who, client in clients.items():
                for kind, headers in (("page", {}), ("resync", {"HX-Request": "true"})):
                    response = client.get(f"/meetings/{meeting.id}/room", headers=headers)
                    assert response.status_code == 200, (who, response.status_code, response.get_data(as_text=True)[:500])
                    write(f"{state}-{who}-room-{kind}", response.get_data(as_text=True))
            response = clients["attendee"].get(f"/meetings/{meeting.id}/screen")
            write(f"{state}-screen-page", response.get_data(as_text=True))
            base = live.base_context(meeting)
            for audience in ("write", "read", "screen"):
                write(f"{state}-live-{audience}", live.render_live(meeting, audience, base))
            parts = [events.HEAD, events.AGENDA, events.ATTENDANCE, events.REVIEW, events.item(current),
                     events.item(items[0].id), events.item_added(items[-1].id), f"point+:{extra[1].id}",
                     f"point+:{extra[2].id}"]
            for audience in ("write", "read", "screen"):
                for part in parts:
                    only = live.base_context(meeting, (part,))
                    write(f"{state}-part-{audience}-{part.replace(':', '_')}",
                          live.render_parts(meeting, audience, (part,), only))
                write(f"{state}-parts-{audience}-all", live.render_parts(meeting, audience, parts, base))
            for point in extra:
                for audience, html in live.render_points_added(meeting, [point.id]).items():
                    write(f"{state}-added-{point.id}-{audience}", html)
            db.session.rollback()

        render_all("progress")
        review.enter_review(recorder, meeting)
        entries = review.review_entries(meeting)
        review.confirm_entry(recorder, meeting, entries[0].review_key)
        review.reword_entry(recorder, meeting, entries[1].review_key, "改写后的决议 <b>")
        review.review_goto(recorder, meeting, entries[2].review_key)
        db.session.commit()
        render_all("review")
        for entry in review.review_entries(meeting):
            if entry.confirmed_at is None:
                review.confirm_entry(recorder, meeting, entry.review_key)
        review.finish_meeting(recorder, meeting)
        db.session.commit()
        render_all("ended")
        assert db.session.get(Point, gone.id).deleted_at is not None
    print(f"{written} renderings in {args.out}")


if __name__ == "__main__":
    main()
