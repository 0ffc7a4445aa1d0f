"""The final lock: the service refuses every write, the database refuses UPDATE and DELETE of final
rows; a correction is a new, marked version; the archive copy is checked against its hash on every read."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from minutes.core.errors import PermissionDenied, RuleViolation
from minutes.extensions import db
from minutes.notify.delivery import deliver_pending
from minutes.records import drafting, reading, service, signoff
from minutes.records.models import MinutesVersion, VersionKind, install_lock, remove_lock


def make_final(r, clock):
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    v1 = signoff.distribute(r.recorder, r.meeting)
    clock(2026, 6, 19, 10, 0)
    for user in r.recipients:
        signoff.respond(user, v1.id, "confirm")
    db.session.commit()
    assert v1.is_final
    return v1


def refused(statement, **params):
    with pytest.raises(DBAPIError) as info:
        db.session.execute(text(statement), params)
        db.session.flush()
    db.session.rollback()
    return str(info.value)


def test_service_refuses_every_write_to_final_minutes(recorded, clock):
    r = recorded()
    v1 = make_final(r, clock)
    minutes = service.minutes_of(r.meeting)
    for attempt in (lambda: drafting.save_draft(r.recorder, r.meeting, "改一下"),
                    lambda: drafting.regenerate(r.recorder, r.meeting),
                    lambda: signoff.distribute(r.recorder, r.meeting),
                    lambda: signoff.revise(r.recorder, r.meeting, "改一下", reask=[r.late.id]),
                    lambda: signoff.respond(r.late, v1.id, "change", "还想改"),
                    lambda: signoff.finalize(r.host, r.meeting, "再定一次")):
        with pytest.raises(RuleViolation):
            attempt()
    assert minutes.draft_body == v1.body


@pytest.mark.parametrize("statement", [
    "UPDATE minutes_version SET body = '篡改的内容' WHERE id = :id",
    "UPDATE minutes_version SET final_reason = '补一个理由' WHERE id = :id",
    "UPDATE minutes_version SET finalized_at = NULL WHERE id = :id",
    "DELETE FROM minutes_version WHERE id = :id",
    "UPDATE minutes_response SET kind = 'change' WHERE version_id = :id",
    "DELETE FROM minutes_response WHERE version_id = :id",
])
def test_database_refuses_changing_a_final_version_by_raw_sql(recorded, clock, statement):
    r = recorded()
    v1 = make_final(r, clock)
    message = refused(statement, id=v1.id)
    assert "refused" in message and ("locked" in message or "append-only" in message)
    fresh = db.session.get(MinutesVersion, v1.id)
    assert fresh is not None and fresh.is_final and service.verify(fresh)


def test_database_keeps_every_version_append_only(recorded, clock):
    r = recorded()
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    v1 = signoff.distribute(r.recorder, r.meeting)
    db.session.commit()
    assert "append-only" in refused("UPDATE minutes_version SET body = 'x' WHERE id = :id", id=v1.id)
    assert "append-only" in refused("UPDATE minutes_version SET content_hash = 'x' WHERE id = :id", id=v1.id)
    # becoming final is the one change a version may take, once
    db.session.execute(text("UPDATE minutes_version SET note = note WHERE id = :id"), {"id": v1.id})
    db.session.rollback()


def test_tampering_behind_the_locks_shows_an_integrity_warning(recorded, clock, client, login_as):
    r = recorded()
    v1 = make_final(r, clock)
    vid = v1.id
    db.session.commit()  # release the test's locks: dropping a trigger needs the table to itself
    with db.engine.begin() as conn:  # someone with database rights drops the lock and edits the text
        remove_lock(conn)
        conn.execute(text("UPDATE minutes_version SET body = body || '（后加的一句）' WHERE id = :id"), {"id": vid})
        install_lock(conn)
    db.session.rollback()  # end the read snapshot; everything is re-read
    final, intact = reading.archive_copy(r.late, r.meeting)
    assert final.id == v1.id and not intact
    login_as(r.late)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert 'id="integrity-warning"' in page and "完整性警告" in page
    assert 'id="integrity-warning"' in client.get(f"/minutes/versions/{v1.id}").get_data(as_text=True)
    response = client.get(f"/minutes/versions/{v1.id}/export.docx")
    assert response.status_code == 409 and "完整性校验失败" in response.get_data(as_text=True)
    assert "refused" in refused("UPDATE minutes_version SET body = 'x' WHERE id = :id", id=v1.id)


def test_rewriting_text_and_hash_together_is_caught_by_the_second_copy(recorded, clock):
    r = recorded()
    v1 = make_final(r, clock)
    from minutes.records import render

    forged = v1.body + "（伪造）"
    digest = render.content_hash(forged, v1.decisions, v1.actions)
    vid = v1.id
    db.session.commit()
    with db.engine.begin() as conn:
        remove_lock(conn)
        conn.execute(text("UPDATE minutes_version SET body = :b, content_hash = :h WHERE id = :id"),
                     {"b": forged, "h": digest, "id": vid})
        install_lock(conn)
    db.session.rollback()  # end the read snapshot; everything is re-read
    assert not reading.archive_copy(r.host, r.meeting)[1]


def test_untouched_final_passes_the_check(recorded, clock, client, login_as):
    r = recorded()
    make_final(r, clock)
    assert reading.archive_copy(r.cc, r.meeting)[1]
    login_as(r.cc)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert "完整性警告" not in page and "已锁定" in page


def test_correction_is_a_new_marked_version_pointing_at_the_final_one(recorded, clock, smtp_server, client, login_as):
    r = recorded()
    v1 = make_final(r, clock)
    deliver_pending()
    smtp_server.wait_for(7)
    smtp_server.clear()
    clock(2026, 6, 24, 10, 0)
    with pytest.raises(PermissionDenied):
        signoff.correct(r.member, r.meeting, v1.body + "x", "无权")  # not the recorder or host
    body = v1.body.replace("钱六（法务部，原因：出差）", "钱六（法务部，原因：年假）")
    correction = signoff.correct(r.recorder, r.meeting, body, "钱六缺席原因记录有误")
    db.session.commit()
    assert correction.kind == VersionKind.CORRECTION and correction.corrects.id == v1.id
    assert correction.is_final and correction.number == 2 and correction.label == "第2版（更正）"
    assert db.session.get(MinutesVersion, v1.id).body == v1.body and v1.is_final
    final, intact = reading.archive_copy(r.late, r.meeting)
    assert final.id == correction.id and intact
    deliver_pending()
    mails = smtp_server.wait_for(7)
    assert len(mails) == 7 and all("【会议纪要更正】" in m["msg"]["Subject"] for m in mails)
    assert "钱六缺席原因记录有误" in mails[0]["msg"].get_content() and "diff?a=1&b=2" in mails[0]["msg"].get_content()
    login_as(r.late)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert "本版是对第1版的更正" in page and "年假" in page
    diff = client.get(f"/meetings/{r.meeting.id}/minutes/diff?a=1&b=2").get_data(as_text=True)
    assert '<del class="diff-del">出差</del><ins class="diff-ins">年假</ins>' in diff


def test_correction_needs_a_reason_and_a_change(recorded, clock):
    r = recorded()
    v1 = make_final(r, clock)
    with pytest.raises(Exception, match="更正原因"):
        signoff.correct(r.recorder, r.meeting, v1.body + "x", " ")
    with pytest.raises(RuleViolation, match="完全相同"):
        signoff.correct(r.recorder, r.meeting, v1.body, "没改")
