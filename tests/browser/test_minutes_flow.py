"""会后总结 in a real browser: from a recorded meeting to final, locked minutes.

The recorder generates the draft, edits it with the live preview, sends it to two recipients; one
confirms, the other asks for a change on a decision; the recorder publishes version 2 answering it;
the second recipient confirms and the minutes become final. Screenshots: the editor, the minutes page
with the sign-off, the diff, the final page and the print view.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx

pytestmark = pytest.mark.browser

TOPIC = "解决客户投诉处理流程卡点"


@pytest.fixture
def people(users):
    host = users("zhaomin", "赵敏", dept="客服部", title="客服部经理", head=True)
    recorder = users("lisi", "李四", dept="产品部")
    tech = users("wangwu", "王五", dept="技术部", title="技术经理")
    product = users("sunqi", "孙七", dept="产品部", title="产品经理")
    return host, recorder, tech, product


def _recorded_meeting(live_server, host, recorder, tech, product):
    """A meeting recorded and finished through the room's own service (minutes now due)."""
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as meetings
    from minutes.people.models import User
    from minutes.room import service as room
    from minutes.room import attendance, recording, review

    with live_server.app.app_context():
        get = lambda info: db.session.get(User, info.id)  # noqa: E731
        h, r, t, p = get(host), get(recorder), get(tech), get(product)
        start = timefmt.utcnow().replace(second=0, microsecond=0) - timedelta(minutes=95)
        meeting = meetings.create_meeting(h, meetings.MeetingInput(
            topic=TOPIC, goal="解决客户投诉处理流程中的部门推诿问题", expected_outcome="明确责任分工，形成行动方案",
            scenario="problem", starts_at=start, ends_at=start + timedelta(minutes=90), location="3号楼 301会议室",
            organizer_department_id=h.department_id))
        first = meetings.add_agenda_item(h, meeting, "投诉升级后的处理时效", 30, h.department_id)
        second = meetings.add_agenda_item(h, meeting, "投诉提报模板优化", 20, p.department_id)
        meetings.invite(h, meeting, [r.id], "recorder")
        meetings.invite(h, meeting, [t.id, p.id], "participant")
        db.session.commit()
        due = (timefmt.local_today() + timedelta(days=14)).isoformat()
        room.start_meeting(r, meeting)
        for person in (h, t, p):
            attendance.mark_attendance(r, meeting, person.id, "present")
        recording.add_point(r, meeting, first.id, "viewpoint", "需缩短技术部响应时间至24小时内",
                            department_id=h.department_id, speaker_id=h.id)
        recording.add_point(r, meeting, first.id, "viewpoint", "需增加人力配置，需客服部提前提交详细问题描述",
                            department_id=t.department_id, speaker_id=t.id)
        recording.add_point(r, meeting, first.id, "dispute", "技术部认为问题描述不完整导致重复沟通，客服部认为客户描述已足够清晰",
                            party_ids=[t.department_id, h.department_id])
        recording.add_point(r, meeting, first.id, "consensus",
                            "客服部需在收到投诉后1小时内补充问题描述，技术部在收到完整信息后24小时内反馈解决方案")
        recording.add_decision(r, meeting, first.id, "确定客户投诉处理总时效不超过72小时", owner_department_id=h.department_id,
                               owner_id=h.id, cooperating_department_ids=[t.department_id], due=due)
        recording.add_action(r, meeting, first.id, "技术部增配1名投诉值班工程师", owner_id=t.id, due=due)
        room.set_current_item(r, meeting, second.id)
        recording.add_point(r, meeting, second.id, "viewpoint", "模板需包含客户原话、截图和复现步骤",
                            department_id=p.department_id, speaker_id=p.id)
        recording.add_decision(r, meeting, second.id, "投诉提报模板由产品部负责维护", owner_department_id=p.department_id)
        recording.add_action(r, meeting, second.id, "优化投诉提报模板并上线", owner_id=p.id,
                             cooperating_department_ids=[h.department_id, t.department_id], due=due)
        review.enter_review(r, meeting)
        for entry in review.review_entries(meeting):
            review.confirm_entry(r, meeting, entry.review_key)
        review.finish_meeting(r, meeting)
        db.session.commit()
        return meeting.id


def _link_for(live_server, email):
    """The answer link in the mail a recipient got (the path, without the configured host)."""
    for item in live_server.smtp.messages:
        if item["to"] == [email]:
            text = item["msg"].get_body(("plain",)).get_content()
            return re.search(r"http://minutes\.test(/minutes/versions/\d+)", text).group(1)
    raise AssertionError(f"no mail to {email}")


