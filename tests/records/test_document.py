"""The minutes document (templates/records/minutes.md): the Markdown written from a rich record, byte for byte."""
from datetime import timedelta
from pathlib import Path

from minutes.extensions import db
from minutes.records import drafting
from minutes.room.models import Attendance, AttendanceStatus, Point, PointKind

GOLDEN = Path(__file__).parent / "golden"


def _enrich(r):
    """What the plain record lacks: a link, a moved start, a walk-in, an unchecked guest, multi-line texts, markup."""
    m = r.meeting
    m.online_link = "https://meet.example.com/j/301?a=1&b=<2>"
    m.expected_outcome = "明确责任分工\n  形成行动方案 \n\n*两周内*上线"
    m.planned_starts_at, m.planned_ends_at = m.starts_at - timedelta(days=1), m.ends_at - timedelta(days=1, minutes=10)
    db.session.add(Attendance(meeting=m, user=r.head, status=AttendanceStatus.PRESENT, invited=False))
    db.session.add(Attendance(meeting=m, user=r.outsider, status=AttendanceStatus.PENDING, invited=True))
    db.session.add(Point(meeting=m, agenda_item=r.items[1], kind=PointKind.CONSENSUS, position=9, created_by_id=r.recorder.id,
                         text="<script>alert('x')</script> & {{ 7*7 }} {% raw %}\n  第二行 <b>粗</b> 100%"))
    db.session.commit()


def test_document_of_a_rich_record_is_unchanged(recorded):
    r = recorded()
    _enrich(r)
    body = drafting.generate_body(r.meeting)
    assert body == (GOLDEN / "rich.md").read_text(encoding="utf-8")


def test_document_without_agenda_online_only(recorded):
    r = recorded()
    m = r.meeting
    m.location, m.online_link, m.expected_outcome, m.goal = "", "https://meet.example.com/x", "   ", ""
    for item in list(m.agenda_items):
        db.session.delete(item)
    db.session.commit()
    db.session.refresh(m)
    body = drafting.generate_body(m)
    assert body == (GOLDEN / "bare.md").read_text(encoding="utf-8")
