"""The room over HTTP: who sees what, fast entry forms, refusals with what was typed kept."""
import re

import pytest

from minutes.extensions import db
from minutes.room import attendance, recording, review, service
from minutes.room.models import Point

HX = {"HX-Request": "true"}


def _point(cast, text="需缩短技术部响应时间至24小时内", **extra):
    data = {"agenda_item_id": cast.items[0].id, "kind": "viewpoint", "department_id": cast.host.department_id,
            "text": text}
    data.update(extra)
    return data


def test_recorder_gets_the_console_and_a_participant_the_read_only_view(started, client, login_as):
    login_as(started.recorder)
    html = client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    assert 'id="entry"' in html and 'room--write' in html
    assert f'sse-connect="/meetings/{started.meeting.id}/events?rev=1"' in html
    client.post("/logout")
    login_as(started.participant)
    html = client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    assert 'id="entry"' not in html and 'room--read' in html
    assert "hx-post" not in re.sub(r'<header class="topbar".*?</header>', "", html, flags=re.S)


def test_room_before_the_start_offers_the_start_to_host_and_recorder_only(cast, client, login_as):
    login_as(cast.participant)
    html = client.get(f"/meetings/{cast.meeting.id}/room").get_data(as_text=True)
    assert "会议尚未开始" in html and "开始会议</button>" not in html
    client.post("/logout")
    login_as(cast.host)
    html = client.get(f"/meetings/{cast.meeting.id}/room").get_data(as_text=True)
    assert "开始会议</button>" in html
    response = client.post(f"/meetings/{cast.meeting.id}/room/start", headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/meetings/{cast.meeting.id}/room"
    assert cast.meeting.status.value == "in_progress"


def test_meeting_page_links_to_the_room(started, client, login_as):
    login_as(started.participant)
    html = client.get(f"/meetings/{started.meeting.id}").get_data(as_text=True)
    assert f'href="/meetings/{started.meeting.id}/room"' in html and "进入会议室" in html


@pytest.mark.parametrize("path", ["/room", "/screen", "/events"])
def test_confidential_room_is_404_for_non_invitees_everywhere(app, make_user, make_meeting, client, login_as, path,
                                                             startable):
    host = make_user("chost", dept="客服部")
    outsider = make_user("cout", dept="产品部")
    meeting = startable(make_meeting(host, confidential=True))
    service.start_meeting(host, meeting)
    db.session.commit()
    login_as(outsider)
    assert client.get(f"/meetings/{meeting.id}{path}").status_code == 404
    assert client.post(f"/meetings/{meeting.id}/points", data={"text": "x"}).status_code == 404


def test_adding_a_point_returns_an_empty_form_keeping_item_kind_and_department(started, client, login_as):
    login_as(started.recorder)
    response = client.post(f"/meetings/{started.meeting.id}/points",
                           data=_point(started, kind="dispute", party_ids=[started.participant.department_id]),
                           headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="point-form"')
    assert re.search(r'<textarea id="entry-point-text"[^>]*></textarea>', html)
    assert re.search(rf'<option value="{started.host.department_id}" selected>客服部</option>', html)
    assert 'value="dispute" checked' in html
    assert "✓ 已添加争议" in html
    assert db.session.query(Point).count() == 1


def test_refused_point_comes_back_with_the_text_and_the_reason(started, client, login_as):
    login_as(started.recorder)
    response = client.post(f"/meetings/{started.meeting.id}/points", data=_point(started, department_id=""),
                           headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "需缩短技术部响应时间至24小时内</textarea>" in html
    assert "请选择提出该观点的部门" in html and "未保存" in html


def test_participant_cannot_write(started, client, login_as):
    login_as(started.participant)
    response = client.post(f"/meetings/{started.meeting.id}/points", data=_point(started), headers=HX)
    assert response.status_code == 403
    assert db.session.query(Point).count() == 0


def test_vague_decision_is_refused_with_the_findings_highlighted(started, client, login_as):
    login_as(started.recorder)
    response = client.post(f"/meetings/{started.meeting.id}/decisions",
                           data={"agenda_item_id": started.items[0].id, "text": "尽快协调技术部增加人力"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<mark title="时间不明确">尽快</mark>' in html
    assert "尽快协调技术部增加人力</textarea>" in html
    assert "模糊表述" in html


def test_action_without_owner_or_date_is_refused(started, client, login_as):
    login_as(started.recorder)
    url = f"/meetings/{started.meeting.id}/actions"
    base = {"agenda_item_id": started.items[0].id, "text": "优化投诉提报模板"}
    response = client.post(url, data=dict(base, due="2026-06-30"), headers=HX)
    assert response.status_code == 422 and "待办须指定负责人" in response.get_data(as_text=True)
    response = client.post(url, data=dict(base, owner_department_id=started.participant.department_id,
                                          owner_id=started.participant.id), headers=HX)
    assert response.status_code == 422 and "完成时限" in response.get_data(as_text=True)
    response = client.post(url, data=dict(base, owner_department_id=started.participant.department_id,
                                          owner_id=started.participant.id, due="3个工作日内",
                                          cooperating_department_ids=[started.host.department_id]), headers=HX)
    assert response.status_code == 200 and "✓ 已添加待办" in response.get_data(as_text=True)


def test_check_highlights_terms_and_reads_the_deadline(started, client, login_as):
    login_as(started.recorder)
    url = f"/meetings/{started.meeting.id}/room/check"
    html = client.post(url, data={"text": "原则上尽快完成", "due": ""}, headers=HX).get_data(as_text=True)
    assert '<mark title="承诺不明确">原则上</mark><mark title="时间不明确">尽快</mark>完成' in html
    assert "（“3个工作日内”即2026年6月18日（周四））" in html
    html = client.post(url, data={"text": "完成模板上线", "due": "3个工作日内"}, headers=HX).get_data(as_text=True)
    assert "完成时限 → <b>2026年6月18日（周四）</b>" in html and "✓ 表述清晰" in html
    html = client.post(url, data={"text": "完成模板上线", "due": "", "kind": "action"}, headers=HX).get_data(as_text=True)
    assert "待办须有完成时限" in html


def test_people_of_a_department_for_the_owner_select(started, client, login_as):
    login_as(started.recorder)
    html = client.get(f"/meetings/{started.meeting.id}/room/people",
                      query_string={"owner_department_id": started.participant.department_id}).get_data(as_text=True)
    assert f'<option value="{started.participant.id}" >张技术</option>' in html


def test_stale_edit_is_refused_with_the_latest_text_shown(started, client, login_as):
    point = recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "初稿")
    db.session.commit()
    recording.update_point(started.host, point, point.version, "consensus", "主持人的版本")
    db.session.commit()
    login_as(started.recorder)
    url = f"/meetings/{started.meeting.id}/room/points/{point.id}/edit"
    response = client.post(url, data={"version": "1", "kind": "consensus", "text": "记录人的版本",
                                      "agenda_item_id": started.items[0].id}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "已被王主持" in html and "您的修改未保存" in html
    assert "主持人的版本" in html and "记录人的版本</textarea>" in html
    assert db.session.get(Point, point.id).text == "主持人的版本"
    # Overwriting on purpose sends the version just shown.
    response = client.post(url, data={"version": "1", "overwrite_version": "2", "kind": "consensus",
                                      "text": "记录人的版本", "agenda_item_id": started.items[0].id}, headers=HX)
    assert response.status_code == 200
    assert db.session.get(Point, point.id).text == "记录人的版本"


def test_attendance_and_lifecycle_commands(started, client, login_as):
    login_as(started.host)
    mid = started.meeting.id
    response = client.post(f"/meetings/{mid}/attendance", data={"user_id": started.participant.id, "status": "absent",
                                                               "from_dialog": "1"}, headers=HX)
    assert response.status_code == 422 and "缺席的原因" in response.get_data(as_text=True)
    response = client.post(f"/meetings/{mid}/attendance", data={"user_id": started.participant.id, "status": "late",
                                                               "arrived_at": "14:07"}, headers=HX)
    assert response.status_code == 200
    row = next(r for r in attendance.attendance(started.meeting) if r.user_id == started.participant.id)
    assert row.status.value == "late" and row.arrived_at.strftime("%H:%M") == "06:07"  # 14:07 in Shanghai
    assert client.post(f"/meetings/{mid}/room/current", data={"agenda_item_id": started.items[1].id},
                       headers=HX).status_code == 200
    assert client.post(f"/meetings/{mid}/room/review", headers=HX).status_code == 200
    response = client.post(f"/meetings/{mid}/room/finish", headers=HX)
    assert response.status_code == 200
    html = client.get(f"/meetings/{mid}/room").get_data(as_text=True)
    assert "纪要须在会后24小时内完成" in html and "截止 2026年6月16日（周二） 13:55" in html


def test_finish_refused_message_shown(started, client, login_as):
    recording.add_decision(started.recorder, started.meeting, started.items[0].id, "确定投诉处理总时效不超过72小时")
    review.enter_review(started.recorder, started.meeting)
    db.session.commit()
    login_as(started.host)
    response = client.post(f"/meetings/{started.meeting.id}/room/finish", headers=HX)
    assert response.status_code == 409
    assert "还有1项决议或待办未逐项确认" in response.get_data(as_text=True)


def test_screen_page_is_big_type_without_the_top_bar(started, client, login_as):
    recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "投诉处理总时效不超过72小时")
    db.session.commit()
    login_as(started.participant)
    html = client.get(f"/meetings/{started.meeting.id}/screen").get_data(as_text=True)
    assert 'class="screen-body"' in html and "客户投诉升级后的处理时效" in html
    assert "投诉处理总时效不超过72小时" in html and "view=screen" in html
    assert "<script>" not in html and " onclick=" not in html


def _token(html: str) -> str:
    return re.search(r'name="submission" value="([0-9a-f]{32})"', html).group(1)


@pytest.mark.parametrize("kind", ["point", "decision", "action"])
def test_an_entry_form_sent_twice_saves_once_and_says_it_was_added(started, client, login_as, kind):
    """The form gives up after 10 s and says 未保存; sent again, what the first send saved is not saved twice."""
    from minutes.actions.models import ActionItem
    from minutes.room.models import Decision

    login_as(started.recorder)
    room = client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    form = re.search(rf'<form id="{kind}-form".*?</form>', room, re.S).group(0)
    token = _token(form)
    data = {"point": _point(started),
            "decision": {"agenda_item_id": started.items[0].id, "text": "确定客户投诉处理总时效不超过72小时"},
            "action": {"agenda_item_id": started.items[0].id, "text": "优化投诉提报模板",
                       "owner_department_id": started.participant.department_id, "owner_id": started.participant.id,
                       "due": "2026-06-30"}}[kind]
    model = {"point": Point, "decision": Decision, "action": ActionItem}[kind]
    label = {"point": "观点", "decision": "决议", "action": "待办"}[kind]
    url = f"/meetings/{started.meeting.id}/{kind}s"
    first = client.post(url, data=dict(data, submission=token), headers=HX)
    revision = service.current_revision(started.meeting.id)
    again = client.post(url, data=dict(data, submission=token), headers=HX)
    assert first.status_code == again.status_code == 200
    assert f"✓ 已添加{label}" in again.get_data(as_text=True)
    assert db.session.query(model).count() == 1
    assert service.current_revision(started.meeting.id) == revision  # nothing changed, so no event either
    # each answer carries a new token: the next entry is a new row
    next_token = _token(again.get_data(as_text=True))
    assert next_token not in (token, _token(first.get_data(as_text=True)))
    client.post(url, data=dict(data, submission=next_token), headers=HX)
    assert db.session.query(model).count() == 2


def test_a_refused_entry_keeps_its_token_and_a_form_without_one_still_saves(started, client, login_as):
    login_as(started.recorder)
    url = f"/meetings/{started.meeting.id}/points"
    token = "0123456789abcdef0123456789abcdef"
    refused = client.post(url, data=_point(started, department_id="", submission=token), headers=HX)
    assert refused.status_code == 422 and _token(refused.get_data(as_text=True)) == token
    assert client.post(url, data=_point(started, submission=token), headers=HX).status_code == 200
    # no token (the API, an old tab) or a malformed one: saved each time, as before
    for extra in ({}, {"submission": "not-a-token"}, {"submission": "not-a-token"}):
        assert client.post(url, data=_point(started, **extra), headers=HX).status_code == 200
    assert db.session.query(Point).count() == 4


def test_room_page_has_one_main_landmark(started, client, login_as):
    for user in (started.recorder, started.participant):
        login_as(user)
        html = client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
        assert html.count("<main") == 1
        client.post("/logout")
    login_as(started.recorder)
    screen = client.get(f"/meetings/{started.meeting.id}/screen").get_data(as_text=True)
    assert screen.count("<main") == 1


def test_minutes_page_offers_the_undiscussed_items_and_carries_them(started, client, login_as):
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    mid = started.meeting.id
    login_as(started.recorder)
    html = client.get(f"/meetings/{mid}/minutes").get_data(as_text=True)
    assert 'id="carry-over"' in html and "未讨论的议题（2项）" in html and "列入本系列下一次会议" not in html
    response = client.post(f"/meetings/{mid}/carry-over", data={"into": "follow_up"})
    assert response.status_code == 303 and response.headers["Location"] != f"/meetings/{mid}/minutes"


def _carry_section(html):
    section = html[html.index('id="carry-over"'):]
    return section[:section.index("</section>")]


def test_carrying_twice_leads_to_the_same_follow_up_and_the_page_links_to_it(started, client, login_as):
    from minutes.meetings.models import Meeting

    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    mid = started.meeting.id
    login_as(started.recorder)
    first = client.post(f"/meetings/{mid}/carry-over", data={"into": "follow_up"})
    again = client.post(f"/meetings/{mid}/carry-over", data={"into": "follow_up"})  # a second click
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    new_id = int(first.headers["Location"].rsplit("/", 1)[1])
    assert db.session.query(Meeting).filter(Meeting.topic.endswith("（待议事项）")).count() == 1
    shown = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "这些未讨论的议题已转入" in shown and "没有再创建会议" in shown
    carry = _carry_section(client.get(f"/meetings/{mid}/minutes").get_data(as_text=True))
    assert carry.count("已转入：") == 2 and carry.count(f'href="/meetings/{new_id}"') == 2
    assert "安排后续会议讨论这些议题" not in carry and "<form" not in carry


def test_items_carried_to_the_series_link_to_its_next_meeting(started, client, login_as):
    from minutes.meetings import series

    series.start_series(started.host, started.meeting, "投诉协调例会", "monthly")
    review.enter_review(started.recorder, started.meeting)
    review.finish_meeting(started.recorder, started.meeting)
    mid = started.meeting.id
    login_as(started.recorder)
    response = client.post(f"/meetings/{mid}/carry-over", data={"into": "series"})
    nxt = series.next_in_series(started.meeting)
    assert response.status_code == 303 and response.headers["Location"] == f"/meetings/{nxt.id}"
    again = client.post(f"/meetings/{mid}/carry-over", data={"into": "follow_up"})
    assert again.headers["Location"] == f"/meetings/{nxt.id}"
    carry = _carry_section(client.get(f"/meetings/{mid}/minutes").get_data(as_text=True))
    assert carry.count(f'已转入：<a href="/meetings/{nxt.id}">') == 2 and "列入本系列下一次会议" not in carry
