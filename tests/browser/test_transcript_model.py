"""The company's model in a real browser: the recorder presses 用模型生成建议, progress streams into the page over
the htmx SSE extension, the model's suggestions appear beside the rule-based ones (the vague one flagged), one is
accepted; after the meeting its summary draft goes into the minutes draft (插入模型摘要, once); an unreachable model
leaves the rule suggestions with a message."""
import re
import socket

import pytest
from playwright.sync_api import expect

from tests.browser import test_transcript_import as transcript_import
from tests.transcripts.model_server import ChatServer
from tests.browser.conftest import click_then_reload

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("meeting_day")]
SAMPLE, _started_meeting = transcript_import.SAMPLE, transcript_import._started_meeting
#: the live server's clock on the transcript's day (2026-06-15)
meeting_day = transcript_import.meeting_day


@pytest.fixture
def chat_server(live_server):
    server = ChatServer()
    saved = {k: live_server.app.config.get(k) for k in ("ASSIST_MODEL_URL", "ASSIST_MODEL", "ASSIST_TIMEOUT",
                                                           "ASSIST_RETRIES")}
    live_server.app.config.update(ASSIST_MODEL_URL=server.url, ASSIST_MODEL="qwen-test", ASSIST_TIMEOUT=5,
                                  ASSIST_RETRIES=0)
    yield server
    live_server.app.config.update(saved)
    server.stop()


def _imported(live_server, users, new_page):
    recorder, meeting_id = _started_meeting(live_server, users)
    page = new_page(recorder, viewport=(1366, 768))
    page.goto(f"/meetings/{meeting_id}/transcript")
    page.set_input_files("#tr-file", str(SAMPLE))
    click_then_reload(page, page.get_by_role("button", name="导入并生成建议"), re.compile(rf"/meetings/{meeting_id}/transcript$"))
    expect(page.locator(".tr-line")).to_have_count(54)
    return page


def test_model_suggestions_stream_into_the_page_and_are_accepted_like_the_rules(
        live_server, users, new_page, shot, chat_server):
    page = _imported(live_server, users, new_page)
    rules = page.locator(".tr-origin--rules").count()
    assert rules > 0
    chat_server.chunk, chat_server.chunk_delay = 30, 0.05  # a few seconds of streaming
    page.get_by_role("button", name="用模型生成建议").click()
    expect(page.locator("#assist-progress")).to_contain_text("已接收", timeout=5000)
    expect(page.locator("#assist-message")).to_contain_text("模型建议5条已加入", timeout=10000)
    expect(page.locator(".tr-sg .tr-origin--model")).to_have_count(5)
    expect(page.locator(".tr-sg .tr-origin--rules")).to_have_count(rules)
    expect(page.locator("#tr-summary")).to_contain_text("支付回调超时")
    vague = page.locator(".tr-sg", has=page.locator(".tr-origin--model"), has_text="含模糊表述“尽快”")
    expect(vague).to_have_count(1)
    shot(page, "transcript-model-suggestions-1366", full_page=False)

    # the vague one is accepted once it has a concrete date, through the room's rules
    vague.locator("input[name=due]").fill("6月30日")
    vague.get_by_role("button", name="采纳").click()
    expect(page.locator(".tr-sg--accepted", has_text="张伟排查升级工单信息不全的原因")).to_have_count(1)
    assert len(chat_server.requests) == 1

    # after the meeting the summary draft goes into the minutes draft, after a question, and only once
    meeting_id = int(re.search(r"/meetings/(\d+)/", page.url).group(1))
    _ended_with_a_draft(live_server, meeting_id)
    page.goto(f"/meetings/{meeting_id}/minutes")
    editor = page.locator("#markdown")
    expect(editor).not_to_contain_text("会议摘要")
    page.locator("#insert-summary").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("支付回调超时")
    shot(page, "minutes-insert-summary-confirm-1366", full_page=False)
    click_then_reload(page, dialog.get_by_role("button", name="确定"), re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(editor).to_have_value(re.compile(r"\*\*会议摘要\*\*：会议确定工作日升级投诉由技术部1个工作日内初步答复"))
    expect(page.locator("#minutes-preview")).to_contain_text("会议摘要")
    shot(page, "minutes-summary-inserted-1366", full_page=False)
    page.locator("#insert-summary").click()
    dialog.get_by_role("button", name="确定").click()
    expect(page.locator("#draft-status")).to_contain_text("该摘要已在纪要正文中")
    shot(page.locator(".editor-pane"), "minutes-summary-refused")
    assert editor.input_value().count("会议摘要") == 1

    # until the minutes go out, a suggestion accepted after the meeting goes into the record and the draft
    page.locator("#minutes-transcript").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/transcript$"))
    expect(page.locator("#late-note")).to_contain_text("纪要分发前")
    dispute = page.locator(".tr-sg--dispute.tr-sg--open", has_text="合规这块不能等")
    sid = dispute.get_attribute("id")
    dispute.get_by_role("button", name="采纳").click()
    expect(page.locator(f"#{sid}.tr-sg--accepted")).to_have_count(1)
    shot(page, "transcript-after-meeting-1366", full_page=False)
    page.locator("#back-to-minutes").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(editor).to_have_value(re.compile(r"### 议题二：投诉提报模板优化\n\n\*\*争议\*\*\n\n- \*\*.*合规这块不能等"))
    expect(editor).not_to_have_value(re.compile("### 议题二：投诉提报模板优化\n\n本议题未记录讨论要点"))


def _ended_with_a_draft(live_server, meeting_id):
    """End the meeting (every entry confirmed in the review) and open its minutes draft, in the server's process."""
    from minutes.extensions import db
    from minutes.meetings.models import Meeting
    from minutes.records import drafting
    from minutes.room import review

    with live_server.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        recorder = meeting.recorder
        review.enter_review(recorder, meeting)
        for entry in review.review_entries(meeting):
            review.confirm_entry(recorder, meeting, entry.review_key)
        review.finish_meeting(recorder, meeting)
        drafting.draft_from_record(recorder, meeting)
        db.session.commit()


def test_unreachable_model_leaves_the_rule_suggestions_with_a_message(
        live_server, users, new_page, chat_server):
    page = _imported(live_server, users, new_page)
    rules = page.locator(".tr-origin--rules").count()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    live_server.app.config["ASSIST_MODEL_URL"] = f"http://127.0.0.1:{port}/v1"
    page.get_by_role("button", name="用模型生成建议").click()
    expect(page.locator("#assist-message")).to_have_text("模型服务无法连接，已保留规则建议")
    expect(page.locator(".tr-sg .tr-origin--rules")).to_have_count(rules)
    expect(page.locator(".tr-origin--model")).to_have_count(0)
    expect(page.get_by_role("button", name="用模型生成建议")).to_be_visible()  # can be asked again
