"""Vague wording in decisions and actions, and Chinese deadline phrases turned into dates."""
import ast
import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from minutes.core import clarity, workdays
from minutes.core.clarity import (
    CATEGORY_LABELS,
    Clarity,
    Finding,
    check_item,
    describe_deadline,
    example_deadline,
    find_deadline,
    find_deadlines,
    find_vague,
    parse_deadline,
)
from minutes.core.workdays import WorkCalendar

FRI = date(2026, 5, 29)  # a Friday; the lead's example day



def _terms(text: str) -> list[str]:
    return [f.term for f in find_vague(text)]


# --------------------------------------------------------------------------------------
# Vague wording: flagged
# --------------------------------------------------------------------------------------

FLAGGED = [
    # (text as a recorder types it, the first term flagged, its category)
    ("技术部尽快协调服务器资源", "尽快", "time"),
    ("请各部门尽早提交预算申请", "尽早", "time"),
    ("客服部抓紧整理投诉清单", "抓紧", "time"),
    ("近期召开二次沟通会议", "近期", "time"),
    ("市场部适时启动推广活动", "适时", "time"),
    ("新版投诉系统择机上线", "择机", "time"),
    ("后续由产品部跟进", "后续", "time"),
    ("在后续版本中修复该问题", "后续", "time"),
    ("投诉升级流程的责任划分待定", "待定", "pending"),
    ("预算分配方案下次会议再议", "再议", "pending"),
    ("原则上不再接受新需求", "原则上", "commitment"),
    ("原则同意该预算方案", "原则同意", "commitment"),
    ("争取6月底前完成系统切换", "争取", "commitment"),
    ("力争本季度末完成数据迁移", "力争", "commitment"),
    ("视情况增加技术支持人力", "视情况", "commitment"),
    ("看情况决定是否加派人手", "看情况", "commitment"),
    ("法务部酌情出具法律意见", "酌情", "commitment"),
    ("尽量在本周内给出方案", "尽量", "commitment"),
    ("尽可能减少重复沟通", "尽可能", "commitment"),
    ("适当增加客服排班", "适当", "commitment"),
    ("大概需要两周完成联调", "大概", "approx"),
    ("月底左右提交需求文档", "左右", "approx"),
    ("预算控制在50万左右", "左右", "approx"),
    ("早日实现投诉处理全流程线上化", "早日", "time"),
    ("收到投诉后及时反馈技术部", "及时", "time"),
    ("随后发布正式通知", "随后", "time"),
    ("培训时间另行通知", "另行通知", "pending"),
    ("稍后补充会议材料", "稍后", "time"),
    ("张经理有空时过一下方案", "有空", "time"),
    ("下一步再研究激励方案", "下一步", "time"),
    ("逐步推进流程线上化", "逐步", "time"),
    ("先观察一段时间再定", "一段时间", "time"),
    ("新制度不久将正式发布", "不久", "time"),
    ("运维部马上处理告警", "马上", "time"),
    ("这几天安排一次评审", "这几天", "time"),
    ("数日内给出结论", "数日", "time"),
    ("在合适的时机推广到全公司", "合适的时机", "time"),
    ("该议题留待日后讨论", "留待日后", "time"),
    ("回头再商量具体分工", "回头", "time"),
    ("Fix the login bug ASAP", "ASAP", "time"),
    ("请 asap 回复确认", "asap", "time"),
    ("请ＡＳＡＰ确认参会名单", "ＡＳＡＰ", "time"),
    ("We will release the template soon", "soon", "time"),
    ("Please reply as soon as possible", "as soon as possible", "time"),
    ("上线时间：TBD", "TBD", "pending"),
    ("负责人（TBC）", "TBC", "pending"),
    ("由相关部门配合完成", "相关部门", "owner"),
    ("有关人员会后补充材料", "有关人员", "owner"),
    ("3-5个工作日内给出答复", "3-5个工作日", "approx"),
    ("两三天内完成初稿", "两三天", "approx"),
    ("十几天后再看效果", "十几天", "approx"),
    ("6月中旬前完成验收", "中旬", "approx"),
    ("下月初上线新模板", "月初", "approx"),
]


