"""The recorder sees what became of each email of the version sent out, on the minutes page itself."""
from minutes.notify.delivery import deliver_pending
from tests.notify.fixtures import smtp_down  # noqa: F401
from tests.records.test_signoff import distribute


def test_recorder_sees_each_recipient_queued_then_connection_refused_with_a_warning(recorded, clock, client, login_as,
                                                                                  smtp_down):  # noqa: F811
    r = recorded()
    version = distribute(r, clock)
    login_as(r.recorder)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    asked = len(version.minutes.recipients)
    assert page.count('class="delivery-queued"') == asked and f"待发送 {asked}" in page
    assert f'hx-get="/meetings/{r.meeting.id}/minutes/delivery"' in page
    deliver_pending()
    part = client.get(f"/meetings/{r.meeting.id}/minutes/delivery").get_data(as_text=True)
    assert "邮件发不出去" in part and "ConnectionRefused" in part and "已发送 0" in part
    for person in r.recipients:
        assert f'data-user="{person.username}"' in part


def test_recorder_sees_sent_once_the_mail_server_took_them(recorded, clock, client, login_as, smtp_server):
    r = recorded()
    version = distribute(r, clock)
    deliver_pending()
    asked = len(version.minutes.recipients)
    smtp_server.wait_for(asked)
    login_as(r.recorder)
    part = client.get(f"/meetings/{r.meeting.id}/minutes/delivery").get_data(as_text=True)
    assert part.count('class="delivery-sent"') == asked and "hx-trigger" not in part


def test_minutes_delivery_is_for_the_recorder_and_host_only(recorded, clock, client, login_as):
    r = recorded()
    distribute(r, clock)
    login_as(r.member)
    assert client.get(f"/meetings/{r.meeting.id}/minutes/delivery").status_code == 403
    assert "minutes-delivery" not in client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
