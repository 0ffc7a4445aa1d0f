"""The archive pages: by topic and by date (主题-日期), topic pages, search as you type."""
import re

from minutes.archive import search as archive_search
from minutes.archive import service
from minutes.extensions import db
from minutes.meetings import service as planning


def html_of(response):
    return response.get_data(as_text=True)


def test_archive_lists_meetings_as_topic_date_with_status_departments_and_counts(client, login_as, people, record,
                                                                                   clock):
    host = people["host"]
    record(host, topic="解决客户投诉处理流程卡点", starts=(2026, 6, 12, 10, 0), invite=[people["legal"]],
           decisions=["确定客户投诉处理总时效不超过72小时"], actions=["产品部优化投诉提报模板", "法务部审核赔付条款"],
           finish=True)
    clock(2026, 6, 14, 9, 0)  # more than 24 hours after the end: the minutes are overdue
    login_as(people["outsider"])
    page = html_of(client.get("/archive"))
    assert "解决客户投诉处理流程卡点-2026-06-12" in page
    assert "纪要逾期" in page
    assert "客服部" in page and "法务部" in page
    assert re.search(r"决议 <b>1</b>", page) and re.search(r"未完成待办 <b>2</b>", page)
    by_date = html_of(client.get("/archive?view=date"))
    assert "2026年" in by_date and "6月" in by_date and "解决客户投诉处理流程卡点-2026-06-12" in by_date


def test_archive_by_date_shows_the_chosen_month(client, login_as, people, record):
    host = people["host"]
    record(host, topic="五月预算会", starts=(2026, 5, 8, 10, 0))
    record(host, topic="六月预算会", starts=(2026, 6, 8, 10, 0))
    login_as(host)
    latest = html_of(client.get("/archive?view=date"))
    assert "六月预算会-2026-06-08" in latest and "五月预算会" not in latest
    may = html_of(client.get("/archive?view=date&year=2026&month=5"))
    assert "五月预算会-2026-05-08" in may and "六月预算会-2026" not in may
    fragment = html_of(client.get("/archive?view=date&year=2026&month=5", headers={"HX-Request": "true"}))
    assert "<html" not in fragment and 'id="archive-browse"' in fragment


def test_meetings_of_one_recurring_topic_are_one_topic(client, login_as, people, record):
    host = people["host"]
    record(host, topic="2026年Q1季度协调会", starts=(2026, 3, 30, 10, 0), decisions=["Q2预算上调5%"])
    record(host, topic="2026年Q2季度协调会", starts=(2026, 6, 29, 10, 0), decisions=["Q3招聘冻结"])
    record(host, topic="解决客户投诉处理流程卡点", starts=(2026, 6, 12, 10, 0))
    browse = service.browse_by_topic(host)
    assert browse.total == 2
    quarterly = next(t for t in browse.topics if t.meetings == 2)
    assert quarterly.label == "季度协调会" and quarterly.decisions == 2
    login_as(host)
    page = html_of(client.get(f"/archive/topics/{quarterly.key}"))
    assert page.index("2026年Q1季度协调会-2026-03-30") < page.index("2026年Q2季度协调会-2026-06-29")
    assert "Q2预算上调5%" in page and "Q3招聘冻结" in page


def test_a_quarter_that_is_the_subject_of_a_topic_stays_in_its_name(client, login_as, people, record):
    host = people["host"]
    record(host, topic="三季度市场活动进度同步", starts=(2026, 7, 10, 10, 0))
    record(host, topic="四季度市场活动进度同步", starts=(2026, 10, 9, 10, 0))
    record(host, topic="确定Q3产品上线跨部门协作计划", starts=(2026, 6, 12, 10, 0))
    labels = sorted(t.label for t in service.browse_by_topic(host).topics)
    assert labels == ["三季度市场活动进度同步", "四季度市场活动进度同步", "确定Q3产品上线跨部门协作计划"]
    login_as(host)
    page = html_of(client.get("/archive"))
    assert ">季度市场活动进度同步" not in page and "三季度市场活动进度同步" in page
    assert html_of(client.get("/archive/topics/三季度市场活动进度同步")).count("三季度市场活动进度同步-2026-07-10") >= 1


def test_meetings_of_a_series_are_one_topic_whatever_their_topics(people, record):
    from minutes.meetings.models import MeetingSeries

    host = people["host"]
    series = MeetingSeries(name="客服与技术双周会", created_by_id=host.id)
    db.session.add(series)
    db.session.commit()
    first = record(host, topic="工单积压处理", starts=(2026, 6, 1, 10, 0))
    second = record(host, topic="夜间值班安排", starts=(2026, 6, 15, 10, 0))
    for held in (first, second):
        held.meeting.series_id = series.id
    db.session.commit()
    [topic] = service.browse_by_topic(host).topics
    assert topic.label == "客服与技术双周会" and topic.meetings == 2


def test_topic_page_is_a_decision_log_with_action_outcomes(client, login_as, people, record, clock):
    from minutes.actions.models import ActionStatus

    host = people["host"]
    first = record(host, topic="解决客户投诉处理流程卡点", starts=(2026, 6, 1, 10, 0),
                   decisions=["投诉分级标准由客服部制定"], actions=["客服部起草投诉分级标准"])
    record(host, topic="解决客户投诉处理流程卡点", starts=(2026, 6, 20, 10, 0),
           decisions=["分级标准试行一个月"], actions=["技术部上线分级标签"])
    first.actions[0].status = ActionStatus.DONE
    db.session.commit()
    clock(2026, 7, 10, 9, 0)  # the second action (due 7月4日) is overdue now
    login_as(people["outsider"])
    page = html_of(client.get("/archive/topics/解决客户投诉处理流程卡点"))
    for text in ("解决客户投诉处理流程卡点-2026-06-01", "解决客户投诉处理流程卡点-2026-06-20", "投诉分级标准由客服部制定",
                 "分级标准试行一个月", "客服部起草投诉分级标准", "技术部上线分级标签", "已完成", "已逾期"):
        assert text in page, text
    assert page.index("2026-06-01") < page.index("2026-06-20")