@pytest.mark.parametrize(("text", "term", "category"), FLAGGED, ids=[t for t, _, _ in FLAGGED])
def test_vague_term_is_flagged_with_category_and_fix(text, term, category):
    findings = find_vague(text)
    assert findings, f"nothing flagged in {text!r}"
    first = findings[0]
    assert (first.term, first.category) == (term, category)
    assert text[first.start:first.end] == first.term
    assert first.suggestion and first.category in CATEGORY_LABELS


# --------------------------------------------------------------------------------------
# Vague wording: clean
# --------------------------------------------------------------------------------------

CLEAN = [
    "产品部张经理负责3个工作日内完成模板上线",
    "2026年6月30日前完成模板上线",
    "客服部在收到投诉后1小时内补充问题描述",
    "技术部在收到完整信息后24小时内反馈解决方案",
    "确定客户投诉处理总时效不超过72小时",
    "客服部配合收集客户反馈，技术部提供模板技术支持",
    "投诉响应及时率提升至95%",  # a metric
    "考核指标增加回复及时性",  # a metric
    "季度考核关注及时交付率",  # a metric
    "技术部反馈不及时导致重复沟通",  # describes a failure
    "明年大概率需要扩容",  # a probability
    "会议室左右两侧各放一台显示器",
    "前后左右的座位都已安排",
    "修复计划纳入后续版本号V2.1",  # the version is the commitment
    "完成后进入下一步骤：法务审核",
    "导入表格中有空格的行需删除",
    "没有空余会议室时改为线上会议",
    "加强投资者适当性管理",  # a compliance term
    "不久前发生的投诉已处理完毕",  # narrative
    "如3个工作日后仍未解决，升级至主持人",  # 工作日后 is not 日后
    "提早日期需经主持人同意",
    "前几天的投诉已全部回访",
    "TBDX接口由技术部王工负责，6月5日前完成",  # not the word TBD
    "Soonest slot: 2026-06-30",  # not the word soon
    "市场部李经理于下周三前提交活动方案",
    "财务部6月15日前完成预算审批",
    "法务部王律师出具合同审核意见，截止日期2026年7月10日",
    "人力资源部在本周五下班前确认招聘需求",
    "研发中心在第二季度末之前完成性能测试",
    "每周一上午10点召开例会",
]


@pytest.mark.parametrize("text", CLEAN)
def test_concrete_wording_is_not_flagged(text):
    assert find_vague(text) == []


# --------------------------------------------------------------------------------------
# Vague wording: shape of the answer
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "suggestion"),
    [
        ("尽快", '改为具体时限，如"3个工作日内"'),
        ("待定", "写明由谁在何日前确定"),
        ("再议", "写明由谁在何日前确定"),
        ("原则上", '删去"原则上"，写明例外条件'),
        ("争取", "写明承诺完成的日期"),
    ],
)
def test_suggestion_is_the_concrete_chinese_fix(term, suggestion):
    (finding,) = find_vague(f"该事项{term}")
    assert finding.suggestion == suggestion


def test_example_dates_in_fixes_count_from_today_and_are_never_past():
    (finding,) = find_vague("尽快完成", date(2026, 12, 4))
    assert finding.suggestion == '改为具体时限，如"3个工作日内"或"2026年12月31日前"'
    (finding,) = find_vague("尽快完成", date(2026, 12, 24))  # the month ends within 10 days: the next one
    assert "2027年1月31日前" in finding.suggestion
    (finding,) = find_vague("尽快完成")  # no today: no example date at all
    assert finding.suggestion == '改为具体时限，如"3个工作日内"'
    assert example_deadline(date(2026, 2, 10)) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "period"),
    [("下周", True), ("本月", True), ("月底", True), ("下个月", True), ("本周内", True), ("6月底", True),
     ("年底", True), ("下季度", True), ("下半年", True), ("本周末前", True),
     ("下周五", False), ("3个工作日内", False), ("12月20日", False), ("明天", False), ("下月5日", False),
     ("2个月内", False)],
)
def test_a_week_or_a_month_without_a_day_is_a_period(text, period):
    assert find_deadline(text, date(2026, 12, 4)).period is period


