"""The outbox: email over real SMTP, group robots over real HTTP with their signatures and limits, once each."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from minutes.core import timefmt
from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.notify import webhooks
from minutes.notify.bots import delete_bot
from minutes.notify.delivery import MAX_ATTEMPTS, deliver_pending
from minutes.notify.models import OutboxMessage, OutboxStatus
from minutes.notify.service import enqueue_bulk, enqueue_email, enqueue_im


@pytest.fixture
def admin(make_user):
    return make_user("admin", "系统管理员", dept="信息部", admin=True)


@pytest.fixture
def dept(make_user):
    return make_user("wangwei", "王伟", dept="研发部").department


def statuses():
    return dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


# --- the vendors' signatures, checked by a server built from their published algorithms --------------------

def test_dingtalk_signed_message_is_accepted_by_a_server_that_checks_the_signature(app, robots, make_bot, admin, dept,
                                                                                   clock):
    clock(2026, 6, 15, 9, 30)
    url = robots.add("dingtalk", "tok-ding", "SECabc123")
    bot = make_bot(admin, dept.id, "dingtalk", url, "SECabc123")
    enqueue_im(bot, "【待办提醒】整理投诉分级标准", "**王伟**负责的待办将于明天到期。", "http://minutes.test/actions/1", "k1")
    db.session.commit()
    assert deliver_pending()["sent"] == 1
    [text] = robots.texts("dingtalk", "tok-ding")
    assert "【待办提醒】整理投诉分级标准" in text and "王伟" in text and "http://minutes.test/actions/1" in text
    assert robots.robot("dingtalk", "tok-ding").refused == []


def test_dingtalk_wrong_secret_is_refused_and_the_message_retried_later(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    url = robots.add("dingtalk", "tok-ding", "SECright")
    bot = make_bot(admin, dept.id, "dingtalk", url, "SECwrong")
    msg = enqueue_im(bot, "标题", "正文", "", "k1")
    db.session.commit()
    counts = deliver_pending()
    assert counts == {"sent": 0, "failed": 1, "deferred": 0}
    msg = db.session.get(OutboxMessage, msg.id)
    assert msg.status == OutboxStatus.PENDING and "310000" in msg.last_error and "sign not match" in msg.last_error
    assert msg.next_attempt_at == utcnow() + timedelta(seconds=30)
    assert robots.texts("dingtalk", "tok-ding") == []


def test_dingtalk_signature_follows_the_published_example():
    # timestamp + "\n" + secret, HmacSHA256 keyed with the secret, base64, then URL-encoded
    import base64
    import hashlib
    import hmac
    import urllib.parse

    expected = urllib.parse.quote_plus(base64.b64encode(
        hmac.new(b"this is secret", b"1577262236757\nthis is secret", hashlib.sha256).digest()))
    assert webhooks.dingtalk_sign("this is secret", 1577262236757) == expected
    url, _ = webhooks.build_request("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=T", "this is secret",
                                    webhooks.Post("t", "x"), now_ms=1577262236757)
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1577262236757&sign={expected}"


def test_feishu_signature_in_the_body_is_accepted_and_a_wrong_one_refused(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    good = make_bot(admin, dept.id, "feishu", robots.add("feishu", "hook-a", "fs-secret"), "fs-secret", name="好")
    bad = make_bot(admin, dept.id, "feishu", robots.add("feishu", "hook-b", "fs-secret"), "other", name="坏")
    enqueue_im(good, "【需协调】待办已逾期", "王伟负责的待办已逾期4个工作日", "http://minutes.test/actions/7", "a")
    enqueue_im(bad, "【需协调】待办已逾期", "正文", "", "b")
    db.session.commit()
    assert deliver_pending() == {"sent": 1, "failed": 1, "deferred": 0}
    [text] = robots.texts("feishu", "hook-a")
    assert "【需协调】待办已逾期" in text and "http://minutes.test/actions/7" in text
    assert robots.robot("feishu", "hook-b").refused[0][1] == 19021


def test_feishu_sign_is_hmac_keyed_by_timestamp_and_secret_over_an_empty_message():
    import base64
    import hashlib
    import hmac

    key = b"1599360473\nsecret"
    assert webhooks.feishu_sign("secret", 1599360473) == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def test_wecom_key_in_the_url_is_the_credential(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "wecom", robots.add("wecom", "key-1"))
    stranger = make_bot(admin, dept.id, "wecom", robots.base + "/cgi-bin/webhook/send?key=unknown", name="错的")
    enqueue_im(bot, "【待办今日到期】", "今天到期", "http://minutes.test/actions/2", "a")
    enqueue_im(stranger, "【待办今日到期】", "今天到期", "", "b")
    db.session.commit()
    assert deliver_pending() == {"sent": 1, "failed": 1, "deferred": 0}
    assert "今天到期" in robots.texts("wecom", "key-1")[0]
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "b"))
    assert "93000" in failed.last_error


def test_a_late_retry_is_signed_afresh(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "t", "SECx"), "SECx")
    enqueue_im(bot, "标题", "正文", "", "k")
    db.session.commit()
    robots.stop()
    try:
        assert deliver_pending()["failed"] == 1
    finally:
        robots.start()
    clock(2026, 6, 15, 13, 30)  # four hours later: a timestamp signed at queue time would be refused
    assert deliver_pending()["sent"] == 1
    assert robots.robot("dingtalk", "t").refused == []


# --- limits: queue, never drop --------------------------------------------------------------

def test_dingtalk_robot_gets_at_most_20_a_minute_and_the_rest_waits_in_the_queue(app, robots, make_bot, admin, dept,
                                                                                  clock):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "busy", "SECb"), "SECb")
    for n in range(45):
        enqueue_im(bot, f"提醒{n}", f"第{n}条", "", f"k{n}")
    db.session.commit()
    assert deliver_pending()["sent"] == 20
    assert deliver_pending()["sent"] == 0  # same minute: nothing more, nothing lost
    assert statuses() == {OutboxStatus.SENT: 20, OutboxStatus.PENDING: 25}
    clock(2026, 6, 15, 9, 31, 10)
    assert deliver_pending()["sent"] == 20
    clock(2026, 6, 15, 9, 32, 20)
    assert deliver_pending()["sent"] == 5
    robot = robots.robot("dingtalk", "busy")
    assert robot.refused == []  # the vendor never had to say "send too fast"
    assert [body["markdown"]["title"] for _, body in robot.accepted] == [f"提醒{n}" for n in range(45)]


def test_a_robot_that_says_too_fast_pauses_without_spending_attempts(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    url = robots.add("dingtalk", "shared", "SECs")
    bot = make_bot(admin, dept.id, "dingtalk", url, "SECs")
    robot = robots.robot("dingtalk", "shared")
    robot.accepted.extend([(utcnow(), {})] * 20)  # another system used up this minute
    enqueue_im(bot, "a", "a", "", "a")
    enqueue_im(bot, "b", "b", "", "b")
    db.session.commit()
    assert deliver_pending() == {"sent": 0, "failed": 0, "deferred": 2}
    waiting = list(db.session.scalars(select(OutboxMessage)))
    assert all(m.status == OutboxStatus.PENDING and m.attempts == 0 for m in waiting)
    assert all(m.next_attempt_at == utcnow() + timedelta(minutes=10) for m in waiting)
    clock(2026, 6, 15, 9, 41)
    assert deliver_pending()["sent"] == 2


# --- once, however many deliverers ------------------------------------------------------------

def test_concurrent_deliverers_send_every_message_exactly_once(app, robots, make_bot, admin, dept, clock, smtp_server):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "c", "SECc"), "SECc")
    for n in range(30):
        enqueue_email(f"user{n}@example.com", f"邮件{n}", "正文", dedupe_key=f"mail{n}")
    for n in range(25):
        enqueue_im(bot, f"群消息{n}", "正文", "", f"im{n}")
    db.session.commit()
    errors = []

    def deliver():
        with app.app_context():
            try:
                deliver_pending()
            except Exception as exc:  # collected and asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    received = smtp_server.wait_for(30)
    assert sorted(m["msg"]["Subject"] for m in received) == sorted(f"邮件{n}" for n in range(30))
    titles = [body["markdown"]["title"] for _, body in robots.robot("dingtalk", "c").accepted]
    assert len(titles) == 20 and len(set(titles)) == 20
    clock(2026, 6, 15, 9, 31, 10)
    deliver_pending()
    titles = [body["markdown"]["title"] for _, body in robots.robot("dingtalk", "c").accepted]
    assert sorted(titles) == sorted(f"群消息{n}" for n in range(25))
    assert len(smtp_server.messages) == 30


def test_enqueue_with_the_same_key_twice_queues_one_message(app):
    assert enqueue_email("a@example.com", "主题", "正文", dedupe_key="same") is not None
    assert enqueue_email("a@example.com", "主题", "正文", dedupe_key="same") is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_bulk_enqueue_skips_keys_already_queued_and_delivers_the_rest_once(app, robots, make_bot, admin, dept, clock,
                                                                           smtp_server):
    """The reminder run's path: thousands of rows in one go, a key already queued (another host's run) skipped,
    a subject typed on two lines folded, and each message delivered once like any other."""
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "wecom", robots.add("wecom", "k"))
    enqueue_email("first@example.com", "已在队列", "正文", dedupe_key="bulk:0")
    rows = [dict(channel="email", recipient=f"u{n}@example.com", subject=f"提醒{n}\n第二行", body_text="正文",
                 dedupe_key=f"bulk:{n}", _log={"mine": n}) for n in range(1200)]
    rows.append(dict(rows[5]))  # the same key twice in one call
    rows.append(dict(channel="wecom", recipient=bot.label, bot_id=bot.id, subject="群提醒", body_text="群正文",
                     link="http://minutes.test/actions/1", dedupe_key="bulk:bot"))
    ids = enqueue_bulk(rows, utcnow())
    assert len(ids) == 1200 and "bulk:0" not in ids and "bulk:bot" in ids
    assert enqueue_bulk(rows[:3], utcnow()) == {}
    db.session.commit()
    queued = {m.dedupe_key: m for m in db.session.scalars(select(OutboxMessage))}
    assert len(queued) == 1201 and queued["bulk:0"].subject == "已在队列"
    assert queued["bulk:7"].id == ids["bulk:7"] and queued["bulk:7"].subject == "提醒7 第二行"
    assert queued["bulk:7"].status == OutboxStatus.PENDING and queued["bulk:7"].attempts == 0
    assert queued["bulk:bot"].bot_id == bot.id and queued["bulk:bot"].confidential is False
    for _ in range(20):
        if not deliver_pending()["sent"]:
            break
    assert len(smtp_server.wait_for(1200)) == 1200
    assert robots.texts("wecom", "k") == ["**群提醒**\n群正文\n\n[查看详情](http://minutes.test/actions/1)"]
    assert statuses() == {OutboxStatus.SENT: 1201}


# --- outages ---------------------------------------------------------------------------------

def test_channels_down_then_up_deliver_everything_once(app, robots, make_bot, admin, dept, clock, smtp_server,
                                                       smtp_down):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "wecom", robots.add("wecom", "k"))
    for n in range(5):
        enqueue_email(f"u{n}@example.com", f"邮件{n}", "正文", dedupe_key=f"m{n}")
        enqueue_im(bot, f"群{n}", "正文", "", f"i{n}")
    db.session.commit()
    robots.stop()
    try:
        counts = deliver_pending()
        # one attempt per channel finds it down; the others wait without spending attempts
        assert counts == {"sent": 0, "failed": 2, "deferred": 8}
        assert sum(m.attempts for m in db.session.scalars(select(OutboxMessage))) == 2
        clock(2026, 6, 15, 9, 30, 40)
        assert deliver_pending() == {"sent": 0, "failed": 2, "deferred": 8}
    finally:
        robots.start()
        smtp_down.up()
    clock(2026, 6, 15, 9, 33)
    assert deliver_pending() == {"sent": 10, "failed": 0, "deferred": 0}
    assert sorted(m["msg"]["Subject"] for m in smtp_server.wait_for(5)) == [f"邮件{n}" for n in range(5)]
    assert robots.texts("wecom", "k") == [f"**群{n}**\n正文" for n in range(5)]
    assert deliver_pending() == {"sent": 0, "failed": 0, "deferred": 0}


def test_a_message_that_keeps_failing_is_given_up_and_shown_as_failed(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    robots.fail_with_500 = True
    bot = make_bot(admin, dept.id, "feishu", robots.add("feishu", "h"))
    msg = enqueue_im(bot, "标题", "正文", "", "k")
    db.session.commit()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_pending()["failed"] == 1
        msg = db.session.get(OutboxMessage, msg.id)
        assert msg.attempts == attempt and "HTTP 500" in msg.last_error
        timefmt.freeze(msg.next_attempt_at)
    assert msg.status == OutboxStatus.DEAD
    assert deliver_pending()["failed"] == 0


def test_a_message_that_cannot_be_sent_does_not_hold_up_the_others(app, smtp_server, clock):
    clock(2026, 6, 15, 9, 30)
    enqueue_email("ok1@example.com", "一", "正文", dedupe_key="1")
    enqueue_email("x@example.com\nBcc: everyone@example.com", "二", "正文", dedupe_key="2")  # header injection
    enqueue_email("ok2@example.com", "三", "正文", dedupe_key="3")
    db.session.commit()
    counts = deliver_pending()
    assert counts["sent"] == 2 and counts["failed"] == 1
    assert sorted(m["to"][0] for m in smtp_server.wait_for(2)) == ["ok1@example.com", "ok2@example.com"]


# --- robots switched off or removed ---------------------------------------------------------

def test_disabled_robot_keeps_its_messages_queued_until_enabled(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "d"))
    enqueue_im(bot, "标题", "正文", "", "k")
    bot.enabled = False
    db.session.commit()
    assert deliver_pending()["sent"] == 0
    assert statuses() == {OutboxStatus.PENDING: 1}
    bot.enabled = True
    db.session.commit()
    assert deliver_pending()["sent"] == 1


def test_messages_of_a_deleted_robot_are_marked_failed(app, robots, make_bot, admin, dept, clock):
    clock(2026, 6, 15, 9, 30)
    bot = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "d"))
    enqueue_im(bot, "标题", "正文", "", "k")
    db.session.commit()
    delete_bot(admin, bot)
    db.session.commit()
    assert deliver_pending()["failed"] == 1
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == OutboxStatus.DEAD and msg.last_error == "接收消息的群机器人已被删除"


def test_feishu_robot_never_gets_more_than_five_in_a_second_and_others_do_not_wait_for_it(app, robots, make_bot, admin, dept,
                                                                                 clock):
    import time

    clock(2026, 6, 15, 9, 30)
    feishu = make_bot(admin, dept.id, "feishu", robots.add("feishu", "fs", "s"), "s", name="飞书群")
    ding = make_bot(admin, dept.id, "dingtalk", robots.add("dingtalk", "dd"), name="钉钉群")
    for n in range(25):
        enqueue_im(feishu, f"飞书{n}", "正文", "", f"f{n}")
        enqueue_im(ding, f"钉钉{n}", "正文", "", f"d{n}")
    db.session.commit()
    started = time.monotonic()
    counts = deliver_pending()
    elapsed = time.monotonic() - started
    assert counts == {"sent": 30, "failed": 0, "deferred": 0}  # 10 to 飞书 in one run, 20 to 钉钉
    assert elapsed < 4
    fs = robots.robot("feishu", "fs")
    assert fs.refused == [] and len(fs.accepted) == 10
    assert max(sum(1 for t in fs.wall if 0 <= t - s < 1.0) for s in fs.wall) <= 5
    assert len(robots.robot("dingtalk", "dd").accepted) == 20
    assert deliver_pending()["sent"] == 0  # the same minute: both robots' budgets are spent
    clock(2026, 6, 15, 9, 31, 10)
    assert deliver_pending()["sent"] == 15  # 10 more to 飞书, the last 5 to 钉钉


def test_email_over_a_pipelining_server_arrives_intact_and_a_refused_recipient_does_not_stop_the_rest(app, clock):
    from email import message_from_bytes
    from email.policy import default

    from tests.notify.mta import PipeliningMta

    mta = PipeliningMta(refuse={"gone@example.com"})
    app.config["SMTP_PORT"] = mta.port
    try:
        clock(2026, 6, 15, 9, 30)
        enqueue_email("a@example.com", "【待办提醒】整理投诉分级标准", "第一行\n.以点开头的一行\n最后", "<p>HTML</p>", dedupe_key="1")
        enqueue_email("gone@example.com", "【待办提醒】", "正文", dedupe_key="2")
        enqueue_email("b@example.com", "【需协调】王伟的待办已逾期4个工作日", "正文", dedupe_key="3")
        db.session.commit()
        assert deliver_pending() == {"sent": 2, "failed": 1, "deferred": 0}
        received = mta.messages
        assert [rcpts for _, rcpts, _ in received] == [["a@example.com"], ["b@example.com"]]
        first = message_from_bytes(received[0][2], policy=default)
        assert first["Subject"] == "【待办提醒】整理投诉分级标准" and first["From"] == "会议纪要系统 <minutes@localhost>"
        assert first.get_body(("plain",)).get_content() == "第一行\n.以点开头的一行\n最后"
        assert first.get_body(("html",)).get_content() == "<p>HTML</p>"
        refused = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "2"))
        assert "SMTPRecipientsRefused" in refused.last_error and "550" in refused.last_error
    finally:
        mta.stop()
