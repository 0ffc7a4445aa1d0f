"""The imported transcript is searchable in the archive, filtered by what the user may see like the rest."""
from minutes.extensions import db
from minutes.transcripts import service
from tests.transcripts.conftest import SAMPLES


def _import(started):
    service.import_transcript(started.recorder, started.meeting, "妙记.txt", (SAMPLES / "feishu_30min.txt").read_bytes())
    db.session.commit()


def test_transcript_words_are_found_in_the_archive_with_speaker_and_agenda_item(started, client, login_as):
    _import(started)
    login_as(started.tech)
    html = client.get("/archive/search", query_string={"q": "支付回调超时"}).get_data(as_text=True)
    assert started.meeting.topic in html and "记录稿" in html
    assert "刘洋(产品部)" in html and "客户投诉升级后的处理时效" in html
    only = client.get("/archive/search", query_string={"q": "身份证号", "kind": "transcript"}).get_data(as_text=True)
    assert "赵敏(法务部)" in only


def test_a_confidential_meetings_transcript_is_not_found_by_someone_not_invited(started, client, login_as):
    started.meeting.confidential = True
    db.session.commit()
    _import(started)
    login_as(started.outsider)
    html = client.get("/archive/search", query_string={"q": "支付回调超时"}).get_data(as_text=True)
    assert started.meeting.topic not in html and "刘洋(产品部)" not in html
    client.post("/logout")
    login_as(started.legal)  # invited (cc)
    assert "刘洋(产品部)" in client.get("/archive/search", query_string={"q": "支付回调超时"}).get_data(as_text=True)