def test_range_of_time_fix_names_its_upper_bound():
    (finding,) = find_vague("预计2~4周完成")
    assert finding.term == "2~4周"
    assert '"4周内"' in finding.suggestion


def test_findings_are_sorted_by_start_and_do_not_overlap():
    text = "原则上由相关部门尽快处理，择日再议，TBD"
    findings = find_vague(text)
    assert [f.term for f in findings] == ["原则上", "相关部门", "尽快", "择日", "再议", "TBD"]
    for before, after in zip(findings, findings[1:]):
        assert before.end <= after.start


@pytest.mark.parametrize(
    ("text", "term"),
    [("适当的时候再推广", "适当的时候"), ("十几天后", "十几天"), ("过几天再说", "过几天")],
)
def test_longest_overlapping_term_wins(text, term):
    assert _terms(text)[0] == term
    assert len(find_vague(text)) == 1


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("TBD", True),
        ("（TBD）", True),
        ("待确认TBD", True),
        ("tbd", True),
        ("TBDX", False),
        ("xTBD", False),
        ("TBD2", False),
        ("asap2", False),
        ("soonest", False),
        ("Soon.", True),
    ],
)
def test_latin_terms_are_case_insensitive_whole_words(text, flagged):
    assert bool(find_vague(text)) is flagged


def test_finding_is_a_frozen_dataclass():
    (finding,) = find_vague("尽快")
    assert dataclasses.fields(Finding)[0].name == "term"
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.term = "x"  # type: ignore[misc]
    assert finding == Finding("尽快", 0, 2, '改为具体时限，如"3个工作日内"', "time")
    assert finding.label == CATEGORY_LABELS["time"]


def test_empty_text_has_no_findings():
    assert find_vague("") == []


# --------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------

DEADLINES = [
    # (phrase, expected date) with today = Friday 2026-05-29
    ("产品部张经理负责3个工作日内完成模板上线", date(2026, 6, 3)),
    ("三个工作日内", date(2026, 6, 3)),
    ("3个工作日", date(2026, 6, 3)),
    ("二十个工作日", date(2026, 6, 29)),  # 6-19 端午 is off
    ("2026年6月30日前完成模板上线", date(2026, 6, 30)),
    ("2026年6月30号", date(2026, 6, 30)),
    ("6月30日", date(2026, 6, 30)),
    ("六月三十日前", date(2026, 6, 30)),
    ("二〇二六年七月一日", date(2026, 7, 1)),
    ("2026-06-30", date(2026, 6, 30)),
    ("2026/6/30", date(2026, 6, 30)),
    ("2026.06.30", date(2026, 6, 30)),
    ("6/30前", date(2026, 6, 30)),
    ("06-30前", date(2026, 6, 30)),
    ("２０２６年６月３０日", date(2026, 6, 30)),
    ("两周内", date(2026, 6, 12)),
    ("2个星期内", date(2026, 6, 12)),
    ("十天内", date(2026, 6, 8)),
    ("10日内", date(2026, 6, 8)),
    ("十五天内", date(2026, 6, 13)),
    ("一个月内", date(2026, 6, 29)),
    ("半个月内", date(2026, 6, 13)),
    ("24小时内", date(2026, 5, 30)),
    ("3天后", date(2026, 6, 1)),
    ("下周三", date(2026, 6, 3)),
    ("下下周一", date(2026, 6, 8)),
    ("下个星期五", date(2026, 6, 5)),
    ("下礼拜二", date(2026, 6, 2)),
    ("周五", date(2026, 5, 29)),  # today counts
    ("周四", date(2026, 6, 4)),  # passed this week: next week's
    ("星期天", date(2026, 5, 31)),
    ("礼拜一", date(2026, 6, 1)),
    ("本周三", date(2026, 5, 27)),  # said explicitly: this week's, even if past
    ("本周内", date(2026, 5, 29)),
    ("本周末前", date(2026, 5, 29)),
    ("本周末", date(2026, 5, 31)),
    ("下周内", date(2026, 6, 5)),
    ("下周末前", date(2026, 6, 5)),
    ("月底前", date(2026, 5, 31)),
    ("本月底", date(2026, 5, 31)),
    ("月末", date(2026, 5, 31)),
    ("下月底", date(2026, 6, 30)),
    ("下个月底", date(2026, 6, 30)),
    ("下月10日", date(2026, 6, 10)),
    ("下个月15号", date(2026, 6, 15)),
    ("本月30号", date(2026, 5, 30)),
    ("30号前", date(2026, 5, 30)),
    ("15号前", date(2026, 6, 15)),  # the 15th of May has passed
    ("明天", date(2026, 5, 30)),
    ("明日", date(2026, 5, 30)),
    ("后天", date(2026, 5, 31)),
    ("大后天", date(2026, 6, 1)),
    ("今天", date(2026, 5, 29)),
    ("今日", date(2026, 5, 29)),
    ("当天", date(2026, 5, 29)),
    ("季度末", date(2026, 6, 30)),
    ("本季度末", date(2026, 6, 30)),
    ("下季度末", date(2026, 9, 30)),
    ("Q3末", date(2026, 9, 30)),
    ("Q3", date(2026, 9, 30)),
    ("第三季度末", date(2026, 9, 30)),
    ("一季度末", date(2027, 3, 31)),  # passed this year
    ("Q1末", date(2027, 3, 31)),
    ("2026年Q1", date(2026, 3, 31)),  # the year is named
    ("年底", date(2026, 12, 31)),
    ("年末", date(2026, 12, 31)),
    ("本年底", date(2026, 12, 31)),
    ("今年年底", date(2026, 12, 31)),
    ("明年底", date(2027, 12, 31)),
    ("上半年", date(2026, 6, 30)),
    ("下半年", date(2026, 12, 31)),
    ("明年上半年", date(2027, 6, 30)),
    ("6月上旬", date(2026, 6, 10)),
    ("6月中旬", date(2026, 6, 20)),
    ("6月下旬", date(2026, 6, 30)),
    ("7月中", date(2026, 7, 15)),
    ("6月底", date(2026, 6, 30)),
    ("2月底", date(2027, 2, 28)),
    ("自6月1日起30天内", date(2026, 7, 1)),
    ("6月3日（周三）前", date(2026, 6, 3)),
    ("本周五下午5点前提交", date(2026, 5, 29)),
    ("6月30日18:00前", date(2026, 6, 30)),
    ("3-5个工作日内", date(2026, 6, 5)),  # the upper bound
    ("1至2周内", date(2026, 6, 12)),
]


