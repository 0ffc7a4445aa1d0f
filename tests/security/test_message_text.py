"""User text in outgoing messages: robot Markdown cannot carry markup, mail subjects stay one line."""
from minutes.extensions import db
from minutes.notify import service as notify
from minutes.notify.delivery import deliver_pending
from minutes.notify.models import OutboxMessage
from tests.security.xss_corpus import payloads


def test_robot_text_has_no_markdown_or_html_left():
    for payload in payloads():
        text = notify.im_text(payload)
        assert not any(ch in text for ch in "[]()<>*_#!`|~\\"), payload
    assert notify.im_text("[点我](http://evil.example) <font color=red>x</font>") == \
        "［点我］（http://evil.example） ＜font color=red＞x＜/font＞"
    assert notify.im_text("优化投诉模板，3个工作日内上线") == "优化投诉模板，3个工作日内上线"


def test_a_subject_with_user_line_breaks_is_folded_so_the_mail_is_sent(app, smtp_server):
    notify.enqueue_email("a@example.com", "【需支持】待办“第一行\r\n第二行\nBcc: x@example.com”", "正文")
    db.session.commit()
    deliver_pending()
    (message,) = smtp_server.wait_for(1)
    assert message["msg"]["Subject"] == "【需支持】待办“第一行 第二行 Bcc: x@example.com”"
    assert message["to"] == ["a@example.com"]
    assert db.session.query(OutboxMessage).one().status.value == "sent"
