"""The admin's view of the outbox: failures shown with their error, and retried on demand."""
from datetime import timedelta

from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.notify.models import OutboxMessage, OutboxStatus
from minutes.notify.delivery import deliver_pending
from minutes.notify.service import enqueue_email

HX = {"HX-Request": "true"}


def message(status=OutboxStatus.PENDING, attempts=0, error=None, subject="【议程】解决客户投诉处理流程卡点",
            recipient="zhaomin@example.com", due_in=timedelta(0)):
    msg = enqueue_email(recipient, subject, "正文")
    msg.status, msg.attempts, msg.last_error = status, attempts, error
    msg.next_attempt_at = utcnow() + due_in
    db.session.commit()
    return msg


def test_outbox_page_lists_messages_and_highlights_failures_with_their_error(client, admin):
    message(OutboxStatus.SENT, attempts=1, subject="已送达的议程")
    dead = message(OutboxStatus.DEAD, attempts=8, error="SMTPRecipientsRefused: 550 mailbox unavailable",
                   subject="失败的议程")
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "已送达的议程" in html and "失败的议程" in html
    row = html[html.index(f'id="msg-{dead.id}"') - 40:]
    row = row[:row.index("</tr>")]
    assert 'class="failed' in row and "550 mailbox unavailable" in row and "发送失败" in row
    assert "立即重试" in row


def test_outbox_filter_shows_only_failed_messages(client, admin):
    message(OutboxStatus.SENT, subject="已送达的议程")
    message(OutboxStatus.DEAD, attempts=8, error="boom", subject="失败的议程")
    html = client.get("/admin/outbox?status=dead", headers=HX).get_data(as_text=True)
    assert "失败的议程" in html and "已送达的议程" not in html


def test_sent_messages_offer_no_retry(client, admin):
    message(OutboxStatus.SENT, attempts=1)
    assert "立即重试" not in client.get("/admin/outbox").get_data(as_text=True)


def test_retry_makes_a_dead_message_pending_and_due_now(client, admin, clock):
    clock(2026, 6, 1, 9, 0)
    msg = message(OutboxStatus.DEAD, attempts=8, error="boom")
    msg.claimed_until = utcnow() + timedelta(minutes=1)
    db.session.commit()
    clock(2026, 6, 1, 10, 0)
    response = client.post(f"/admin/outbox/{msg.id}/retry", headers=HX)
    assert response.status_code == 200
    assert "已重新排队" in response.get_data(as_text=True)
    msg = db.session.get(OutboxMessage, msg.id)
    assert msg.status == OutboxStatus.PENDING
    assert msg.next_attempt_at == utcnow()
    assert msg.claimed_until is None


def test_retry_brings_a_backed_off_pending_message_forward(client, admin):
    msg = message(OutboxStatus.PENDING, attempts=3, error="timeout", due_in=timedelta(hours=2))
    assert client.post(f"/admin/outbox/{msg.id}/retry").status_code == 303
    assert db.session.get(OutboxMessage, msg.id).next_attempt_at <= utcnow()


def test_retried_message_is_delivered_by_the_next_run(client, admin, smtp_server):
    msg = message(OutboxStatus.DEAD, attempts=8, error="ConnectionRefusedError")
    assert deliver_pending()["sent"] == 0
    client.post(f"/admin/outbox/{msg.id}/retry")
    assert deliver_pending()["sent"] == 1
    assert smtp_server.wait_for(1)[0]["to"] == ["zhaomin@example.com"]
    msg = db.session.get(OutboxMessage, msg.id)
    assert msg.status == OutboxStatus.SENT and msg.last_error is None


def test_retrying_a_sent_message_is_refused_and_changes_nothing(client, admin):
    msg = message(OutboxStatus.SENT, attempts=1)
    response = client.post(f"/admin/outbox/{msg.id}/retry", headers=HX)
    assert response.status_code == 409
    assert "只有发送失败或待发送的消息可以重试" in response.get_data(as_text=True)
    assert db.session.get(OutboxMessage, msg.id).status == OutboxStatus.SENT


def test_retrying_an_unknown_message_is_404(client, admin):
    assert client.post("/admin/outbox/9999/retry").status_code == 404