@pytest.mark.parametrize(("text", "expected"), DEADLINES, ids=[t for t, _ in DEADLINES])
def test_deadline_phrase_becomes_a_date(text, expected):
    assert parse_deadline(text, FRI) == expected


NO_DEADLINE = [
    "",
    "尽快完成",
    "在3号会议室讨论",
    "会期3天",
    "学习1号文件精神",
    "两三天内完成初稿",  # approximate: flagged, not parsed
    "周报模板由行政部维护",
    "上周三已讨论",
    "完成1-2周的排期",
    "说明日期格式",
    "基本月薪调整",
    "季度协调会",
    "下月初上线",  # 月初 is not a date
    "2月30日前",  # no such day
    "提前2个工作日发送议程",  # counted back from the meeting
    "会议召开2个工作日前发送议程",
]


@pytest.mark.parametrize("text", NO_DEADLINE)
def test_text_without_a_deadline_gives_none(text):
    assert parse_deadline(text, FRI) is None


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2026, 12, 20), "1月5日", date(2027, 1, 5)),
        (date(2026, 12, 20), "1/5前", date(2027, 1, 5)),
        (date(2026, 12, 20), "12月25日", date(2026, 12, 25)),
        (date(2026, 12, 20), "12月1日", date(2027, 12, 1)),
        (date(2026, 12, 20), "12月20日", date(2026, 12, 20)),  # today itself counts
        (date(2026, 12, 20), "下月底", date(2027, 1, 31)),
        (date(2026, 12, 20), "下周一", date(2026, 12, 21)),  # a Sunday: weeks run Mon-Sun
        (date(2026, 12, 20), "15天内", date(2027, 1, 4)),
        (date(2026, 12, 20), "季度末", date(2026, 12, 31)),
        (date(2026, 12, 20), "下季度末", date(2027, 3, 31)),
        (date(2026, 12, 20), "一季度末", date(2027, 3, 31)),
        (date(2026, 12, 20), "5号前", date(2027, 1, 5)),
        (date(2026, 12, 20), "下半年", date(2026, 12, 31)),
        (date(2026, 12, 20), "上半年", date(2027, 6, 30)),
    ],
)
def test_date_without_a_year_rolls_over_to_the_next_occurrence(today, text, expected):
    assert parse_deadline(text, today) == expected


