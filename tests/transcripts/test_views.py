"""Importing a transcript over HTTP and turning its suggestions into record entries through the room's rules."""
import io

import pytest
from sqlalchemy import func, select

from minutes.actions.models import ActionItem
from minutes.extensions import db
from minutes.room.models import Decision, Point
from minutes.transcripts.models import Suggestion, Transcript, TranscriptLine
from tests.transcripts.conftest import SAMPLES

HX = {"HX-Request": "true"}


def _upload(client, meeting, data: bytes, name="妙记.txt", **extra):
    form = {"file": (io.BytesIO(data), name)}
    form.update(extra)
    return client.post(f"/meetings/{meeting.id}/transcript", data=form, content_type="multipart/form-data")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _suggestions(kind=None):
    query = select(Suggestion).order_by(Suggestion.id)
    if kind:
        query = query.where(Suggestion.kind == kind)
    return list(db.session.scalars(query))


def _imported(started, client, login_as):
    login_as(started.recorder)
    response = _upload(client, started.meeting, (SAMPLES / "feishu_30min.txt").read_bytes())
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return response


def test_recorder_imports_a_feishu_transcript_with_speakers_matched_and_suggestions_per_item(started, client,
                                                                                           login_as):
    _imported(started, client, login_as)
    transcript = db.session.scalars(select(Transcript)).one()
    assert transcript.format == "text" and len(transcript.lines) == 54
    line = transcript.lines[2]
    assert line.user_id == started.tech.id and line.seconds == 72 and line.agenda_item_id == started.items[0].id
    assert transcript.lines[26].agenda_item_id == started.items[0].id
    assert transcript.lines[28].agenda_item_id == started.items[1].id  # after "下一个议题，投诉提报模板优化"
    assert transcript.lines[22].speaker == "陈静(技术部)" and transcript.lines[22].user_id is None  # not invited
    kinds = [(s.kind.value, s.agenda_item_id) for s in _suggestions()]
    assert ("decision", started.items[0].id) in kinds and ("decision", started.items[1].id) in kinds
    assert ("dispute", started.items[1].id) in kinds and ("consensus", started.items[0].id) in kinds
    action = next(s for s in _suggestions("action") if s.owner_id == started.product.id)
    assert action.due == "6月30日" and action.lines == [12, 13]
    # nothing entered the record
    assert _count(Decision) == _count(ActionItem) == _count(Point) == 0
    html = client.get(f"/meetings/{started.meeting.id}/transcript").get_data(as_text=True)
    assert 'id="line-12"' in html and 'href="#line-13"' in html and "投诉提报模板优化" in html


def test_room_links_to_the_import_for_writers_only(started, client, login_as):
    login_as(started.recorder)
    assert 'id="import-transcript"' in client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    client.post("/logout")
    login_as(started.tech)
    assert 'id="import-transcript"' not in client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)


@pytest.mark.parametrize("who, status", [("tech", 403), ("outsider_confidential", 404)])
def test_only_recorder_and_host_import(started, client, login_as, who, status):
    if who == "outsider_confidential":
        started.meeting.confidential = True
        db.session.commit()
        login_as(started.outsider)
    else:
        login_as(started.tech)
    response = _upload(client, started.meeting, (SAMPLES / "tencent.txt").read_bytes())
    assert response.status_code == status
    assert _count(Transcript) == _count(TranscriptLine) == 0


def test_import_before_the_start_is_refused(cast, client, login_as):
    login_as(cast.host)
    response = _upload(client, cast.meeting, (SAMPLES / "tencent.txt").read_bytes())
    assert response.status_code == 409 and "不能导入记录稿" in response.get_data(as_text=True)
    assert _count(Transcript) == 0


