"""Distribution, answers tied to a version's hash, revisions that re-ask only the right people, final."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from minutes.extensions import db
from minutes.meetings.models import MeetingStatus
from minutes.notify.delivery import deliver_pending
from minutes.records import drafting, service, signoff
from minutes.records.models import MinutesResponse, MinutesStatus, RecipientReason


def distribute(r, clock, when=(2026, 6, 18, 16, 0), **kwargs):
    clock(*when)
    drafting.draft_from_record(r.recorder, r.meeting)
    version = signoff.distribute(r.recorder, r.meeting, **kwargs)
    db.session.commit()
    return version


def distributed_and_mailed(r, clock, smtp_server):
    """Distribute the minutes and let the six distribution mails go out, so a test sees only the mails after."""
    version = distribute(r, clock)
    deliver_pending()
    smtp_server.wait_for(6)
    smtp_server.clear()
    return version


def states_by_name(r):
    return {s.user.name: s for s in signoff.recipient_states(service.minutes_of(r.meeting))}


def test_default_recipients_are_participants_heads_and_cc_without_the_recorder(recorded):
    r = recorded()
    candidates = {c.user.username: c.reason for c in signoff.default_recipients(r.meeting)}
    assert candidates == {"zhaomin": RecipientReason.PARTICIPANT, "wangwu": RecipientReason.PARTICIPANT,
                          "qianliu": RecipientReason.PARTICIPANT, "sunqi": RecipientReason.PARTICIPANT,
                          "zhouba": RecipientReason.HEAD, "wujiu": RecipientReason.CC}


def test_distribution_emails_every_recipient_with_a_working_link(recorded, clock, client, login_as, smtp_server):
    r = recorded()
    version = distribute(r, clock)
    assert r.meeting.status == MeetingStatus.DISTRIBUTED
    assert service.minutes_of(r.meeting).status == MinutesStatus.DISTRIBUTED
    deliver_pending()
    messages = smtp_server.wait_for(6)
    assert sorted(m["to"][0] for m in messages) == sorted(u.email for u in r.recipients)
    mail = next(m["msg"] for m in messages if m["to"] == [r.late.email])
    assert mail["Subject"] == "【会议纪要待确认】解决客户投诉处理流程卡点（第1版）"
    text = mail.get_body(("plain",)).get_content()
    assert "请于 2026年6月22日（周一） 当天内回复" in text  # Thu 18th + Dragon Boat (19–21) → Mon 22nd
    link = re.search(r"http://minutes\.test(/minutes/versions/\d+)", text).group(1)
    assert link == f"/minutes/versions/{version.id}"
    html = mail.get_body(("html",)).get_content()
    assert "确定客户投诉处理总时效不超过72小时" in html and "<script" not in html
    assert client.get(link).status_code == 302  # not logged in: to the login page
    login_as(r.late)
    page = client.get(link)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="response" value="confirm"' in body and "提出修改意见" in body
    assert "2026年6月22日（周一）" in body


def test_confirm_and_change_request_are_recorded_per_version_hash(recorded, clock):
    r = recorded()
    v1 = distribute(r, clock)
    clock(2026, 6, 18, 17, 0)
    yes = signoff.respond(r.late, v1.id, "confirm")
    change = signoff.respond(r.member, v1.id, "change", "决议2应写明由孙七负责维护", item_ref=f"decision:{r.decisions[1].id}")
    assert yes.content_hash == v1.content_hash == change.content_hash
    assert change.item_label.startswith("决议2：")
    states = states_by_name(r)
    assert states["王五"].state == "confirmed" and states["王五"].label == "已确认"
    assert states["孙七"].state == "change" and states["孙七"].latest.comment == "决议2应写明由孙七负责维护"
    assert states["周八"].state == "pending" and states["周八"].request.due_on == date(2026, 6, 22)
    assert not any(s.settled for n, s in states.items() if n != "王五")


def test_change_request_needs_a_comment_and_a_real_item(recorded, clock):
    r = recorded()
    v1 = distribute(r, clock)
    with pytest.raises(ValidationFailed, match="请写明修改意见"):
        signoff.respond(r.member, v1.id, "change", "  ")
    with pytest.raises(ValidationFailed):
        signoff.respond(r.member, v1.id, "change", "意见", item_ref="decision:9999")
    with pytest.raises(ValidationFailed):
        signoff.respond(r.member, v1.id, "maybe")


def test_change_request_is_mailed_to_the_recorder(recorded, clock, smtp_server):
    r = recorded()
    v1 = distributed_and_mailed(r, clock, smtp_server)
    signoff.respond(r.member, v1.id, "change", "待办2的配合部门漏了法务部")
    db.session.commit()
    deliver_pending()
    [mail] = smtp_server.wait_for(1)
    assert mail["to"] == [r.recorder.email]
    assert "孙七" in mail["msg"]["Subject"] and "待办2的配合部门漏了法务部" in mail["msg"].get_content()


def test_the_same_answer_sent_twice_is_one_answer_and_one_mail(recorded, clock, smtp_server):
    """A double click, or the card and the page: the second identical answer adds nothing; a new comment does."""
    r = recorded()
    v1 = distributed_and_mailed(r, clock, smtp_server)
    first = signoff.respond(r.member, v1.id, "change", "待办2的配合部门漏了法务部")
    db.session.commit()
    again = signoff.respond(r.member, v1.id, "change", " 待办2的配合部门漏了法务部 ", source="chat")
    db.session.commit()
    other = signoff.respond(r.member, v1.id, "change", "待办2还漏了财务部")
    db.session.commit()
    deliver_pending()
    mails = smtp_server.wait_for(2)
    assert again.id == first.id and other.id != first.id
    assert db.session.scalar(select(func.count(MinutesResponse.id)).where(MinutesResponse.user_id == r.member.id)) == 2
    assert sorted("财务部" in m["msg"].get_content() for m in mails) == [False, True]  # one mail per comment
    assert signoff.respond(r.late, v1.id, "confirm").id == signoff.respond(r.late, v1.id, "confirm").id


def test_revision_reasks_only_answered_commenters_and_chosen_people(recorded, clock, smtp_server):
    r = recorded()
    v1 = distribute(r, clock)
    clock(2026, 6, 18, 17, 0)
    signoff.respond(r.late, v1.id, "confirm")
    change = signoff.respond(r.member, v1.id, "change", "决议2应写明由孙七负责维护")
    db.session.commit()
    deliver_pending()
    smtp_server.wait_for(7)
    smtp_server.clear()
    clock(2026, 6, 22, 9, 30)
    minutes = service.minutes_of(r.meeting)
    body = minutes.draft_body.replace("**待办**：见“待办事项跟踪表”第2项。",
                                      "**待办**：见“待办事项跟踪表”第2项。模板由孙七负责维护。")
    v2 = signoff.revise(r.recorder, r.meeting, body, answers=[change.id], reask=[r.head.id], note="按孙七意见补充")
    db.session.commit()
    assert v2.number == 2 and v2.content_hash != v1.content_hash
    states = states_by_name(r)
    assert states["王五"].state == "confirmed_old" and states["王五"].label == "已确认（第1版）"
    assert states["王五"].latest.content_hash == v1.content_hash  # the confirmation stays tied to version 1
    assert states["孙七"].state == "pending" and states["孙七"].request.because.id == change.id
    assert states["周八"].state == "pending" and states["周八"].request.due_on == date(2026, 6, 23)
    assert states["赵敏"].state == "no_answer"  # asked for version 1, never answered; not asked again
    deliver_pending()
    mails = smtp_server.wait_for(2)
    assert sorted(m["to"][0] for m in mails) == sorted([r.member.email, r.head.email])
    to_member = next(m["msg"] for m in mails if m["to"] == [r.member.email])
    assert "重新确认" in to_member["Subject"] and "决议2应写明由孙七负责维护" in to_member.get_body(("plain",)).get_content()
    assert signoff.answered_by(minutes)[change.id].id == v2.id
    with pytest.raises(RuleViolation, match="已被第2版取代"):
        signoff.respond(r.member, v1.id, "confirm")


def test_revision_must_change_something_and_ask_someone(recorded, clock):
    r = recorded()
    v1 = distribute(r, clock)
    minutes = service.minutes_of(r.meeting)
    with pytest.raises(ValidationFailed, match="至少一位"):
        signoff.revise(r.recorder, r.meeting, minutes.draft_body + "\n补充\n")
    with pytest.raises(RuleViolation, match="完全相同"):
        signoff.revise(r.recorder, r.meeting, v1.body, reask=[r.late.id])


def test_everyone_confirming_makes_the_version_final_and_tells_everyone(recorded, clock, smtp_server):
    r = recorded()
    v1 = distributed_and_mailed(r, clock, smtp_server)
    clock(2026, 6, 19, 10, 0)
    for user in r.recipients[:-1]:
        signoff.respond(user, v1.id, "confirm")
        assert not v1.is_final
    signoff.respond(r.cc, v1.id, "confirm", "无异议")
    db.session.commit()
    assert v1.is_final and v1.finalized_by is None and v1.final_reason is None
    minutes = service.minutes_of(r.meeting)
    assert minutes.status == MinutesStatus.FINAL and minutes.final_hash == v1.content_hash
    assert r.meeting.status == MeetingStatus.FINAL
    deliver_pending()
    mails = smtp_server.wait_for(7)  # six recipients and the recorder
    assert len(mails) == 7 and all("已定稿" in m["msg"]["Subject"] for m in mails)
    assert v1.content_hash in mails[0]["msg"].get_content()


def test_final_after_revision_counts_earlier_confirmations(recorded, clock):
    r = recorded()
    v1 = distribute(r, clock)
    for user in (r.host, r.late, r.absent, r.head, r.cc):
        signoff.respond(user, v1.id, "confirm")
    change = signoff.respond(r.member, v1.id, "change", "请补充模板上线时间")
    body = service.minutes_of(r.meeting).draft_body + "\n模板于6月30日上线。\n"
    v2 = signoff.revise(r.recorder, r.meeting, body, answers=[change.id])
    assert not v2.is_final
    signoff.respond(r.member, v2.id, "confirm")
    assert v2.is_final and not v1.is_final


def test_recorder_cannot_close_with_missing_answers_host_must_give_a_reason(recorded, clock):
    r = recorded()
    v1 = distribute(r, clock)
    signoff.respond(r.late, v1.id, "confirm")
    clock(2026, 6, 23, 9, 0)
    with pytest.raises(PermissionDenied, match="只有主持人"):
        signoff.finalize(r.recorder, r.meeting)
    with pytest.raises(ValidationFailed, match="原因"):
        signoff.finalize(r.host, r.meeting, "  ")
    version = signoff.finalize(r.host, r.meeting, "钱六出差未能回复，已电话确认无异议")
    assert version.is_final and version.finalized_by.id == r.host.id
    assert version.final_reason == "钱六出差未能回复，已电话确认无异议"
    assert {m["name"] for m in version.missing} == {"赵敏", "钱六", "孙七", "周八", "吴九"}
    assert all(m["state"] == "已逾期未回复" for m in version.missing)


def test_overdue_answers_are_shown_after_one_working_day(recorded, clock):
    r = recorded()
    distribute(r, clock)
    clock(2026, 6, 22, 20, 0)  # still the due day
    assert not any(s.overdue for s in states_by_name(r).values())
    clock(2026, 6, 23, 8, 0)
    states = states_by_name(r)
    assert all(s.overdue and s.label == "已逾期未回复" for s in states.values())


def test_only_a_recipient_answers_and_only_for_themselves(recorded, clock, client, login_as):
    r = recorded()
    v1 = distribute(r, clock)
    with pytest.raises(PermissionDenied):
        signoff.respond(r.outsider, v1.id, "confirm")  # can see a public meeting, but is no recipient
    with pytest.raises(PermissionDenied):
        signoff.respond(r.recorder, v1.id, "confirm")
    login_as(r.late)
    response = client.post(f"/minutes/versions/{v1.id}/respond",
                           data={"response": "confirm", "user_id": r.member.id, "user": "sunqi", "comment": ""})
    assert response.status_code == 303
    answers = db.session.query(MinutesResponse).all()
    assert [(a.user.username, a.kind.value) for a in answers] == [("wangwu", "confirm")]
    assert states_by_name(r)["孙七"].state == "pending"


def test_non_recipient_gets_forbidden_through_http(recorded, clock, client, login_as):
    r = recorded()
    v1 = distribute(r, clock)
    login_as(r.outsider)
    response = client.post(f"/minutes/versions/{v1.id}/respond", data={"response": "confirm"})
    assert response.status_code == 403
    assert db.session.query(MinutesResponse).count() == 0


def test_confidential_minutes_are_invisible_to_outsiders_and_heads_not_invited(recorded, clock, client, login_as):
    r = recorded(confidential=True)
    assert "zhouba" not in {c.user.username for c in signoff.default_recipients(r.meeting)}
    drafting.draft_from_record(r.recorder, r.meeting)
    with pytest.raises(ValidationFailed, match="仅限参会人员"):
        signoff.distribute(r.recorder, r.meeting, extra_ids=[r.head.id])
    v1 = distribute(r, clock)
    with pytest.raises(NotFound):
        signoff.respond(r.outsider, v1.id, "confirm")
    login_as(r.outsider)
    for url in (f"/meetings/{r.meeting.id}/minutes", f"/minutes/versions/{v1.id}",
                f"/minutes/versions/{v1.id}/print", f"/minutes/versions/{v1.id}/export.docx",
                f"/meetings/{r.meeting.id}/minutes/diff?a=1&b=1"):
        assert client.get(url).status_code == 404, url


def test_distribute_and_answer_through_the_pages(recorded, clock, client, login_as, switch_user):
    r = recorded()
    clock(2026, 6, 18, 16, 0)
    login_as(r.recorder)
    client.post(f"/meetings/{r.meeting.id}/minutes")
    minutes = service.minutes_of(r.meeting)
    ids = [str(c.user.id) for c in signoff.default_recipients(r.meeting) if c.user.id != r.cc.id]
    response = client.post(f"/meetings/{r.meeting.id}/minutes/distribute",
                           data={"markdown": minutes.draft_body, "revision": minutes.draft_revision, "recipient": ids,
                                 "extra": [str(r.outsider.id)]})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    names = {x.user.username for x in service.minutes_of(r.meeting).recipients}
    assert "wujiu" not in names and "zhengshi" in names
    version = service.current_version(service.minutes_of(r.meeting))
    switch_user(r.member)
    response = client.post(f"/minutes/versions/{version.id}/respond",
                           data={"response": "change", "comment": "", "item_ref": ""})
    assert response.status_code == 422 and "请写明修改意见" in response.get_data(as_text=True)
    response = client.post(f"/minutes/versions/{version.id}/respond",
                           data={"response": "change", "comment": "补充<b>模板</b>上线时间", "item_ref": "section:3"})
    assert response.status_code == 303
    switch_user(r.recorder)
    page = client.get(f"/meetings/{r.meeting.id}/minutes").get_data(as_text=True)
    assert "补充&lt;b&gt;模板&lt;/b&gt;上线时间" in page and "提出修改意见" in page and "三、各议题讨论要点" in page
    assert 'id="signoff"' in page and "发布第2版" in page


def test_dashboard_shows_sign_off_waiting_for_me(recorded, clock, client, login_as):
    r = recorded()
    distribute(r, clock)
    clock(2026, 6, 23, 9, 0)
    login_as(r.head)
    html = client.get("/").get_data(as_text=True)
    assert 'id="minutes-panel"' in html and "确认已逾期" in html and "解决客户投诉处理流程卡点" in html


def test_dashboard_drops_a_sign_off_once_answered(recorded, clock, client, login_as):
    r = recorded()
    version = distribute(r, clock)
    clock(2026, 6, 19, 9, 0)
    login_as(r.head)
    assert "去确认" in client.get("/").get_data(as_text=True)
    signoff.respond(r.head, version.id, "confirm")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'id="minutes-panel"' not in html and "去确认" not in html


def _out_for_sign_off(r, clock, make_meeting, day):
    """Another meeting of r's host and recorder with r.member invited, held on `day` and its minutes sent."""
    from minutes.meetings import service as planning
    from minutes.room import review, service as room

    meeting = make_meeting(r.host, starts=(2026, 6, day, 10, 0), topic=f"投诉复盘6月{day}日")
    planning.invite(r.host, meeting, [r.recorder.id], "recorder")
    planning.invite(r.host, meeting, [r.member.id], "participant")
    planning.add_agenda_item(r.host, meeting, "复盘", 30, r.member.department_id)
    clock(2026, 6, day, 10, 0)
    room.start_meeting(r.recorder, meeting)
    review.enter_review(r.recorder, meeting)
    review.finish_meeting(r.recorder, meeting)
    drafting.draft_from_record(r.recorder, meeting)
    signoff.distribute(r.recorder, meeting)
    db.session.commit()
    return meeting