# --------------------------------------------------------------------------------------
# Working days: the PRC schedule with 调休
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # 国办发明电〔2024〕12号: 10-01..10-08 off, Sat 10-11 is a working day, so the third
        # working day after Tue 9-30 is 10-09 Thu, 10-10 Fri, 10-11 Sat (not Monday 10-13).
        (date(2025, 9, 30), "3个工作日内", date(2025, 10, 11)),
        (date(2025, 9, 30), "4个工作日内", date(2025, 10, 13)),
        # 国办发明电〔2025〕7号: 春节 2-15..2-23 off, Sat 2-14 worked.
        (date(2026, 2, 13), "3个工作日内", date(2026, 2, 25)),
        # 国庆 10-01..10-07 off, Sat 10-10 worked; 中秋 9-25 off.
        (date(2026, 9, 30), "2个工作日内", date(2026, 10, 9)),
        (date(2026, 9, 30), "三个工作日内", date(2026, 10, 10)),
        (date(2026, 9, 24), "1个工作日内", date(2026, 9, 28)),
        # This week's last working day: Wednesday before the National Day break ...
        (date(2026, 9, 28), "本周内", date(2026, 9, 30)),
        # ... and the 调休 Saturday in the week after it.
        (date(2026, 10, 8), "本周内", date(2026, 10, 10)),
        (date(2026, 10, 1), "下周内", date(2026, 10, 10)),
        (date(2026, 2, 9), "本周末前", date(2026, 2, 14)),
        # No working day left in the holiday week: its Sunday.
        (date(2026, 10, 2), "本周内", date(2026, 10, 4)),
    ],
)
def test_working_days_follow_the_published_holiday_schedule(today, text, expected):
    assert parse_deadline(text, today) == expected


@pytest.mark.parametrize(
    "today",
    [date(2025, 9, 26), date(2025, 9, 30), date(2026, 2, 10), date(2026, 2, 13),
     date(2026, 4, 30), date(2026, 6, 18), date(2026, 9, 24), date(2026, 9, 30)],
)
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 10])
def test_working_day_phrase_matches_the_calendar_module(today, n):
    expected = workdays.add_workdays(today, n)
    assert parse_deadline(f"{n}个工作日内", today) == expected
    assert parse_deadline(f"会后{n}个工作日内完成", today) == expected


def test_lead_example_three_working_days_from_friday():
    assert describe_deadline(parse_deadline("3个工作日内", FRI)) == "2026年6月3日（周三）"


@pytest.mark.parametrize(
    "calendar",
    [WorkCalendar({date(2026, 6, 1): False}), {date(2026, 6, 1): False}],
    ids=["WorkCalendar", "mapping"],
)
def test_calendar_overrides_are_honoured(calendar):
    # The company closes on Monday 6-1: the third working day moves from 6-3 to 6-4.
    assert parse_deadline("3个工作日内", FRI, calendar=calendar) == date(2026, 6, 4)
    assert parse_deadline("3个工作日内", FRI) == date(2026, 6, 3)


def test_calendar_override_working_saturday_counts():
    cal = WorkCalendar({date(2026, 5, 30): True})
    assert parse_deadline("3个工作日内", FRI, calendar=cal) == date(2026, 6, 2)


def test_this_week_uses_the_calendar_passed():
    wed = date(2026, 5, 27)
    assert parse_deadline("本周内", wed) == FRI
    cal = WorkCalendar({FRI: False})
    assert parse_deadline("本周内", wed, calendar=cal) == date(2026, 5, 28)


def test_any_object_with_the_calendar_methods_is_accepted():
    class EveryDayWorks:
        def is_workday(self, d):
            return True

        def add_workdays(self, d, n):
            return d + timedelta(days=n)

    assert parse_deadline("3个工作日内", FRI, calendar=EveryDayWorks()) == date(2026, 6, 1)
    assert parse_deadline("本周内", FRI, calendar=EveryDayWorks()) == date(2026, 5, 31)


