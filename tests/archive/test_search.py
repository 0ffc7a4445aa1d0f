"""Chinese full-text search over what was recorded, on SQLite (FTS5) and PostgreSQL (pg_trgm) alike."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from minutes.archive import search as archive_search
from minutes.archive import service
from minutes.archive.models import DocKind, SearchBlock
from minutes.core.errors import ValidationFailed
from minutes.extensions import db
from minutes.meetings import service as planning
from minutes.room import service as room
from minutes.room import recording, review


def find(user, q, **args):
    """Search as `user`; return the results."""
    return archive_search.search(user, archive_search.parse_search_args({"q": q, **args}))


def topics(results):
    return [hit.row.meeting.topic for hit in results.hits]


def snippets(results):
    return [p.snippet for hit in results.hits for p in hit.passages]


@pytest.fixture
def complaints(people, record):
    return record(
        people["host"], topic="解决客户投诉处理流程卡点", starts=(2026, 6, 12, 10, 0),
        points=["客服部认为需缩短技术部响应时间至24小时内", "法务部提醒赔付条款须先审核"],
        decisions=["确定客户投诉处理总时效不超过72小时"],
        actions=["产品部优化投诉提报模板，Q3上线", "技术部与客服部约定SLA响应标准"])


@pytest.fixture
def budget(people, record):
    return record(
        people["host"], topic="确定Q3产品上线跨部门协作计划", starts=(2026, 5, 20, 14, 0), scenario="kickoff",
        goal="明确上线节奏与各部门分工", expected_outcome="协作计划表",
        agenda="上线预算", points=["市场部申请追加预算50万元"], decisions=["预算由财务部于6月30日前复核"],
        actions=["市场部提交预算明细表"])


# --- what is found ---------------------------------------------------------------------------

def test_two_character_words_are_found(people, complaints, budget):
    host = people["host"]
    assert topics(find(host, "预算")) == ["确定Q3产品上线跨部门协作计划"]
    assert topics(find(host, "投诉")) == ["解决客户投诉处理流程卡点"]
    assert "法务部提醒赔付条款须先审核" in snippets(find(host, "法务"))


def test_three_and_more_characters(people, complaints, budget):
    host = people["host"]
    assert topics(find(host, "技术部")) == ["解决客户投诉处理流程卡点"]
    assert topics(find(host, "跨部门协作")) == ["确定Q3产品上线跨部门协作计划"]
    assert snippets(find(host, "赔付条款须先审核")) == ["法务部提醒赔付条款须先审核"]


def test_one_character_is_found_too(people, complaints, budget):
    assert topics(find(people["host"], "赔")) == ["解决客户投诉处理流程卡点"]


def test_latin_letters_and_digits_mixed_with_chinese(people, complaints, budget):
    host = people["host"]
    assert set(topics(find(host, "Q3"))) == {"解决客户投诉处理流程卡点", "确定Q3产品上线跨部门协作计划"}
    assert topics(find(host, "sla")) == ["解决客户投诉处理流程卡点"]
    assert snippets(find(host, "72小时")) == ["确定客户投诉处理总时效不超过72小时"]
    assert snippets(find(host, "７２小时")) == ["确定客户投诉处理总时效不超过72小时"]
    assert topics(find(host, "50万")) == ["确定Q3产品上线跨部门协作计划"]


def test_full_width_text_is_found_by_half_width_query(people, record):
    record(people["host"], topic="客服升级规则", decisions=["ＳＬＡ调整为７２小时"])
    assert snippets(find(people["host"], "SLA 72小时")) == ["ＳＬＡ调整为７２小时"]


def test_order_of_characters_within_a_term_is_kept(people, complaints):
    host = people["host"]
    assert topics(find(host, "投诉处理")) == ["解决客户投诉处理流程卡点"]
    assert find(host, "处理投诉").total == 0
    assert find(host, "时效总").total == 0


def test_several_terms_must_occur_in_the_same_kind_of_text_in_any_order(people, complaints):
    host = people["host"]
    assert snippets(find(host, "72小时 投诉")) == ["确定客户投诉处理总时效不超过72小时"]
    assert snippets(find(host, "投诉 72小时")) == ["确定客户投诉处理总时效不超过72小时"]
    assert find(host, "72小时 赔付").total == 0  # a decision and a viewpoint: not one kind of text


def test_nothing_found_for_absent_words_and_empty_queries(people, complaints):
    host = people["host"]
    assert find(host, "董事会").total == 0
    assert find(host, "").searched is False
    assert find(host, "，。").total == 0


def test_highlights_wrap_exactly_the_matching_characters(people, complaints):
    [hit] = find(people["host"], "投诉 72小时").hits
    [passage] = hit.passages
    assert passage.kind == DocKind.DECISION
    assert passage.segments == [("确定客户", False), ("投诉", True), ("处理总时效不超过", False), ("72小时", True)]


def test_results_are_grouped_by_meeting_with_counts_per_kind(people, complaints, budget):
    results = find(people["host"], "投诉")
    assert results.total == 1
    assert results.facets == {"meeting": 1, "agenda": 1, "decision": 1, "action": 1}  # meetings per kind
    [hit] = results.hits
    assert hit.matches == 5
    assert len(hit.passages) == archive_search.PASSAGES_PER_MEETING and hit.more == 2
    assert hit.passages[0].label == "会议主题"


def test_passages_say_where_and_who(people, complaints):
    results = find(people["host"], "提报模板", kind="action")
    [passage] = results.hits[0].passages
    assert passage.where == "客户投诉升级后的处理时效"
    assert passage.who == "客服部·赵敏"
    assert passage.status == "未开始" and passage.due == date(2026, 6, 26)


# --- permissions -----------------------------------------------------------------------------

def test_confidential_meeting_is_invisible_to_someone_not_invited(people, record, complaints):
    host, legal, outsider = people["host"], people["legal"], people["outsider"]
    record(host, topic="高管薪酬预算调整", confidential=True, invite=[legal],
           decisions=["投诉专项预算从薪酬池划拨"])
    # the outsider: not in results, totals, facet counts, passages or the API
    seen = find(outsider, "投诉")
    assert topics(seen) == ["解决客户投诉处理流程卡点"]
    assert seen.total == 1 and seen.facets == {"meeting": 1, "agenda": 1, "decision": 1, "action": 1}
    assert not any("薪酬" in s for s in snippets(seen))
    assert find(outsider, "薪酬").total == 0 and find(outsider, "薪酬").facets == {}
    assert archive_search.search_api(outsider, q="薪酬") == {"total": 0, "results": []}
    assert archive_search.search_api(outsider, q="投诉")["total"] == 4  # its topic and goal, agenda, decision, action
    # the invitee and the host see it
    for user in (legal, host):
        assert set(topics(find(user, "投诉"))) == {"解决客户投诉处理流程卡点", "高管薪酬预算调整"}
        assert find(user, "投诉").facets["decision"] == 2
        assert archive_search.search_api(user, q="薪酬")["total"] == 2


def test_confidential_meeting_is_not_in_the_archive_lists_of_outsiders(people, record):
    record(people["host"], topic="高管薪酬预算调整", confidential=True, invite=[people["legal"]])
    assert service.browse_by_topic(people["outsider"]).total == 0
    assert service.browse_by_date(people["outsider"]).total == 0
    assert service.browse_by_topic(people["legal"]).total == 1


def test_a_confidential_meeting_indexed_through_a_new_point_is_still_hidden(people, record):
    from minutes.archive.models import ArchiveEntry

    host = people["host"]
    held = record(host, topic="高管薪酬预算调整", confidential=True, invite=[people["legal"]])
    db.session.execute(ArchiveEntry.__table__.delete())  # as if filed before the archive existed
    db.session.commit()
    recording.add_point(host, held.meeting, held.item.id, "viewpoint", "薪酬带宽上调百分之五",
                        department_id=host.department_id)
    db.session.commit()
    assert find(people["outsider"], "薪酬").total == 0
    assert find(people["legal"], "薪酬").total == 1


def test_cancelled_meetings_are_not_found(people, make_meeting):
    meeting = make_meeting(people["host"], topic="预算沟通会")
    planning.cancel_meeting(people["host"], meeting)
    db.session.commit()
    assert find(people["host"], "预算").total == 0


# --- filters, order and paging ---------------------------------------------------------------

def test_only_decisions_and_only_actions(people, complaints, budget):
    host = people["host"]
    assert snippets(find(host, "预算", kind="decision")) == ["预算由财务部于6月30日前复核"]
    assert snippets(find(host, "预算", kind="action")) == ["市场部提交预算明细表"]
    results = find(host, "预算", kind="action")
    assert results.total == 1 and results.facets["decision"] == 1  # other kinds still counted


def test_filter_by_department_scenario_and_dates(people, record, complaints, budget):
    legal = people["legal"]
    record(legal, topic="合同条款复核", starts=(2026, 7, 2, 9, 30), scenario="alignment",
           decisions=["法务部复核Q3合同模板"])
    host = people["host"]
    assert topics(find(host, "Q3", department=str(legal.department_id))) == ["合同条款复核"]
    assert topics(find(host, "Q3", department="法务部")) == ["合同条款复核"]
    assert topics(find(host, "Q3", scenario="kickoff")) == ["确定Q3产品上线跨部门协作计划"]
    assert topics(find(host, "Q3", **{"from": "2026-06-01", "to": "2026-06-30"})) == ["解决客户投诉处理流程卡点"]
    assert topics(find(host, "Q3", **{"from": "2026-07-02"})) == ["合同条款复核"]
    assert topics(find(host, "Q3", to="2026-05-20")) == ["确定Q3产品上线跨部门协作计划"]


def test_filter_by_minutes_status(people, record, clock):
    host = people["host"]
    record(host, topic="预算评审会（进行中）", starts=(2026, 6, 1, 9, 0), decisions=["预算先按上季度执行"])
    record(host, topic="预算评审会（逾期）", starts=(2026, 6, 2, 9, 0), decisions=["预算压缩百分之十"], finish=True)
    record(host, topic="预算评审会（按时）", starts=(2026, 6, 10, 9, 0), decisions=["预算不变"], finish=True)
    clock(2026, 6, 10, 15, 0)
    assert topics(find(host, "预算", status="overdue")) == ["预算评审会（逾期）"]
    assert topics(find(host, "预算", status="due")) == ["预算评审会（按时）"]
    assert topics(find(host, "预算", status="in_progress")) == ["预算评审会（进行中）"]
    assert find(host, "预算", status="final").total == 0


def test_newest_first_or_most_relevant_first(people, record):
    host = people["host"]
    record(host, topic="季度经营分析", starts=(2026, 6, 20, 9, 0), points=["提到一次预算"])
    record(host, topic="预算编制启动会", starts=(2026, 3, 1, 9, 0), decisions=["预算编制按部门提交"])
    assert topics(find(host, "预算")) == ["预算编制启动会", "季度经营分析"]
    assert topics(find(host, "预算", sort="newest")) == ["季度经营分析", "预算编制启动会"]


def test_paging_counts_meetings_and_keeps_the_order(people, make_meeting):
    host = people["host"]
    for day in range(1, 26):
        make_meeting(host, starts=(2026, 5, day, 10, 0), topic=f"预算例会第{day}期")
    first = find(host, "预算", sort="newest")
    assert first.total == 25 and first.pages == 2 and len(first.hits) == 20
    assert first.hits[0].row.meeting.topic == "预算例会第25期"
    second = find(host, "预算", sort="newest", page="2")
    assert [h.row.meeting.topic for h in second.hits] == [f"预算例会第{d}期" for d in range(5, 0, -1)]
    assert second.total == 25
    beyond = find(host, "预算", page="9")
    assert beyond.hits == [] and beyond.total == 25


def test_bad_filters_are_refused_with_the_field_named(people):
    with pytest.raises(ValidationFailed) as caught:
        archive_search.parse_search_args({"q": "预算", "from": "2026-13-01", "kind": "memo", "department": "不存在部"})
    assert set(caught.value.fields) == {"from", "kind", "department"}
    with pytest.raises(ValidationFailed) as caught:
        archive_search.parse_search_args({"q": "预算", "from": "2026-06-30", "to": "2026-06-01"})
    assert "to" in caught.value.fields


# --- the index follows every change at once --------------------------------------------------

def test_an_edit_is_found_at_once_and_the_old_text_is_gone(people, complaints):
    host = people["host"]
    point = complaints.points[0]
    recording.update_point(host, point, point.version, "viewpoint", "客服部要求技术部48小时内给出方案",
                           department_id=host.department_id)
    # same transaction, not yet committed: the search already sees it
    assert snippets(find(host, "48小时")) == ["客服部要求技术部48小时内给出方案"]
    assert find(host, "24小时").total == 0
    assert find(host, "给出").total == 1 and find(host, "缩短").total == 0  # the grams of 2-character terms too
    db.session.commit()
    assert find(host, "48小时").total == 1


def test_deleted_point_decision_and_action_disappear(people, complaints):
    host = people["host"]
    recording.delete_point(host, complaints.points[1])
    recording.delete_decision(host, complaints.decisions[0])
    recording.delete_action(host, complaints.actions[1])
    db.session.commit()
    assert find(host, "法务").total == 0
    assert find(host, "72小时").total == 0
    assert find(host, "SLA").total == 0
    assert find(host, "提报模板").total == 1


def test_a_decision_reworded_in_the_review_is_found_by_its_new_wording(people, complaints):
    host = people["host"]
    meeting = complaints.meeting
    review.enter_review(host, meeting)
    decision = complaints.decisions[0]
    review.reword_entry(host, meeting, decision.review_key, "确定客户投诉处理总时效不超过96小时")
    db.session.commit()
    assert find(host, "96小时").total == 1
    assert find(host, "72小时").total == 0


def test_a_rolled_back_change_leaves_nothing_in_the_index(people, complaints):
    host = people["host"]
    recording.add_point(host, complaints.meeting, complaints.item.id, "viewpoint", "临时提到的董事会意见",
                        department_id=host.department_id)
    assert find(host, "董事会").total == 1
    db.session.rollback()
    assert find(host, "董事会").total == 0


def test_a_changed_meeting_topic_and_goal_are_searchable(people, make_meeting):
    host = people["host"]
    meeting = make_meeting(host, topic="周例会", goal="同步进度")
    data = planning.MeetingInput(topic="客户满意度复盘会", goal="分析NPS下降原因", expected_outcome="",
                                 scenario="alignment", starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                 location="301会议室", organizer_department_id=host.department_id)
    planning.update_meeting(host, meeting, data)
    db.session.commit()
    assert topics(find(host, "满意度")) == ["客户满意度复盘会"]
    assert topics(find(host, "nps")) == ["客户满意度复盘会"]
    assert find(host, "例会").total == 0


def test_final_minutes_are_searchable_and_a_correction_replaces_them(people, record, clock):
    from minutes.records import drafting, service as records, signoff

    host = people["host"]
    held = record(host, topic="解决客户投诉处理流程卡点", decisions=["确定客户投诉处理总时效不超过72小时"],
                  invite=[people["legal"]], finish=True)
    meeting = held.meeting
    drafting.draft_from_record(host, meeting)
    body = records.minutes_of(meeting).draft_body + "\n\n## 补充说明\n会后补充：呼叫中心排班表由运营部提供。\n"
    signoff.distribute(host, meeting, markdown=body)
    db.session.commit()
    assert find(host, "排班表").total == 0  # not final yet: only the final minutes are indexed
    signoff.finalize(host, meeting, reason="钱立出差，会上已口头确认")
    db.session.commit()
    results = find(host, "排班表", kind="minutes")
    assert snippets(results) == ["补充说明 会后补充：呼叫中心排班表由运营部提供。"]
    assert results.hits[0].row.status == service.ArchiveStatus.FINAL
    signoff.correct(host, meeting, body.replace("运营部", "人力资源部"), reason="提供部门写错")
    db.session.commit()
    assert snippets(find(host, "排班表")) == ["补充说明 会后补充：呼叫中心排班表由人力资源部提供。"]
    assert find(host, "运营部").total == 0


def test_reindex_rebuilds_the_same_index(people, complaints, budget, runner):
    host = people["host"]
    before = {q: (find(host, q).total, find(host, q).facets) for q in ("预算", "投诉", "Q3", "72小时")}
    db.session.execute(SearchBlock.__table__.delete())
    db.session.commit()
    assert find(host, "预算").total == 0
    result = runner.invoke(args=["minutes", "reindex"])
    assert result.exit_code == 0, result.output
    assert "检索索引已重建" in result.output
    db.session.expire_all()
    assert {q: (find(host, q).total, find(host, q).facets) for q in before} == before
    assert db.session.scalar(select(func.count()).select_from(SearchBlock)) == 12  # 6 kinds of text × 2 meetings


def test_points_appended_leave_the_blocks_as_a_rebuild_writes_them(people, make_meeting, clock, startable):
    """Adding a point appends to its block (the fast path) only when it comes last; the result is always
    what rebuilding the meeting's blocks from the source tables gives."""
    from minutes.archive import indexer

    host = people["host"]
    clock(2026, 6, 12, 10, 0)
    meeting = make_meeting(host, starts=(2026, 6, 12, 10, 0))
    first = planning.add_agenda_item(host, meeting, "第一个议题", 10, department_id=host.department_id)
    second = planning.add_agenda_item(host, meeting, "第二个议题", 10, department_id=host.department_id)
    startable(meeting)
    room.start_meeting(host, meeting)
    recording.add_point(host, meeting, first.id, "viewpoint", "第一条：客服部先说明", department_id=host.department_id)
    db.session.commit()

    def blocks():
        return dict(db.session.execute(select(SearchBlock.code, SearchBlock.text)
                                       .where(SearchBlock.meeting_id == meeting.id)).all())

    def rebuilt():
        connection = db.session.connection()
        docs = indexer.read_docs(connection, [meeting.id])[meeting.id]
        return {row["code"]: row["text"] for row in indexer.block_rows(meeting.id, meeting.starts_at, docs)}

    appended = []
    real_append = indexer.append_points
    indexer.append_points = lambda *args: appended.append(real_append(*args)) or appended[-1]
    try:
        recording.add_point(host, meeting, first.id, "viewpoint", "第二条：ＳＬＡ响应\n时间", department_id=host.department_id)
        recording.add_point(host, meeting, second.id, "consensus", "第二议题的共识")
        recording.add_point(host, meeting, first.id, "consensus", "回到第一议题补充")  # not last: rewritten
        recording.add_point(host, meeting, second.id, "consensus", "最后一条")
        db.session.commit()
    finally:
        indexer.append_points = real_append
    assert appended == [True, True, False, True]
    assert blocks() == rebuilt()
    if indexer.needs_grams(db.session.connection()):  # PostgreSQL: the grams were rewritten with the text
        grams = dict(db.session.execute(select(indexer.GRAMS.c.id, indexer.GRAMS.c.grams)).all())
        assert {code: grams[block] for code, block in db.session.execute(
            select(SearchBlock.code, SearchBlock.id).where(SearchBlock.meeting_id == meeting.id))} == \
            {code: indexer.stored_grams(text) for code, text in rebuilt().items()}
    assert blocks()[indexer.CODE_POINT].split("\n") == ["第一条:客服部先说明", "第二条:sla响应 时间", "回到第一议题补充", "第二议题的共识", "最后一条"]
    assert [find(host, q).total for q in ("sla", "补充", "共识")] == [1, 1, 1]