def test_from_recorded_meeting_to_final_minutes(live_server, new_page, people, shot):
    host, recorder, tech, product = people
    meeting_id = _recorded_meeting(live_server, host, recorder, tech, product)

    # The recorder opens the minutes from the meeting page and generates the draft.
    writer = new_page(recorder, viewport=(1440, 1000))
    writer.goto(f"/meetings/{meeting_id}")
    writer.locator("#minutes-link").click()
    expect(writer.locator("#start")).to_contain_text("整理正式会议纪要")
    writer.get_by_role("button", name="根据会中记录生成初稿").click()
    editor = writer.locator("#markdown")
    expect(editor).to_have_value(re.compile("## 一、会议基本信息"))
    expect(writer.locator("#minutes-preview")).to_contain_text("四、决议事项汇总")
    expect(writer.locator("#minutes-preview table.decisions tbody tr")).to_have_count(2)

    # Typing updates the preview (debounced htmx) and saving keeps the text.
    editor.press("Control+End")
    editor.type("\n补充：下次协调会回顾模板上线效果。")
    expect(writer.locator("#minutes-preview")).to_contain_text("补充：下次协调会回顾模板上线效果。")
    writer.get_by_role("button", name="保存草稿").click()
    expect(writer.locator("#draft-status")).to_contain_text("已保存")
    shot(writer, "minutes-editor")

    # Send version 1 to the two participants (the host is left out this time).
    recipients = writer.locator("#distribute")
    recipients.get_by_label(re.compile("赵敏")).uncheck()
    writer.locator("#distribute-button").click()
    # sending asks first, naming everyone who will receive it
    ask = writer.locator("#confirm-dialog")
    expect(ask).to_contain_text("发出纪要第1版给以下 2 位收件人？")
    expect(ask.locator("li")).to_have_text(["孙七", "王五"])  # in the order of the list on the page
    shot(writer, "minutes-send-confirm", full_page=False)
    with writer.expect_navigation():
        ask.get_by_role("button", name="确定").click()
    expect(writer.locator(".flash.success")).to_contain_text("第1版已交给邮件发送（2位收件人）")
    expect(writer.locator("#minutes-delivery .delivery-head")).to_contain_text("已发送 2", timeout=10_000)
    writer.set_viewport_size({"width": 1366, "height": 768})
    writer.locator("#minutes-delivery-card").scroll_into_view_if_needed()
    shot(writer, "minutes-delivery-1366", full_page=False)
    expect(writer.locator("#signoff")).to_contain_text("0 / 2 已确认")

    mails = live_server.smtp.wait_for(2)
    assert sorted(m["to"][0] for m in mails) == ["sunqi@example.com", "wangwu@example.com"]

    # 王五 confirms through the link in his mail.
    confirmer = new_page(tech)
    confirmer.goto(_link_for(live_server, tech.email))
    expect(confirmer.locator("#respond")).to_contain_text("请于")
    confirmer.get_by_role("radio", name="确认无误").check()
    with confirmer.expect_navigation():
        confirmer.get_by_role("button", name="提交").click()
    expect(confirmer.locator(".flash.success")).to_contain_text("已确认第1版无误")

    # 孙七 asks for a change on decision 2.
    critic = new_page(product)
    critic.goto(_link_for(live_server, product.email))
    critic.get_by_role("radio", name="提出修改意见").check()
    critic.select_option("#item_ref", label="决议2：投诉提报模板由产品部负责维护")
    critic.fill("#comment", "决议2请写明具体负责人：孙七，并注明每季度评审一次模板。")
    shot(critic, "minutes-respond")
    with critic.expect_navigation():
        critic.get_by_role("button", name="提交").click()
    expect(critic.locator(".flash.success")).to_contain_text("修改意见已提交")

    # The recorder sees who answered and the comment, revises and publishes version 2.
    writer.reload()
    row = writer.locator("#signoff tr[data-user='sunqi']")
    expect(row).to_contain_text("提出修改意见")
    expect(row).to_contain_text("每季度评审一次模板")
    expect(writer.locator("#signoff tr[data-user='wangwu']")).to_contain_text("已确认")
    text = editor.input_value().replace("补充：下次协调会回顾模板上线效果。",
                                        "补充：下次协调会回顾模板上线效果。投诉提报模板由孙七具体负责，每季度评审一次。")
    editor.fill(text)
    expect(writer.locator("#minutes-preview")).to_contain_text("每季度评审一次。")
    expect(writer.locator("#revise input[name=answer]")).to_be_checked()
    writer.fill("#note", "按孙七意见写明模板负责人和评审周期")
    writer.locator("#revise-button").click()
    expect(writer.locator("#confirm-dialog li")).to_have_text(["孙七"])
    with writer.expect_navigation():
        writer.locator("#confirm-dialog").get_by_role("button", name="确定").click()
    expect(writer.locator(".flash.success")).to_contain_text("已发布第2版")
    expect(writer.locator("#signoff tr[data-user='wangwu']")).to_contain_text("已确认（第1版）")
    expect(writer.locator("#signoff tr[data-user='sunqi']")).to_contain_text("待回复")
    shot(writer, "minutes-page")

    # The diff between the versions, word-level.
    writer.locator("#version-2").get_by_role("link", name="与上一版对比").click()
    expect(writer.locator("#diff ins.diff-ins").first).to_be_visible()
    expect(writer.locator("#diff")).to_contain_text("投诉提报模板由孙七具体负责，每季度评审一次。")
    shot(writer, "minutes-diff")

    # 孙七's dashboard asks him to confirm version 2.
    critic.goto("/")
    expect(critic.locator("#minutes-panel")).to_contain_text("第2版")
    shot(critic.locator("#minutes-panel"), "minutes-dashboard-panel")

    # 孙七 is asked again (only him); his confirmation makes the minutes final.
    assert live_server.smtp.wait_for(4)[-1]["to"] == ["sunqi@example.com"]
    critic.goto(_link_for_version(live_server, product.email, 2))
    expect(critic.locator("#respond")).to_contain_text("本版回应了您的意见")
    critic.get_by_role("radio", name="确认无误").check()
    with critic.expect_navigation():
        critic.get_by_role("button", name="提交").click()
    expect(critic.locator(".flash.success")).to_contain_text("纪要已定稿")

    writer.goto(f"/meetings/{meeting_id}/minutes")
    expect(writer.locator("#minutes-status")).to_have_text("已定稿")
    expect(writer.locator(".page-head")).to_contain_text("已锁定")
    expect(writer.locator("#integrity-warning")).to_have_count(0)
    expect(writer.locator("#markdown")).to_have_count(0)
    shot(writer, "minutes-final")

    with writer.expect_popup() as popup:
        writer.locator(".head-actions").get_by_role("link", name="打印").click()
    printed = popup.value
    printed.set_viewport_size({"width": 1000, "height": 1300})
    expect(printed.locator(".print-page")).to_contain_text("五、待办事项跟踪表")
    expect(printed.locator(".print-foot")).to_contain_text("内容哈希（SHA-256）")
    shot(printed, "minutes-print")
    printed.emulate_media(media="print")
    shot(printed, "minutes-print-media")
    wait_for_htmx(writer)