def test_calendar_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError):
        parse_deadline("3个工作日内", FRI, calendar=42)


# --------------------------------------------------------------------------------------
# Which phrase is the deadline
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6月1日会议决定，6月30日前完成", date(2026, 6, 30)),
        ("5月20日的会议上提出，两周内反馈", date(2026, 6, 12)),
        ("截止日期：7月10日，6月1日启动", date(2026, 7, 10)),
        ("明天讨论初稿，下周五之前定稿", date(2026, 6, 5)),
        ("6月1日讨论，6月30日上线", date(2026, 6, 30)),
        ("明天讨论，下周五评审", date(2026, 5, 30)),  # no cue: the first phrase
        ("最迟6月15日，6月1日开工", date(2026, 6, 15)),
    ],
)
def test_the_cued_phrase_is_the_deadline_else_the_first(text, expected):
    assert parse_deadline(text, FRI) == expected


def test_find_deadlines_lists_every_phrase_in_reading_order():
    matches = find_deadlines("6月1日启动，6月30日前完成", FRI)
    assert [(m.phrase, m.due, m.cued) for m in matches] == [
        ("6月1日", date(2026, 6, 1), False),
        ("6月30日", date(2026, 6, 30), True),
    ]
    assert find_deadline("6月1日启动，6月30日前完成", FRI) == matches[1]


def test_deadline_offsets_point_into_the_original_text():
    text = "请于２０２６年６月３０日前完成"
    match = find_deadline(text, FRI)
    assert text[match.start:match.end] == match.phrase == "２０２６年６月３０日"


# --------------------------------------------------------------------------------------
# describe_deadline and check_item
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2026, 6, 3), "2026年6月3日（周三）"),
        (date(2026, 5, 31), "2026年5月31日（周日）"),
        (date(2027, 1, 4), "2027年1月4日（周一）"),
    ],
)
def test_describe_deadline_prints_date_and_weekday(d, text):
    assert describe_deadline(d) == text


def test_check_item_reports_vague_wording_without_a_date():
    result = check_item("产品部张经理负责尽快完成模板上线", FRI)
    assert isinstance(result, Clarity)
    assert [f.term for f in result.findings] == ["尽快"]
    assert result.is_vague
    assert result.parsed_due is None
    assert result.due_label == ""


def test_check_item_parses_a_clear_item():
    result = check_item("产品部张经理负责3个工作日内完成模板上线", FRI)
    assert result.findings == []
    assert not result.is_vague
    assert result.parsed_due == date(2026, 6, 3)
    assert result.deadline.phrase == "3个工作日内"
    assert result.due_label == "2026年6月3日（周三）"


def test_check_item_passes_the_calendar_through():
    cal = WorkCalendar({date(2026, 6, 1): False})
    assert check_item("3个工作日内完成", FRI, calendar=cal).parsed_due == date(2026, 6, 4)


def test_highlighted_segments_split_text_around_findings():
    result = check_item("请尽快完成，待定", FRI)
    segments = result.highlighted_segments()
    assert [(s, f.term if f else None) for s, f in segments] == [
        ("请", None),
        ("尽快", "尽快"),
        ("完成，", None),
        ("待定", "待定"),
    ]


def test_highlighted_segments_of_clean_and_empty_text():
    assert check_item("6月30日前完成", FRI).highlighted_segments() == [("6月30日前完成", None)]
    assert check_item("", FRI).highlighted_segments() == []


@pytest.mark.parametrize(("text", "_term", "_category"), FLAGGED, ids=[t for t, _, _ in FLAGGED])
def test_highlighted_segments_rebuild_the_text_exactly(text, _term, _category):
    segments = check_item(text, FRI).highlighted_segments()
    assert "".join(s for s, _ in segments) == text
    assert [f for _, f in segments if f] == find_vague(text, FRI)


def test_module_stays_pure():
    tree = ast.parse(Path(clarity.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "sqlalchemy", "flask_sqlalchemy", "jinja2", "markupsafe"}
