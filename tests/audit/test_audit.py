"""The audit log records who changed what, is visible to host and admin only, and cannot be rewritten."""
import pytest
from sqlalchemy import select, text

from minutes.audit.models import AuditEntry
from minutes.extensions import db
from minutes.meetings import service as meetings


def entries(**where):
    query = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return db.session.scalars(query).all()


def test_page_changes_are_recorded_with_actor_and_old_and_new_values(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", "赵敏", dept="客服部"))
    meeting = make_meeting(host, topic="旧主题")
    client.post(f"/meetings/{meeting.id}/agenda", data={"title": "投诉时效", "minutes": "20"})
    form = {"topic": "新主题", "goal": "统一投诉处理时效", "expected_outcome": "", "scenario": "problem",
            "starts_at": "2026-06-15T14:00", "ends_at": "2026-06-15T15:30", "location": "301",
            "organizer_department_id": str(host.department_id), "version": str(meeting.version)}
    assert client.post(f"/meetings/{meeting.id}/edit", data=form).status_code == 303
    updates = [e for e in entries(entity="meeting", action="update")]
    assert updates[-1].changes["topic"] == ["旧主题", "新主题"]
    assert updates[-1].actor_label == "赵敏" and updates[-1].meeting_id == meeting.id
    created = entries(entity="agenda_item", action="create")
    assert created[-1].changes["title"] == "投诉时效" and created[-1].meeting_id == meeting.id


def test_deletes_are_recorded_with_their_meeting(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host)
    item = meetings.add_agenda_item(host, meeting, "将被删除", 10)
    db.session.commit()
    item_id, meeting_id = item.id, meeting.id
    client.post(f"/agenda/{item_id}/delete")
    deleted = entries(entity="agenda_item", action="delete")
    assert deleted and deleted[-1].meeting_id == meeting_id and deleted[-1].entity_id == item_id


def test_secrets_are_never_written_to_the_log(app, make_user):
    from minutes.people import service as people

    user = make_user("zhaomin", dept="客服部")
    people.set_password(user, "a-new-password-1")
    db.session.commit()
    for entry in entries(entity="user"):
        assert "pbkdf2" not in str(entry.changes) and "scrypt" not in str(entry.changes)


def test_history_page_is_for_host_and_admin_only(client, login_as, make_user, make_meeting, app):
    host = make_user("zhaomin", dept="客服部")
    participant = make_user("lihua", dept="技术部")
    admin = make_user("admin", dept="人力资源部", admin=True)
    meeting = make_meeting(host)
    meetings.invite(host, meeting, [participant.id])
    db.session.commit()
    login_as(participant)
    assert client.get(f"/meetings/{meeting.id}/history").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    client.post("/logout")
    login_as(host)
    page = client.get(f"/meetings/{meeting.id}/history")
    assert page.status_code == 200 and "新建参会人员" in page.get_data(as_text=True)
    client.post("/logout")
    login_as(admin)
    assert client.get("/admin/audit").status_code == 200


def test_audit_rows_cannot_be_updated_or_deleted_even_by_sql(app, make_user):
    make_user("zhaomin", dept="客服部")
    row_id = entries()[0].id
    for statement in (f"UPDATE audit_entry SET actor_label = 'x' WHERE id = {row_id}",
                      f"DELETE FROM audit_entry WHERE id = {row_id}"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()
    assert db.session.get(AuditEntry, row_id) is not None