def test_dashboard_lists_sign_offs_in_the_same_statements_however_many_wait(recorded, clock, client, login_as,
                                                                           make_meeting):
    from sqlalchemy import event

    r = recorded()
    distribute(r, clock)

    def dashboard_statements():
        seen = []
        client.get("/")  # warms what the app caches
        event.listen(db.engine, "before_cursor_execute", note := lambda *args: seen.append(args[2]))
        try:
            html = client.get("/").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        return len(seen), html.count("去确认")

    clock(2026, 6, 19, 9, 0)
    login_as(r.member)
    one = dashboard_statements()
    for day in (15, 16):
        _out_for_sign_off(r, clock, make_meeting, day)
    clock(2026, 6, 19, 9, 0)
    three = dashboard_statements()
    assert one[1] == 1 and three[1] == 3
    assert three[0] == one[0]


def test_dashboard_asks_only_for_the_current_version(recorded, clock, client, login_as, switch_user):
    r = recorded()
    version = distribute(r, clock)
    clock(2026, 6, 19, 9, 0)
    answer = signoff.respond(r.late, version.id, "change", "请补充值班工程师的到岗时间")
    signoff.revise(r.recorder, r.meeting, version.minutes.draft_body + "\n\n已补充到岗时间。", answers=[answer.id])
    db.session.commit()
    login_as(r.member)  # asked for version 1 only, which version 2 replaced
    assert "去确认" not in client.get("/").get_data(as_text=True)
    switch_user(r.late)  # asked again for version 2
    assert client.get("/").get_data(as_text=True).count("去确认") == 1
