"""Reminders, status requests and escalation, walked day by day across weekends, holidays and 调休."""
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from minutes.actions import reminders
from minutes.actions.models import ActionStatus, ReminderLog
from minutes.actions.reminders import Rules, schedule, stage_on
from minutes.actions.service import update_status
from minutes.calendar.service import work_calendar
from minutes.core import timefmt
from minutes.extensions import db
from minutes.jobs import tick
from minutes.notify.models import OutboxMessage
from tests.actions.conftest import d

ROOT = Path(__file__).resolve().parents[2]
TITLE = "整理投诉分级标准并发给各部门确认"
SHORT = TITLE  # under 30 characters: subjects carry it whole


def walk(clock, watch, start: date, end: date, hour=9, minute=30, extra_ticks=((15, 0),)):
    """Tick once a day at 09:30 (and again later the same day) from start to end; what went out, per day."""
    sent = {}
    day = start
    while day <= end:
        clock(day.year, day.month, day.day, hour, minute)
        tick()
        for h, m in extra_ticks:  # a second run the same day must add nothing
            clock(day.year, day.month, day.day, h, m)
            tick()
        new = watch.new()
        if new:
            sent[day] = new
        day += timedelta(days=1)
    return sent


# --- the schedule itself -------------------------------------------------------------------------

@pytest.mark.parametrize("due, expected", [
    # 端午节 06-19..21 off: two working days before Monday 06-22 are Wed 06-17 and Thu 06-18
    (d(2026, 6, 22), [("before", d(2026, 6, 17)), ("due", d(2026, 6, 22)), ("overdue_1", d(2026, 6, 23)),
                      ("overdue_2", d(2026, 6, 24)), ("overdue_3", d(2026, 6, 25)), ("escalate", d(2026, 6, 26))]),
    # 国庆 10-01..07 off, Sat 10-10 a working day
    (d(2026, 10, 8), [("before", d(2026, 9, 29)), ("due", d(2026, 10, 8)), ("overdue_1", d(2026, 10, 9)),
                      ("overdue_2", d(2026, 10, 10)), ("overdue_3", d(2026, 10, 12)), ("escalate", d(2026, 10, 13))]),
    # 春节 02-15..23 off, Sat 02-14 and Sat 02-28 working: a deadline inside the holiday
    (d(2026, 2, 18), [("before", d(2026, 2, 13)), ("due", d(2026, 2, 14)), ("overdue_1", d(2026, 2, 24)),
                      ("overdue_2", d(2026, 2, 25)), ("overdue_3", d(2026, 2, 26)), ("escalate", d(2026, 2, 27))]),
    (d(2026, 2, 24), [("before", d(2026, 2, 13)), ("due", d(2026, 2, 24)), ("overdue_1", d(2026, 2, 25)),
                      ("overdue_2", d(2026, 2, 26)), ("overdue_3", d(2026, 2, 27)), ("escalate", d(2026, 2, 28))]),
    # an ordinary Monday: reminded the Thursday before, not on Saturday
    (d(2026, 6, 8), [("before", d(2026, 6, 4)), ("due", d(2026, 6, 8)), ("overdue_1", d(2026, 6, 9)),
                     ("overdue_2", d(2026, 6, 10)), ("overdue_3", d(2026, 6, 11)), ("escalate", d(2026, 6, 12))]),
])
def test_schedule_counts_working_days_across_holidays_and_adjusted_weekends(app, due, expected):
    assert schedule(due, Rules(), work_calendar()) == expected


def test_calendar_day_mode_moves_a_reminder_off_the_weekend_to_the_working_day_before(app):
    rules = Rules(before_in_workdays=False)
    assert schedule(d(2026, 6, 22), rules, work_calendar())[0] == ("before", d(2026, 6, 18))  # Sat 06-20 → Thu
    assert schedule(d(2026, 6, 10), rules, work_calendar())[0] == ("before", d(2026, 6, 8))


def test_each_stage_stands_until_the_next_and_the_last_request_only_for_its_day(app):
    cal = work_calendar()
    due = d(2026, 6, 22)
    assert stage_on(due, d(2026, 6, 16), Rules(), cal) is None
    assert stage_on(due, d(2026, 6, 18), Rules(), cal) == ("before", d(2026, 6, 17))
    assert stage_on(due, d(2026, 7, 30), Rules(), cal) == ("escalate", d(2026, 6, 26))
    no_escalation = Rules(escalate=False)
    assert stage_on(due, d(2026, 6, 25), no_escalation, cal) == ("overdue_3", d(2026, 6, 25))
    assert stage_on(due, d(2026, 6, 26), no_escalation, cal) is None