# --- the API's service function --------------------------------------------------------------

def test_search_api_returns_one_result_per_meeting_and_kind_of_text(people, complaints, budget):
    answer = archive_search.search_api(people["host"], q="预算", kind="decision")
    assert answer == {"total": 1, "results": [{
        "meeting_id": budget.meeting.id, "topic": "确定Q3产品上线跨部门协作计划", "date": "2026-05-20",
        "kind": "decision", "snippet": "预算由财务部于6月30日前复核"}]}


def test_search_api_pages_and_filters(people, complaints, budget):
    host = people["host"]
    everything = archive_search.search_api(host, q="Q3")
    assert everything["total"] == 2
    assert [r["kind"] for r in everything["results"]] == ["meeting", "action"]  # a topic match ranks first
    assert archive_search.search_api(host, q="Q3", per_page=1, page=2)["results"] == everything["results"][1:]
    assert archive_search.search_api(host, q="Q3", date_from="2026-06-01")["total"] == 1
    assert archive_search.search_api(host, q="Q3", date_to=date(2026, 5, 31))["total"] == 1
    assert archive_search.search_api(host, q="Q3", department="法务部")["total"] == 0
    with pytest.raises(ValidationFailed) as caught:
        archive_search.search_api(host, q="Q3", kind="memo", date_from="yesterday")
    assert set(caught.value.fields) == {"kind", "from"}


