"""The archive's text rules: query terms, normalization, highlight positions, topic keys, minutes sections."""
from minutes.archive.indexer import minutes_sections
from minutes.archive.text import fold, grams, highlight, parse_query, plain, topic_key, topic_label


def test_query_splits_on_spaces_and_punctuation_and_folds_case_and_width():
    assert parse_query("Q3 上线，预算").terms == ("q3", "上线", "预算")
    assert parse_query("ＳＬＡ　７２小时").terms == ("sla", "72小时")


def test_query_drops_a_term_contained_in_another_and_duplicates():
    assert parse_query("投诉 投诉处理 投诉").terms == ("投诉处理",)


def test_quoted_phrase_keeps_its_space():
    assert parse_query('"客户 投诉" 法务').terms == ("客户 投诉", "法务")
    assert parse_query("“客户 投诉”").terms == ("客户 投诉",)


def test_short_and_long_terms_go_to_different_indexes():
    query = parse_query("预算 投诉处理 Q3 SLA")
    assert query.short_terms == ("预算", "q3")
    assert query.long_terms == ("投诉处理", "sla")


def test_empty_or_punctuation_only_query_has_no_terms():
    assert not parse_query("")
    assert not parse_query(" ，。！ ")


def test_text_is_folded_to_nfkc_lower_case():
    assert fold("确认ＳＬＡ为７２小时，Q3") == "确认sla为72小时,q3"


def test_grams_cover_every_one_and_two_character_word():
    assert set(grams("预算Q3，OK")) == {"预", "算", "q", "3", "预算", "算q", "q3", "o", "k", "ok"}


def test_highlight_marks_exact_positions_in_the_original_text():
    segments = highlight("客户投诉升级后，投诉须在72小时内处理", ["投诉", "72小时"], limit=None)
    assert segments == [("客户", False), ("投诉", True), ("升级后，", False), ("投诉", True), ("须在", False),
                        ("72小时", True), ("内处理", False)]


def test_highlight_maps_full_width_and_case_back_to_what_was_written():
    segments = highlight("确认ＳＬＡ为７２小时", ["sla", "72小时"], limit=None)
    assert segments == [("确认", False), ("ＳＬＡ", True), ("为", False), ("７２小时", True)]


def test_highlight_merges_overlapping_matches():
    assert highlight("预算审批流程", ["预算审", "算审批"], limit=None) == [("预算审批", True), ("流程", False)]


def test_long_text_is_cut_around_the_first_match():
    text = "甲" * 200 + "法务审核" + "乙" * 200
    segments = highlight(text, ["法务"])
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert ("法务", True) in segments
    assert len(plain(segments)) <= 96 + 2


def test_highlight_leaves_markup_as_text():
    segments = highlight("<script>alert(1)</script>投诉", ["投诉"], limit=None)
    assert segments == [("<script>alert(1)</script>", False), ("投诉", True)]


def test_topics_of_one_recurring_meeting_share_a_key():
    assert topic_key("2026年Q2季度协调会") == topic_key("2026年Q3季度协调会") == topic_key("第三季度协调会")
    assert topic_label("2026年Q2季度协调会") == "季度协调会"
    assert topic_key("产品部周例会（第12期）") == topic_key("产品部周例会 第13期")
    assert topic_key("解决客户投诉处理流程卡点") == "解决客户投诉处理流程卡点"
    assert topic_key("解决客户投诉处理流程卡点") != topic_key("确定Q3产品上线跨部门协作计划")


def test_a_period_is_an_occurrence_only_where_it_dates_a_meeting():
    assert topic_key("三季度协调会") == topic_key("Q4季度协调会") == topic_key("2026年第二季度协调会") == "季度协调会"
    assert topic_label("三季度经营分析会议") == "季度经营分析会议"
    assert topic_label("上半年总结会") == topic_label("下半年总结会") == "总结会"
    for topic in ("三季度市场活动进度同步", "确定Q3产品上线跨部门协作计划", "三季度社会责任报告", "下半年市场规划"):
        assert topic_label(topic) == topic
    assert topic_key("三季度市场活动进度同步") != topic_key("四季度市场活动进度同步")
    assert topic_label("产品部周例会（第12期）") == topic_label("产品部周例会【第13期】") == "产品部周例会"


def test_minutes_are_split_into_plain_sections_at_headings():
    body = "## 一、会议基本信息\n- **主题**：投诉\n\n## 二、会议目标与议程回顾\n1. 议题[链接](http://x)\n"
    assert minutes_sections(body) == ["一、会议基本信息\n主题：投诉", "二、会议目标与议程回顾\n议题链接"]