def test_the_days_stage_map_agrees_with_the_schedule_for_every_due_date_and_rule(app):
    import random

    from minutes.actions.reminders import stage_map

    cal = work_calendar()
    rng = random.Random(2026)
    checked = 0
    while checked < 120:
        rules = Rules(before_days=rng.randint(0, 6), before_in_workdays=rng.random() < .5, on_due=rng.random() < .7,
                      overdue_requests=rng.randint(0, 5), escalate=rng.random() < .7)
        today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 364))
        if not cal.is_workday(today):
            continue
        checked += 1
        smap = stage_map(today, rules, cal)
        for offset in range(-90, 90):
            due = today + timedelta(days=offset)
            expected = (stage_on(due, today, rules, cal) or (None,))[0]
            got = smap.older if due < smap.low else None if due > smap.high else smap.by_due.get(due, (None,))[0]
            assert got == expected, (rules, today, due)


# --- walking the clock -------------------------------------------------------------------------------

def test_national_day_walk_sends_each_reminder_once_to_the_right_people_through_the_right_channels(
        app, team, make_action, make_bot, robots, clock, outbox_watch):
    clock(2026, 9, 21, 16, 0)
    make_bot(team.admin, team.owner.department_id, "dingtalk", robots.add("dingtalk", "rd", "SECrd"), "SECrd",
             name="研发部工作群")
    make_bot(team.admin, team.host.department_id, "feishu", robots.add("feishu", "kf", "fs"), "fs", name="客服部群")
    action = make_action(team.meeting, team.owner, d(2026, 10, 8), TITLE)
    sent = walk(clock, outbox_watch, d(2026, 9, 22), d(2026, 10, 20))
    assert sent == {
        d(2026, 9, 29): [("dingtalk", "rd", f"【待办提醒】{SHORT}（2026年10月8日到期）"),
                         ("email", "wangwei", f"【待办提醒】{SHORT}（2026年10月8日到期）")],
        d(2026, 10, 8): [("dingtalk", "rd", f"【待办今日到期】{SHORT}"), ("email", "wangwei", f"【待办今日到期】{SHORT}")],
        d(2026, 10, 9): [("dingtalk", "rd", f"【待办已逾期·请更新进展】{SHORT}（已逾期1个工作日）"),
                         ("email", "wangwei", f"【待办已逾期·请更新进展】{SHORT}（已逾期1个工作日）")],
        d(2026, 10, 10): [("dingtalk", "rd", f"【待办已逾期·请更新进展】{SHORT}（已逾期2个工作日）"),  # 调休 Saturday
                          ("email", "wangwei", f"【待办已逾期·请更新进展】{SHORT}（已逾期2个工作日）")],
        d(2026, 10, 12): [("dingtalk", "rd", f"【待办已逾期·请更新进展】{SHORT}（已逾期3个工作日）"),
                          ("email", "wangwei", f"【待办已逾期·请更新进展】{SHORT}（已逾期3个工作日）")],
        d(2026, 10, 13): [("dingtalk", "rd", f"【需协调】王伟的待办已逾期4个工作日：{SHORT}"),
                          ("email", "liqiang", f"【需协调】王伟的待办已逾期4个工作日：{SHORT}"),
                          ("email", "zhaomin", f"【需协调】王伟的待办已逾期4个工作日：{SHORT}")],
    }
    assert robots.texts("feishu", "kf") == []  # the host's department group is not the owner's
    assert reminders.is_escalated(action)
    logged = db.session.scalars(select(ReminderLog.stage).where(ReminderLog.recipient == "*")
                                .order_by(ReminderLog.id)).all()
    assert logged == ["before", "due", "overdue_1", "overdue_2", "overdue_3", "escalate"]