@pytest.mark.parametrize("name, data, message", [
    ("空.txt", b"", "记录稿是空的"),
    ("图片.txt", b"\x89PNG\x00\x00\x00\rIHDR" * 20, "无法识别该文件"),
    ("假的.docx", b"PK\x03\x04garbage", "不是有效的Word"),
    ("随笔.txt", "今天天气很好，没有人发言。".encode(), "未识别到发言人"),
    ("巨大.txt", ("王主持：" + "很长" * 100 + "\n").encode() * 13000, "记录稿超过5 MB"),
], ids=["empty", "binary", "bad-docx", "no-speakers", "huge"])
def test_bad_files_get_a_clear_message_and_change_nothing(started, client, login_as, name, data, message):
    login_as(started.recorder)
    response = _upload(client, started.meeting, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(Transcript) == _count(TranscriptLine) == _count(Suggestion) == 0


def test_pasted_text_is_imported_and_kept_on_error(started, client, login_as):
    login_as(started.recorder)
    response = client.post(f"/meetings/{started.meeting.id}/transcript", data={"text": "只有一句话"})
    assert response.status_code == 422 and "只有一句话" in response.get_data(as_text=True)
    response = client.post(f"/meetings/{started.meeting.id}/transcript",
                           data={"text": (SAMPLES / "tencent.txt").read_text("utf-8")})
    assert response.status_code == 303 and _count(TranscriptLine) == 5


def _form(s, **change):
    data = {"agenda_item_id": s.agenda_item_id, "text": s.text, "owner_id": s.owner_id or "",
            "department_id": s.department_id or "", "due": s.due, "party_ids": s.parties}
    data.update(change)
    return data


def test_accepting_a_decision_and_an_action_goes_through_the_room(started, client, login_as):
    _imported(started, client, login_as)
    decision = _suggestions("decision")[0]
    response = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{decision.id}/accept",
                           data=_form(decision), headers=HX)
    assert response.status_code == 200 and "已采纳" in response.get_data(as_text=True)
    saved = db.session.scalars(select(Decision)).one()
    assert saved.text == decision.text and saved.agenda_item_id == started.items[0].id
    db.session.refresh(decision)
    assert decision.status.value == "accepted" and decision.entry_key == f"decision:{saved.id}"
    action = next(s for s in _suggestions("action") if s.owner_id == started.product.id)
    edited = "整理支付回调超时的处理口径，形成知识库初稿"
    response = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{action.id}/accept",
                           data=_form(action, text=edited), headers=HX)
    assert response.status_code == 200 and edited in response.get_data(as_text=True)  # the card shows what was kept
    item = db.session.scalars(select(ActionItem)).one()
    assert (item.text, item.owner_id, item.due_date.isoformat()) == (edited, started.product.id, "2026-06-30")
    # the second click on the same suggestion adds nothing
    again = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{action.id}/accept",
                        data=_form(action, text=edited), headers=HX)
    assert again.status_code == 409 and _count(ActionItem) == 1


def test_an_action_without_a_concrete_date_is_not_accepted_until_the_recorder_gives_one(started, client, login_as):
    _imported(started, client, login_as)
    action = next(s for s in _suggestions("action") if s.owner_id == started.tech.id)
    url = f"/meetings/{started.meeting.id}/transcript/suggestions/{action.id}/accept"
    response = client.post(url, data=_form(action, text="排查支付回调超时的根因，尽快给个结论", due=""), headers=HX)
    assert response.status_code == 422 and "尽快" in response.get_data(as_text=True)
    response = client.post(url, data=_form(action, text="排查支付回调超时的根因", due=""), headers=HX)
    assert response.status_code == 422 and "须有明确的完成时限" in response.get_data(as_text=True)
    assert _count(ActionItem) == 0
    db.session.refresh(action)
    assert action.status.value == "open"
    response = client.post(url, data=_form(action, text="排查支付回调超时的根因", due="3个工作日内"), headers=HX)
    assert response.status_code == 200
    assert db.session.scalars(select(ActionItem)).one().due_date.isoformat() == "2026-06-18"


def test_a_week_without_a_day_needs_the_date_confirmed(started, client, login_as):
    _imported(started, client, login_as)
    action = next(s for s in _suggestions("action") if s.owner_id == started.recorder.id)
    url = f"/meetings/{started.meeting.id}/transcript/suggestions/{action.id}/accept"
    response = client.post(url, data=_form(action, due="下周"), headers=HX)
    assert response.status_code == 422 and "请确认" in response.get_data(as_text=True)
    response = client.post(url, data=_form(action, due="下周", due_confirmed="2026-06-26"), headers=HX)
    assert response.status_code == 200 and _count(ActionItem) == 1


def test_a_dispute_is_accepted_as_a_point_between_its_parties_and_dropping_adds_nothing(started, client, login_as):
    _imported(started, client, login_as)
    dispute = _suggestions("dispute")[-1]
    assert set(dispute.parties) == {started.tech.department_id, started.legal.department_id}
    response = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{dispute.id}/accept",
                           data=_form(dispute), headers=HX)
    assert response.status_code == 200
    point = db.session.scalars(select(Point)).one()
    assert point.kind.value == "dispute" and {d.id for d in point.parties} == set(dispute.parties)
    consensus = _suggestions("consensus")[0]
    response = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{consensus.id}/drop", headers=HX)
    assert response.status_code == 200 and "已忽略" in response.get_data(as_text=True)
    assert _count(Point) == 1


def test_a_participant_cannot_accept(started, client, login_as):
    _imported(started, client, login_as)
    client.post("/logout")
    login_as(started.tech)
    s = _suggestions("decision")[0]
    response = client.post(f"/meetings/{started.meeting.id}/transcript/suggestions/{s.id}/accept", data=_form(s),
                           headers=HX)
    assert response.status_code == 403 and _count(Decision) == 0


def test_a_suggestion_says_what_the_recorder_must_fix(started, client, login_as):
    login_as(started.recorder)
    text = "张伟(技术部) 00:00:05\n技术部这边我来排查一下根因，尽快给个结论。\n王主持 00:00:30\n由李记录负责整理会议材料。\n"
    assert _upload(client, started.meeting, text.encode()).status_code == 303
    vague, undated = _suggestions("action")
    assert (vague.problem, undated.problem) == ("vague:尽快", "no_due")
    html = client.get(f"/meetings/{started.meeting.id}/transcript").get_data(as_text=True)
    assert "含模糊表述“尽快”，请改为具体时限" in html and "未说明完成时限，请填写具体日期" in html