def test_topic_page_hides_confidential_meetings_and_is_missing_when_none_is_visible(client, login_as, people,
                                                                                     record):
    host = people["host"]
    record(host, topic="人员优化沟通", starts=(2026, 6, 1, 10, 0), confidential=True, decisions=["名单保密"])
    login_as(people["outsider"])
    assert client.get("/archive/topics/人员优化沟通").status_code == 404
    assert client.get("/archive/topics/不存在的主题").status_code == 404
    assert "人员优化沟通" not in html_of(client.get("/archive"))


def test_search_page_and_the_fragment_htmx_asks_for_while_typing(client, login_as, people, record):
    host = people["host"]
    record(host, topic="解决客户投诉处理流程卡点", decisions=["确定客户投诉处理总时效不超过72小时"])
    login_as(host)
    page = html_of(client.get("/archive/search?q=72小时"))
    assert 'hx-trigger="input changed delay:300ms, search"' in page and 'hx-push-url="true"' in page
    assert 'value="72小时"' in page
    assert "解决客户投诉处理流程卡点-2026-06-12" in page
    assert "确定客户投诉处理总时效不超过<mark>72小时</mark>" in page
    fragment = client.get("/archive/search?q=投诉&kind=decision", headers={"HX-Request": "true"})
    body = html_of(fragment)
    assert fragment.status_code == 200 and "<html" not in body and body.lstrip().startswith("<section")
    assert 'id="f-kind" name="kind" value="decision" hx-swap-oob="true"' in body
    assert "客户<mark>投诉</mark>处理" in body
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]


def test_search_escapes_user_text_before_highlighting(client, login_as, people, record):
    host = people["host"]
    record(host, topic="安全评审", points=['客户反馈<img src=x onerror="alert(1)">投诉页面报错'])
    login_as(host)
    page = html_of(client.get("/archive/search?q=投诉"))
    assert "<img" not in page
    assert "客户反馈&lt;img src=x onerror=&#34;alert(1)&#34;&gt;<mark>投诉</mark>页面报错" in page


def test_search_page_shows_confidential_meetings_only_to_invitees(client, login_as, people, record):
    host = people["host"]
    record(host, topic="高管薪酬预算调整", confidential=True, invite=[people["legal"]], decisions=["薪酬预算冻结"])
    login_as(people["outsider"])
    page = html_of(client.get("/archive/search?q=薪酬"))
    assert "高管薪酬" not in page and "薪酬预算冻结" not in page and "没有找到" in page


def test_bad_search_filters_keep_the_query_and_say_what_is_wrong(client, login_as, people):
    login_as(people["host"])
    response = client.get("/archive/search?q=预算&from=2026-02-30")
    page = html_of(response)
    assert response.status_code == 422
    assert "日期格式应为 2026-06-30" in page and 'value="预算"' in page


def test_paging_links_keep_the_query_and_filters(client, login_as, people, make_meeting):
    host = people["host"]
    for day in range(1, 23):
        make_meeting(host, starts=(2026, 5, day, 10, 0), topic=f"预算例会第{day}期")
    login_as(host)
    page = html_of(client.get("/archive/search?q=预算&sort=newest&scenario=problem"))
    assert "第 1 / 2 页" in page
    link = re.search(r'href="(/archive/search\?[^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "q=%E9%A2%84%E7%AE%97" in link and "sort=newest" in link and "scenario=problem" in link
    second = html_of(client.get(link))
    assert "预算例会第2期" in second and "预算例会第22期" not in second


def test_archive_is_in_the_main_navigation(client, login_as, people):
    login_as(people["host"])
    page = html_of(client.get("/archive"))
    assert re.search(r'<a href="/archive" class="active">归档</a>', page)


def test_an_agenda_item_renamed_before_the_meeting_is_found_by_its_new_title(people, make_meeting):
    host = people["host"]
    meeting = make_meeting(host)
    item = planning.add_agenda_item(host, meeting, "预算口径", 20)
    planning.update_agenda_item(host, item, "人力成本口径", 20)
    db.session.commit()
    found = archive_search.search(host, archive_search.parse_search_args({"q": "口径"}))
    assert [p.snippet for h in found.hits for p in h.passages] == ["人力成本口径"]


def test_no_hits_advice_fits_the_search(client, login_as, people, record):
    record(people["host"], topic="解决客户投诉处理流程卡点", decisions=["确定客户投诉处理总时效不超过72小时"])
    login_as(people["host"])
    short = html_of(client.get("/archive/search?q=x"))
    assert "没有找到包含“x”的内容" in short and "更短" not in short and "换一个词" in short
    long = html_of(client.get("/archive/search?q=季度供应商合同续签评估"))
    assert "更短的词" in long
    filtered = html_of(client.get("/archive/search?q=季度供应商合同续签评估&kind=decision"))
    assert "去掉一些筛选条件" in filtered and "更短的词" not in filtered