def test_spring_festival_walk_with_a_deadline_inside_the_holiday_and_an_escalation_on_a_working_saturday(
        app, team, make_action, clock, outbox_watch):
    clock(2026, 2, 2, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 2, 18), TITLE)
    other = "上线工单自动分派功能"
    make_action(team.meeting, team.owner, d(2026, 2, 24), other)
    sent = walk(clock, outbox_watch, d(2026, 2, 9), d(2026, 3, 3))
    late = "【待办已逾期·请更新进展】{}（已逾期{}个工作日）"
    assert {day: sorted(kind for _, _, kind in msgs) for day, msgs in sent.items()} == {
        d(2026, 2, 13): sorted([f"【待办提醒】{SHORT}（2026年2月18日到期）", f"【待办提醒】{other}（2026年2月24日到期）"]),
        d(2026, 2, 14): [f"【待办今日到期】{SHORT}"],  # Saturday 02-14 works; the deadline falls in the holiday
        d(2026, 2, 24): sorted([late.format(SHORT, 1), f"【待办今日到期】{other}"]),
        d(2026, 2, 25): sorted([late.format(SHORT, 2), late.format(other, 1)]),
        d(2026, 2, 26): sorted([late.format(SHORT, 3), late.format(other, 2)]),
        d(2026, 2, 27): sorted([f"【需协调】王伟的待办已逾期4个工作日：{SHORT}"] * 2 + [late.format(other, 3)]),
        d(2026, 2, 28): [f"【需协调】王伟的待办已逾期4个工作日：{other}"] * 2,  # the working Saturday
    }


def test_dragon_boat_walk_escalates_on_the_working_day_after_three_requests(app, team, make_action, clock,
                                                                           outbox_watch, smtp_server):
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    sent = walk(clock, outbox_watch, d(2026, 6, 15), d(2026, 6, 30))
    assert sorted(sent) == [d(2026, 6, 17), d(2026, 6, 22), d(2026, 6, 23), d(2026, 6, 24), d(2026, 6, 25),
                            d(2026, 6, 26)]
    assert [r for _, r, _ in sent[d(2026, 6, 26)]] == ["liqiang", "zhaomin"]
    escalation = next(m["msg"] for m in smtp_server.messages if m["to"] == ["zhaomin@example.com"])
    text = escalation.get_body(("plain",)).get_content()
    assert "截止后3个工作日内仍未完成" in text and "http://minutes.test/actions/" in text
    assert "您是该会议的主持人" in text and "负责人尚未更新状态" in text


def test_nothing_goes_out_before_the_send_hour_or_on_a_day_off(app, team, make_action, clock, outbox_watch):
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    clock(2026, 6, 17, 8, 59)
    assert tick()["reminders"].skipped == "提醒在9点后发送"
    assert outbox_watch.new() == []
    clock(2026, 6, 17, 9, 0)
    tick()
    assert len(outbox_watch.new()) == 1
    clock(2026, 6, 20, 10, 0)
    assert tick()["reminders"].skipped == "今天不是工作日"


def test_a_server_down_for_a_week_sends_only_the_stage_in_force_not_a_pile_of_stale_ones(app, team, make_action, clock,
                                                                                      outbox_watch):
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    clock(2026, 6, 29, 9, 30)
    tick()
    assert [kind for _, _, kind in outbox_watch.new()] == [f"【需协调】王伟的待办已逾期5个工作日：{SHORT}"] * 2


def test_unconfirmed_done_and_deleted_actions_get_no_reminders(app, team, make_action, clock, outbox_watch):
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 17), "会末尚未确认的待办", confirmed=False)
    make_action(team.meeting, team.owner, d(2026, 6, 17), "已完成的待办", status=ActionStatus.DONE)
    gone = make_action(team.meeting, team.owner, d(2026, 6, 17), "已删除的待办")
    gone.deleted_at = timefmt.utcnow()
    db.session.commit()
    walk(clock, outbox_watch, d(2026, 6, 15), d(2026, 6, 26))
    assert outbox_watch.new() == [] and db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_stage_that_passed_before_the_action_existed_is_skipped(app, team, make_action, clock, outbox_watch):
    clock(2026, 6, 18, 11, 0)  # decided on Thursday, due Monday: the "2 working days before" day was yesterday
    action = make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    sent = walk(clock, outbox_watch, d(2026, 6, 18), d(2026, 6, 22))
    assert sorted(sent) == [d(2026, 6, 22)]
    skipped = db.session.scalar(select(ReminderLog).where(ReminderLog.action_id == action.id,
                                                          ReminderLog.stage == "before"))
    assert skipped.channel == "skipped"


# --- status reports change what follows --------------------------------------------------------------

