"""After the meeting, until the minutes are distributed: a transcript is imported, its suggestions go into the record
and the minutes draft; the model's summary draft is inserted into the minutes. After distribution: refused, unchanged."""
import io
import json

from sqlalchemy import func, select

from minutes.actions.models import ActionItem
from minutes.extensions import db
from minutes.records import drafting, service as records, signoff
from minutes.room import review
from minutes.room.models import Decision, Point
from minutes.transcripts import model, service
from minutes.transcripts.models import Suggestion, Transcript
from tests.transcripts.conftest import SAMPLES
from tests.transcripts.model_server import GOOD

HX = {"HX-Request": "true"}


def _ended(started):
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    db.session.commit()
    return started


def _import(client, meeting):
    form = {"file": (io.BytesIO((SAMPLES / "feishu_30min.txt").read_bytes()), "妙记.txt")}
    return client.post(f"/meetings/{meeting.id}/transcript", data=form, content_type="multipart/form-data")


def _accept(client, meeting, s, **change):
    data = {"agenda_item_id": s.agenda_item_id, "text": s.text, "owner_id": s.owner_id or "",
            "department_id": s.department_id or "", "due": s.due, "party_ids": s.parties}
    data.update(change)
    return client.post(f"/meetings/{meeting.id}/transcript/suggestions/{s.id}/accept", data=data, headers=HX)


def _first(kind, **where):
    query = select(Suggestion).where(Suggestion.kind == kind).order_by(Suggestion.id)
    return next(s for s in db.session.scalars(query) if all(getattr(s, k) == v for k, v in where.items()))


def _count(model_class):
    return db.session.scalar(select(func.count()).select_from(model_class))


def test_after_the_meeting_accepted_suggestions_enter_the_record_and_the_minutes_draft(started, client, login_as):
    meeting = _ended(started).meeting
    login_as(started.recorder)
    drafting.draft_from_record(started.recorder, meeting)
    db.session.commit()
    assert "本议题未记录讨论要点。" in records.minutes_of(meeting).draft_body
    html = client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert 'id="minutes-transcript"' in html and "导入记录稿" in html

    assert _import(client, meeting).status_code == 303
    page = client.get(f"/meetings/{meeting.id}/transcript").get_data(as_text=True)
    assert 'id="late-note"' in page and 'id="back-to-minutes"' in page
    decision = _first("decision", agenda_item_id=started.items[1].id)
    assert _accept(client, meeting, decision).status_code == 200
    action = _first("action", owner_id=started.product.id)
    assert _accept(client, meeting, action).status_code == 200
    dispute = _first("dispute", agenda_item_id=started.items[1].id)
    assert _accept(client, meeting, dispute).status_code == 200

    saved = db.session.scalars(select(Decision)).one()
    assert saved.text == decision.text and saved.confirmed_by_id == started.recorder.id  # the review is over
    assert db.session.scalars(select(ActionItem)).one().due_date.isoformat() == "2026-06-30"
    body = records.minutes_of(meeting).draft_body
    second = body[body.index("### 议题二"):]
    assert second.startswith("### 议题二：投诉提报模板优化\n\n**争议**\n\n- **")
    assert "- **技术部 与 法务部**：" in second or "- **法务部 与 技术部**：" in second
    assert "**决议**：见“决议事项汇总”第1项。" in second and "未记录讨论要点" not in second
    first = body[body.index("### 议题一"):body.index("### 议题二")]
    assert "**待办**：见“待办事项跟踪表”第1项。" in first and "未记录讨论要点" not in first
    html = client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert decision.text in html and "记录稿与建议" in html