def test_matches_group_block_ids_by_meeting_in_any_order_and_leave_out_hidden_meetings():
    """Block ids reach `Matches.collect` in id order from SQLite and in table order from PostgreSQL."""
    import random

    from minutes.archive.models import CODE_ACTION, CODE_DECISION, CODE_POINT, CODE_TOPIC, block_id

    blocks = [block_id(date(2026, 6, 12), 5, CODE_TOPIC), block_id(date(2026, 6, 12), 5, CODE_POINT),
              block_id(date(2026, 6, 12), 5, CODE_ACTION), block_id(date(2026, 6, 13), 9, CODE_POINT),
              block_id(date(2026, 6, 14), 7, CODE_DECISION), block_id(date(2026, 6, 14), 7, CODE_TOPIC)]
    expected = {5: 1 << CODE_TOPIC | 1 << CODE_POINT | 1 << CODE_ACTION, 9: 1 << CODE_POINT,
                7: 1 << CODE_DECISION | 1 << CODE_TOPIC}
    shuffled = blocks[:]
    random.Random(4).shuffle(shuffled)
    for ids in (sorted(blocks), shuffled, sorted(blocks, reverse=True)):
        assert archive_search.Matches.collect(ids).mask_by_meeting() == expected
        assert archive_search.Matches.collect(ids).without([9]).mask_by_meeting().keys() == {5, 7}
    assert archive_search.Matches.collect([]).mask_by_meeting() == {}
    assert archive_search.Matches.collect([]).facets() == {}