def test_an_owner_who_reports_after_the_deadline_is_not_asked_again_but_still_escalated(app, team, make_action, clock,
                                                                                        outbox_watch):
    clock(2026, 6, 1, 16, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    walk(clock, outbox_watch, d(2026, 6, 22), d(2026, 6, 23))
    clock(2026, 6, 23, 11, 0)
    update_status(team.owner, action, "in_progress", "接口联调完成，还差测试报告，预计周五前完成")
    db.session.commit()
    sent = walk(clock, outbox_watch, d(2026, 6, 24), d(2026, 6, 30))
    assert sorted(sent) == [d(2026, 6, 26)]
    assert all("需协调" in kind for _, _, kind in sent[d(2026, 6, 26)])


def test_a_delay_moves_the_deadline_and_starts_a_fresh_schedule(app, team, make_action, clock, outbox_watch,
                                                                smtp_server):
    clock(2026, 6, 1, 16, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    walk(clock, outbox_watch, d(2026, 6, 22), d(2026, 6, 23))
    clock(2026, 6, 23, 11, 0)
    update_status(team.owner, action, "delayed", "等待法务确认条款，顺延一周", new_due="2026-06-30")
    db.session.commit()
    tick()
    assert outbox_watch.new() == [("email", "zhaomin", f"【待办延期】王伟申请将“{SHORT}”延期至2026年6月30日")]
    sent = walk(clock, outbox_watch, d(2026, 6, 24), d(2026, 7, 8))
    assert {day: [k for _, _, k in v] for day, v in sent.items()} == {
        d(2026, 6, 26): [f"【待办提醒】{SHORT}（2026年6月30日到期）"],
        d(2026, 6, 30): [f"【待办今日到期】{SHORT}"],
        d(2026, 7, 1): [f"【待办已逾期·请更新进展】{SHORT}（已逾期1个工作日）"],
        d(2026, 7, 2): [f"【待办已逾期·请更新进展】{SHORT}（已逾期2个工作日）"],
        d(2026, 7, 3): [f"【待办已逾期·请更新进展】{SHORT}（已逾期3个工作日）"],
        d(2026, 7, 6): [f"【需协调】王伟的待办已逾期4个工作日：{SHORT}"] * 2,
    }


def test_done_stops_every_further_reminder(app, team, make_action, clock, outbox_watch):
    clock(2026, 6, 1, 16, 0)
    action = make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    walk(clock, outbox_watch, d(2026, 6, 22), d(2026, 6, 22))
    update_status(team.owner, action, "done", "已发各部门确认")
    db.session.commit()
    assert walk(clock, outbox_watch, d(2026, 6, 23), d(2026, 7, 3)) == {}


# --- confidentiality ---------------------------------------------------------------------------------

def test_a_confidential_meeting_never_reaches_a_group_chat_or_an_uninvited_head(app, team, make_user, make_meeting,
                                                                               make_action, make_bot, robots, clock,
                                                                               outbox_watch):
    from minutes.meetings import service as meetings

    clock(2026, 6, 1, 16, 0)
    secret_meeting = make_meeting(team.host, starts=(2026, 6, 1, 10, 0), topic="组织架构调整", confidential=True)
    meetings.invite(team.host, secret_meeting, [team.owner.id], "participant")
    db.session.commit()
    make_bot(team.admin, team.owner.department_id, "wecom", robots.add("wecom", "k"))
    make_action(secret_meeting, team.owner, d(2026, 6, 22), "拟定岗位调整方案")
    sent = walk(clock, outbox_watch, d(2026, 6, 15), d(2026, 6, 26))
    assert all(channel == "email" for msgs in sent.values() for channel, _, _ in msgs)
    assert [r for _, r, _ in sent[d(2026, 6, 26)]] == ["zhaomin"]  # the head of 研发部 was not invited


def test_an_owner_outside_a_confidential_meeting_is_reminded_without_its_topic(app, team, make_meeting, make_action,
                                                                              clock, smtp_server):
    # an action assigned before owners had to be invited: the owner reads the action, never the meeting's topic
    clock(2026, 6, 1, 16, 0)
    secret_meeting = make_meeting(team.host, starts=(2026, 6, 1, 10, 0), topic="组织架构调整", confidential=True)
    make_action(secret_meeting, team.owner, d(2026, 6, 22), "拟定岗位调整方案")
    clock(2026, 6, 18, 9, 30)
    tick()
    mails = [m["msg"] for m in smtp_server.messages if m["to"][0].startswith(team.owner.username)]
    assert mails, "the owner is reminded of the action"
    for msg in mails:
        body = msg.get_body(preferencelist=("plain",)).get_content() + msg.get_body(preferencelist=("html",)).get_content()
        assert "组织架构调整" not in body and "组织架构调整" not in msg["Subject"]
        assert "拟定岗位调整方案" in body and "仅参会人可见的会议" in body


# --- once, however often and from however many places it runs ----------------------------------------

def test_two_ticks_at_once_send_nothing_twice(app, team, make_action, make_bot, robots, clock, outbox_watch):
    clock(2026, 6, 1, 16, 0)
    make_bot(team.admin, team.owner.department_id, "dingtalk", robots.add("dingtalk", "rd", "SECrd"), "SECrd")
    for n in range(12):
        make_action(team.meeting, team.owner, d(2026, 6, 22) - timedelta(days=n % 6), f"待办{n}")
    clock(2026, 6, 22, 9, 30)
    errors = []

    def run():
        with app.app_context():
            try:
                tick()
            except Exception as exc:  # collected and asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    tick()
    first = outbox_watch.new()
    assert len(first) == len(set(first)) and len(first) > 12
    keys = db.session.scalars(select(OutboxMessage.dedupe_key)).all()
    assert len(keys) == len(set(keys)) == len(first)
    tick()
    assert outbox_watch.new() == []


def test_two_processes_running_the_tick_at_once_send_nothing_twice(app, team, make_action, clock, outbox_watch,
                                                                   smtp_server):
    clock(2026, 6, 1, 16, 0)
    for n in range(20):
        make_action(team.meeting, team.owner, d(2026, 6, 22) - timedelta(days=n % 7), f"待办{n}")
    db.session.commit()
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from minutes import create_app\n"
        "from minutes.core import timefmt\n"
        "from minutes.jobs import tick\n"
        "app = create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': sys.argv[1], 'SMTP_HOST': '127.0.0.1',\n"
        "                  'SMTP_PORT': int(sys.argv[2]), 'BASE_URL': 'http://minutes.test',\n"
        "                  'OUTBOX_DELIVER_ON_COMMIT': False})\n"
        "timefmt.freeze(datetime(2026, 6, 22, 9, 30, tzinfo=timefmt.LOCAL_TZ))\n"
        "with app.app_context():\n"
        "    r = tick()\n"
        "    print(r['reminders'].messages, r['sent'])\n"
    )
    url = db.engine.url.render_as_string(hide_password=False)
    procs = [subprocess.Popen([sys.executable, "-c", script, url, str(smtp_server.port)], cwd=str(ROOT),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    queued = sum(int(out.split()[0]) for out, _ in outputs)
    sent = sum(int(out.split()[1]) for out, _ in outputs)
    mails = smtp_server.wait_for(queued)
    assert queued == sent == len(mails) > 0
    subjects = [m["msg"]["Subject"] for m in mails]
    assert len(subjects) == len(set(subjects))


def test_the_cli_tick_reports_what_it_did(app, team, make_action, clock, runner, smtp_server):
    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    clock(2026, 6, 22, 9, 30)
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code == 0, result.output
    assert "提醒：处理 1 项，新排队消息 1 条" in result.output and "已发送 1 条" in result.output
    result = runner.invoke(args=["minutes", "tick"])
    assert "提醒：处理 0 项，新排队消息 0 条" in result.output and "已发送 0 条" in result.output
    clock(2026, 6, 20, 9, 30)
    assert "提醒：跳过（今天不是工作日）" in runner.invoke(args=["minutes", "tick"]).output


def test_a_failure_computing_reminders_still_delivers_what_is_queued_and_the_cli_says_so(app, team, make_action,
                                                                                         clock, runner, smtp_server,
                                                                                         monkeypatch):
    from minutes.notify.service import enqueue_email

    clock(2026, 6, 1, 16, 0)
    make_action(team.meeting, team.owner, d(2026, 6, 22), TITLE)
    enqueue_email("x@example.com", "已排队的议程", "正文", dedupe_key="queued")
    db.session.commit()
    clock(2026, 6, 22, 9, 30)

    def broken(*args, **kwargs):
        raise RuntimeError("模板出错")

    monkeypatch.setattr(reminders, "_run_locked", broken)
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code == 1 and "计算提醒时出错" in result.output and "模板出错" in result.output
    assert "已发送 1 条" in result.output
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) == 0
    monkeypatch.undo()
    assert runner.invoke(args=["minutes", "tick"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) == 2
