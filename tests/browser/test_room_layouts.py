"""The room on the devices it is used on: an attendee's phone (390 px) and the projector (1920×1080)."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS_DIR as SHOTS

pytestmark = pytest.mark.browser

ITEMS = ["客户投诉升级后的处理时效", "投诉提报模板优化", "客服与技术的问题交接规范", "售后回访流程调整", "季度投诉数据复盘"]
LONG_POINT = ("技术部认为当前投诉升级流程中存在三个主要卡点：一是客服提交工单时缺少复现步骤和用户环境信息，技术人员需要反复"
              "回访确认；二是夜间和周末没有明确的值班接口人，紧急投诉只能等到下一个工作日处理；三是工单系统与即时通讯"
              "工具之间没有打通，状态变化需要人工同步，容易遗漏。建议先补齐工单模板的必填字段，再建立轮值表，"
              "最后评估系统对接的工作量，分三步推进，每一步都由客服部与技术部共同验收。") * 2


def _full_room(live_server, users, current=2):
    """A started meeting with five items; the current one has points, a long point, 3 decisions and 5 actions."""
    from minutes.core import timefmt
    from minutes.core.workdays import add_workdays
    from minutes.extensions import db
    from minutes.meetings import service as meetings
    from minutes.people.models import User
    from minutes.room import service as room
    from minutes.room import recording

    host = users("wangzc", "王主持", dept="客服部", title="客服总监")
    recorder = users("lijl", "李记录", dept="客服部")
    attendee = users("zhangjs", "张技术", dept="技术部", title="技术经理")
    product = users("zhoucp", "周产品", dept="产品部")
    with live_server.app.app_context():
        actor = db.session.get(User, host.id)
        rec = db.session.get(User, recorder.id)
        start = timefmt.utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
        meeting = meetings.create_meeting(actor, meetings.MeetingInput(
            topic="解决客户投诉处理流程卡点", goal="明确投诉处理各环节的部门职责与时限", expected_outcome="形成行动方案",
            scenario="problem", starts_at=start, ends_at=start + timedelta(minutes=120),
            location="3号楼 301会议室", organizer_department_id=actor.department_id))
        for title in ITEMS:
            meetings.add_agenda_item(actor, meeting, title, 20, attendee.department_id)
        meetings.invite(actor, meeting, [recorder.id], "recorder")
        meetings.invite(actor, meeting, [attendee.id, product.id], "participant")
        room.start_meeting(rec, meeting)
        item = meeting.agenda_items[current]
        room.set_current_item(rec, meeting, item.id)
        recording.add_point(rec, meeting, item.id, "viewpoint", "客服部希望交接时附带完整的通话记录", actor.department_id)
        recording.add_point(rec, meeting, item.id, "dispute", "夜间值班由哪个部门承担", party_ids=[actor.department_id,
                                                                                      attendee.department_id])
        recording.add_point(rec, meeting, item.id, "viewpoint", LONG_POINT, attendee.department_id, attendee.id)
        due = add_workdays(timefmt.to_local(timefmt.utcnow()).date(), 5)
        for n in range(3):
            recording.add_decision(rec, meeting, item.id, f"第{n + 1}项决议：交接单必须包含复现步骤和用户环境信息",
                                   owner_department_id=attendee.department_id)
        for n in range(5):
            recording.add_action(rec, meeting, item.id, f"第{n + 1}项待办：整理交接模板并在客服部试行一周后汇报效果",
                                 owner_department_id=attendee.department_id, owner_id=attendee.id,
                                 cooperating_department_ids=[actor.department_id], due=due.isoformat())
        db.session.commit()
        return meeting.id, recorder, attendee


def test_phone_attendee_view_follows_the_current_item_and_shows_the_whole_agenda(live_server, users, new_page, shot):
    meeting_id, recorder, attendee = _full_room(live_server, users, current=3)
    phone = new_page(attendee, viewport=(390, 844))
    phone.goto(f"/meetings/{meeting_id}/room")
    current = phone.locator(f"#room-items [data-current], #room-items .is-current").first
    expect(current).to_be_visible()
    expect(current).to_contain_text(ITEMS[3])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    box = current.bounding_box()
    assert 0 <= box["y"] < 844 * 0.6, f"the current item is not in view on arrival: {box}"
    # as the phone shows it on arrival (shot() would scroll to the top first)
    phone.screenshot(path=str(SHOTS / "room-phone-390.png"), animations="disabled")
    shot(phone, "room-phone-390-full")
    # every agenda item is on the phone's width, none cut off at the edge of a sideways strip
    entries = phone.locator(".room-agenda li")
    expect(entries).to_have_count(len(ITEMS))
    for n in range(len(ITEMS)):
        box = entries.nth(n).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"agenda item {n + 1} is cut off: {box}"


def test_shared_screen_shows_every_action_and_the_start_of_a_long_point(live_server, users, new_page, shot):
    meeting_id, recorder, attendee = _full_room(live_server, users, current=2)
    screen = new_page(recorder, viewport=(1920, 1080))
    screen.goto(f"/meetings/{meeting_id}/screen")
    expect(screen.locator("body")).to_contain_text("第5项待办")
    shot(screen, "screen-1920", full_page=False)
    for n in range(1, 6):
        action = screen.locator(".screen-main", has_text=f"第{n}项待办").locator(f"text=第{n}项待办").first
        expect(action).to_be_in_viewport()
    # the newest point is long: its department and its first words are on screen, not only its end
    newest = screen.locator(".sp").last
    expect(newest.locator(".sp-who")).to_be_in_viewport()
    expect(newest.locator(".sp-who")).to_contain_text("技术部")


def test_recorder_speed_speaker_sets_department_chips_by_keyboard_and_alt_n(live_server, users, new_page, shot):
    meeting_id, recorder, attendee = _full_room(live_server, users, current=0)
    users("xuecw", "薛财务", dept="财务部")  # a department not in the meeting: its chip comes after
    console = new_page(recorder, viewport=(1366, 768))
    console.goto(f"/meetings/{meeting_id}/room")
    form = console.locator("#point-form")
    # the speaker brings their department
    console.select_option("#entry-point-speaker", label="张技术 · 技术部")
    expect(console.locator("#entry-point-dept option:checked")).to_have_text("技术部")
    console.select_option("#entry-point-speaker", label="李记录 · 客服部")
    expect(console.locator("#entry-point-dept option:checked")).to_have_text("客服部")
    # 争议: the meeting's departments come first, and are ticked from the keyboard
    console.locator("#entry-point-text").press("Alt+2")
    chips = console.locator("#entry-point-party_ids input")
    names = console.locator("#entry-point-party_ids label").all_inner_texts()
    assert names.index("财务部") > max(names.index("客服部"), names.index("技术部"), names.index("产品部")), names
    chips.first.focus()
    console.keyboard.press("Space")
    console.keyboard.press("ArrowRight")
    console.keyboard.press("Space")
    expect(console.locator("#entry-point-party_ids input:checked")).to_have_count(2)
    console.locator("#entry-point-text").fill("夜间值班由哪个部门承担")
    console.locator("#entry-point-text").press("Enter")
    expect(console.locator(f"#room-items .point.kind-dispute", has_text="夜间值班由哪个部门承担").last).to_contain_text("↔")
    shot(console, "room-console-speed-1366", full_page=False)
    # Alt+N: on to the next agenda item
    expect(console.locator("#room-head")).to_contain_text(ITEMS[0])
    console.keyboard.press("Alt+KeyN")
    expect(console.locator("#room-head .now-title")).to_have_text(ITEMS[1])
    expect(form).to_be_visible()