def test_matches_count_and_order_as_a_plain_python_reading_of_the_same_blocks():
    """The array arithmetic of `Matches` against the rule written out longhand, on 3,000 random blocks."""
    import random

    from minutes.archive.models import CODE_KINDS, CODE_WEIGHTS, block_id

    rng = random.Random(7)
    blocks = sorted({block_id(date(2026, 1, 1 + rng.randrange(28)), rng.randrange(1, 600), rng.randrange(7))
                     for _ in range(3000)})
    hidden = {3, 50, 51, 599}
    masks: dict[int, int] = {}
    for block in blocks:
        key = block >> archive_search.CODE_BITS
        if key & archive_search.MEETING_MASK not in hidden:
            masks[key] = masks.get(key, 0) | 1 << (block & archive_search.CODE_MASK)
    matches = archive_search.Matches.collect(blocks[::-1]).without(sorted(hidden))
    assert matches.mask_by_meeting() == {key & archive_search.MEETING_MASK: mask for key, mask in masks.items()}

    codes_of = {kind: {c for c, k in CODE_KINDS.items() if k == kind} for kind in DocKind}
    has = lambda mask, kind: any(mask >> c & 1 for c in codes_of[kind])  # noqa: E731
    assert matches.facets() == {kind.value: n for kind in DocKind
                                if (n := sum(1 for mask in masks.values() if has(mask, kind)))}
    for kind in (None, DocKind.POINT, DocKind.MEETING):
        chosen = [k for k in DocKind if kind in (None, k)]
        score = lambda mask: sum(w for c, w in CODE_WEIGHTS.items()  # noqa: E731
                                 if mask >> c & 1 and CODE_KINDS[c] in chosen)
        found = [(score(mask), key) for key, mask in masks.items() if any(has(mask, k) for k in chosen)]
        for sort, ordered in ((archive_search.Sort.RELEVANCE, sorted(found, reverse=True)),
                              (archive_search.Sort.NEWEST, sorted(found, key=lambda f: f[1], reverse=True))):
            for page in (1, 2, 9):
                total, rows = matches.page(kind, sort, page, 20)
                assert total == len(found)
                assert rows == [(key & archive_search.MEETING_MASK, s, masks[key])
                                for s, key in ordered[(page - 1) * 20:page * 20]]
        # the API: one result per meeting and kind, by the kind's weight, then newest, then the kind's order
        weight = {k: max(CODE_WEIGHTS[c] for c in codes_of[k]) for k in DocKind}
        items = sorted(((weight[k], key, -list(DocKind).index(k)) for key, mask in masks.items()
                        for k in chosen if has(mask, k)), reverse=True)
        total, rows = matches.results(kind, archive_search.Sort.RELEVANCE, 2, 20)
        assert total == len(items)
        assert rows == [(key & archive_search.MEETING_MASK, list(DocKind)[-i]) for _w, key, i in items[20:40]]