def _link_for_version(live_server, email, number):
    """The link in the mail that asked `email` about version `number`."""
    for item in reversed(live_server.smtp.messages):
        msg = item["msg"]
        if item["to"] == [email] and f"第{number}版" in msg["Subject"]:
            text = msg.get_body(("plain",)).get_content()
            return re.search(r"http://minutes\.test(/minutes/versions/\d+)", text).group(1)
    raise AssertionError(f"no mail about version {number} to {email}")


def test_a_style_tag_in_the_minutes_hides_nothing_in_the_preview(live_server, new_page, people, shot):
    host, recorder, tech, product = people
    meeting_id = _recorded_meeting(live_server, host, recorder, tech, product)
    writer = new_page(recorder, viewport=(1366, 768))
    writer.goto(f"/meetings/{meeting_id}/minutes")
    writer.get_by_role("button", name="根据会中记录生成初稿").click()
    editor = writer.locator("#markdown")
    expect(editor).to_have_value(re.compile("## 一、会议基本信息"))
    draft = editor.input_value()
    preview = writer.locator("#minutes-preview")
    wait_for_htmx(writer)  # the new editor is wired up (htmx settled) before typing, or the input event is lost

    # A closed <style> goes with its rules; one typed as a word (never closed) is shown as typed.
    editor.fill("<style>#minutes-preview, body { display: none }</style>\n\n说明：页面不用 <style> 标签。\n\n" + draft)
    expect(preview).to_contain_text("说明：页面不用 <style> 标签。")
    expect(preview.get_by_text("五、待办事项跟踪表")).to_be_visible()
    expect(preview.locator("table.decisions tbody tr").first).to_be_visible()
    assert preview.locator("style, math").count() == 0
    assert "display: none" not in preview.inner_text()
    shot(writer, "minutes-preview-style-tag")
