"""The sender of an agenda sees what became of each email (not only the administrator), and `make run`'s local
mailbox (MAIL_DEV_MAILBOX=1) shows the mail the app sends, and exists only in that mode."""
import re

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.notify.delivery import deliver_pending


@pytest.fixture
def sent_agenda(app, clock, make_user, make_meeting, login_as, client):
    """An agenda sent through the page by its host to four people; nothing delivered yet."""
    clock(2026, 6, 1, 9, 0)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("lisi", "李四")
    others = [make_user("wangwu", "王五", dept="技术部"), make_user("sunqi", "孙七")]
    meeting = make_meeting(host, starts=(2026, 6, 15, 14, 0))
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [u.id for u in others], "participant")
    meetings.add_agenda_item(host, meeting, "投诉升级后的处理时效", 30, host.department_id)
    db.session.commit()
    login_as(host)
    assert client.post(f"/meetings/{meeting.id}/send-agenda").status_code == 303
    return meeting


def test_agenda_sender_sees_each_message_queued_and_the_page_polls(sent_agenda, client):
    page = client.get(f"/meetings/{sent_agenda.id}").get_data(as_text=True)
    assert "议程已交给邮件发送（4位参会人员）" in page
    assert page.count('class="delivery-queued"') == 4 and "待发送 4" in page
    assert f'hx-get="/meetings/{sent_agenda.id}/agenda-delivery"' in page and 'hx-trigger="every 3s"' in page


def test_agenda_sender_sees_connection_refused_per_person_and_a_warning(sent_agenda, client, smtp_down):
    deliver_pending()
    part = client.get(f"/meetings/{sent_agenda.id}/agenda-delivery").get_data(as_text=True)
    assert "邮件发不出去" in part and "ConnectionRefused" in part
    assert part.count('class="delivery-queued"') == 4  # retried later: still queued, each with its reason
    assert part.count("ConnectionRefusedError") + part.count("邮件服务器不可用") >= 4
    assert "发送失败" not in part.split("delivery-head")[1].split("</div>")[0]  # not given up yet
    assert 'hx-trigger="every' in part  # keeps asking while the mail waits


def test_agenda_sender_sees_sent_when_the_mail_server_took_it_and_polling_stops(sent_agenda, client, smtp_server):
    deliver_pending()
    smtp_server.wait_for(4)
    part = client.get(f"/meetings/{sent_agenda.id}/agenda-delivery").get_data(as_text=True)
    assert part.count('class="delivery-sent"') == 4 and "已发送 4" in part
    assert "hx-trigger" not in part and "邮件发不出去" not in part


def test_agenda_delivery_stays_readable_after_the_meeting_is_final(sent_agenda, client, smtp_server):
    from minutes.meetings.models import MeetingStatus

    deliver_pending()
    sent_agenda.status = MeetingStatus.FINAL
    page = client.get(f"/meetings/{sent_agenda.id}")
    assert page.status_code == 200
    assert client.get(f"/meetings/{sent_agenda.id}/agenda-delivery").status_code == 200


def test_agenda_delivery_is_for_those_who_may_send_it(sent_agenda, client, make_user, login_as):
    client.post("/logout")
    login_as(make_user("zhoujie", "周杰"))
    assert client.get(f"/meetings/{sent_agenda.id}/agenda-delivery").status_code == 403
    assert "delivery" not in client.get(f"/meetings/{sent_agenda.id}").get_data(as_text=True)


def test_local_mailbox_mode_counts_mail_as_delivered_and_shows_it(app, sent_agenda, client, smtp_server):
    app.config["MAIL_DEV_MAILBOX"] = True
    assert deliver_pending()["sent"] == 4
    assert smtp_server.messages == []  # nothing went over SMTP
    part = client.get(f"/meetings/{sent_agenda.id}/agenda-delivery").get_data(as_text=True)
    assert part.count('class="delivery-sent"') == 4 and 'href="/dev/mailbox"' in part
    box = client.get("/dev/mailbox")
    assert box.status_code == 200
    html = box.get_data(as_text=True)
    assert html.count('class="card mailbox-message"') == 4 and "【会议议程】解决客户投诉处理流程卡点" in html
    assert "lisi@" in html and "会议时间：" in html  # the text part, as sent
    link = re.search(r'href="(/dev/mailbox/\d+\.html)"', html).group(1)
    body = client.get(link)
    assert body.status_code == 200 and "sandbox" in body.headers["Content-Security-Policy"]
    assert "解决客户投诉处理流程卡点" in body.get_data(as_text=True)


def test_local_mailbox_does_not_exist_without_the_flag(app, sent_agenda, client):
    app.config["MAIL_DEV_MAILBOX"] = False
    assert client.get("/dev/mailbox").status_code == 404
    assert client.get("/dev/mailbox/1.html").status_code == 404