def test_a_late_point_goes_after_the_points_of_its_kind_and_the_recorders_edits_stay(started, client, login_as):
    meeting = _ended(started).meeting
    login_as(started.recorder)
    minutes = drafting.draft_from_record(started.recorder, meeting)
    edited = minutes.draft_body.replace("本议题未记录讨论要点。", "**争议**\n\n- 记录人手写的争议\n\n记录人补充的一段话。", 1)
    drafting.save_draft(started.recorder, meeting, edited, minutes.draft_revision)
    db.session.commit()
    saved_revision = minutes.draft_revision
    _import(client, meeting)
    dispute = _first("dispute", agenda_item_id=started.items[0].id)
    assert _accept(client, meeting, dispute).status_code == 200
    body = records.minutes_of(meeting).draft_body
    first = body[body.index("### 议题一"):body.index("### 议题二")]
    assert first.index("- 记录人手写的争议") < first.index("- **") < first.index("记录人补充的一段话。")
    assert records.minutes_of(meeting).draft_revision == saved_revision + 1 == 3


def test_after_distribution_import_and_accept_are_refused_and_nothing_changes(started, client, login_as):
    meeting = _ended(started).meeting
    login_as(started.recorder)
    assert _import(client, meeting).status_code == 303
    late = _first("decision", agenda_item_id=started.items[1].id)
    assert _accept(client, meeting, late).status_code == 200  # no draft yet: the draft is written with it
    version = signoff.distribute(started.recorder, meeting)
    db.session.commit()
    assert [d["text"] for d in version.decisions] == [late.text] and "第1项" in version.body
    body = records.minutes_of(meeting).draft_body
    response = _import(client, meeting)
    assert response.status_code == 409 and "纪要已分发" in response.get_data(as_text=True)
    decision = _first("decision", agenda_item_id=started.items[0].id)
    response = _accept(client, meeting, decision)
    assert response.status_code == 409 and "纪要已分发" in response.get_data(as_text=True)
    assert _count(Transcript) == 1 and _count(Decision) == 1 and _count(Point) == _count(ActionItem) == 0
    db.session.refresh(decision)
    assert decision.status.value == "open" and records.minutes_of(meeting).draft_body == body
    page = client.get(f"/meetings/{meeting.id}/transcript").get_data(as_text=True)
    assert "记录稿仅供查看" in page and "采纳</button>" not in page


def _with_model_summary(started):
    transcript = service.import_transcript(started.recorder, started.meeting, "妙记.txt",
                                           (SAMPLES / "feishu_30min.txt").read_bytes())
    answer = model.read_answer(json.dumps(GOOD, ensure_ascii=False), "stop", len(transcript.lines), 2)
    service.add_model_suggestions(started.recorder, transcript, answer)
    db.session.commit()


def test_the_models_summary_is_inserted_into_the_minutes_draft_once(started, client, login_as):
    meeting = _ended(started).meeting
    minutes = drafting.draft_from_record(started.recorder, meeting)
    db.session.commit()
    login_as(started.recorder)
    assert 'id="insert-summary"' not in client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    _with_model_summary(started)
    assert 'id="insert-summary"' in client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    typed = minutes.draft_body + "\n记录人刚输入、尚未保存的一句。\n"
    response = client.post(f"/meetings/{meeting.id}/minutes/summary", headers=HX,
                           data={"markdown": typed, "revision": minutes.draft_revision})
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(f"/meetings/{meeting.id}/minutes")
    body = records.minutes_of(meeting).draft_body
    assert body.index("**会议摘要**：" + GOOD["summary"]) < body.index("**议程回顾**")
    assert "记录人刚输入、尚未保存的一句。" in body
    revision = records.minutes_of(meeting).draft_revision
    again = client.post(f"/meetings/{meeting.id}/minutes/summary", headers=HX,
                        data={"markdown": body, "revision": revision})
    assert again.status_code == 409 and "该摘要已在纪要正文中" in again.get_data(as_text=True)
    assert records.minutes_of(meeting).draft_revision == revision and records.minutes_of(meeting).draft_body == body


def test_only_the_recorder_and_host_insert_the_summary(started, client, login_as):
    meeting = _ended(started).meeting
    drafting.draft_from_record(started.recorder, meeting)
    _with_model_summary(started)
    login_as(started.tech)
    body = records.minutes_of(meeting).draft_body
    response = client.post(f"/meetings/{meeting.id}/minutes/summary", data={"markdown": body})
    assert response.status_code == 403 and records.minutes_of(meeting).draft_body == body