def test_postgresql_keeps_the_grams_of_each_block_out_of_the_rows_a_search_visits(people, complaints, budget):
    """A frequent 2-character word matches tens of thousands of blocks, and PostgreSQL visits each match's row
    for its id: search_block_gram's rows stay narrow because the grams go out of line (TOAST)."""
    from minutes.archive.backends import GRAM_PADDING
    from minutes.archive.text import grams_of_folded

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite derives the grams in a view (search_block_grams)")
    blocks = dict(db.session.execute(select(SearchBlock.id, SearchBlock.text)).all())
    stored = dict(db.session.execute(text("SELECT id, grams FROM search_block_gram")).all())
    assert stored == {block: [*grams_of_folded(body), GRAM_PADDING] for block, body in blocks.items()}
    toast = db.session.execute(text("SELECT reltoastrelid::regclass::text FROM pg_class "
                                    "WHERE oid = 'search_block_gram'::regclass")).scalar()
    out_of_line = db.session.execute(text(f"SELECT count(DISTINCT chunk_id) FROM {toast}")).scalar()
    assert out_of_line == len(stored)
    recording.delete_decision(people["host"], complaints.decisions[0])  # the decisions block goes, and its grams
    assert set(db.session.scalars(text("SELECT id FROM search_block_gram"))) == \
        set(db.session.scalars(select(SearchBlock.id))) != set(stored)


def test_among_takes_more_ids_than_a_statement_may_have_parameters(people, complaints, budget):
    """The permission check passes the restricted meetings a search matched as one parameter: there can be more
    of them than SQLite's 32,766 parameters (or PostgreSQL's 65,535)."""
    from minutes.archive.backends import backend_for
    from minutes.meetings.models import Meeting

    backend = backend_for(db.session.get_bind().dialect.name)
    wanted = [complaints.meeting.id, *range(10**6, 10**6 + 70_000)]
    assert set(db.session.scalars(select(Meeting.id).where(backend.among(Meeting.id, wanted)))) == \
        {complaints.meeting.id}
