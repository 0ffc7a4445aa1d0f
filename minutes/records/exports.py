"""Files people take away: Markdown, Word (.docx), Excel (.xlsx) of the action table, iCalendar (.ics).

Each function takes a version already checked by the service (permission and integrity) and
returns bytes. The Word file is built from the same sanitized HTML the page shows, so what a
user typed reaches Word only as text, never as markup.
"""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from flask_babel import gettext, lazy_gettext

from minutes.actions.models import ActionItem
from minutes.core import dates
from minutes.core import ical
from minutes.core.spreadsheets import keep_text
from minutes.core.timefmt import cn_date, cn_datetime, cn_time, to_local, utcnow
from minutes.extensions import db
from minutes.records import render
from minutes.records.models import MinutesVersion

TITLE_SUFFIX = lazy_gettext("会议纪要")
EAST_ASIAN_FONT = "宋体"
HEADING_FONT = "黑体"


def document_title(version: MinutesVersion) -> str:
    return f"{version.meeting.topic} {TITLE_SUFFIX}"


def file_name(version: MinutesVersion, ext: str, what: str = TITLE_SUFFIX) -> str:
    """主题-日期-会议纪要-第2版.docx: the archive's 会议主题-日期 naming, safe on every system."""
    topic = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", version.meeting.topic).strip(" ._") or gettext("会议")
    day = to_local(version.meeting.starts_at).strftime("%Y%m%d")
    return gettext("%(topic)s-%(day)s-%(what)s-第%(number)s版.%(ext)s", topic=topic[:60], day=day, what=what,
                   number=version.number, ext=ext)


def status_line(version: MinutesVersion) -> str:
    if version.is_final:
        state = gettext("已定稿（%(time)s）", time=cn_datetime(version.finalized_at))
    else:
        state = gettext("征求意见稿")
    kind = gettext("，更正第%(number)s版", number=version.corrects.number) if version.corrects else ""
    return f"{version.label}{kind} · {state}"


def preface_lines(version: MinutesVersion) -> list[str]:
    lines = [f"> {status_line(version)}  ", "> " + gettext("内容哈希（SHA-256）：%(hash)s", hash=version.content_hash)]
    if version.is_correction and version.note:
        lines[-1] += "  "
        lines.append("> " + gettext("更正原因：%(note)s", note=" ".join(version.note.split())))
    if version.final_reason:
        lines[-1] += "  "
        lines.append("> " + gettext("定稿说明（主持人）：%(reason)s", reason=" ".join(version.final_reason.split())))
    return lines


def markdown_bytes(version: MinutesVersion) -> bytes:
    """The whole minutes as one Markdown file (UTF-8)."""
    text = render.document_markdown(document_title(version), version.body, version.decisions, version.actions,
                                    preface_lines(version))
    return text.encode("utf-8")


# --- Word ------------------------------------------------------------------------------------

def _set_fonts(style, east_asian: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style.font.name = "Times New Roman"
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
    if size_pt:
        style.font.size = Pt(size_pt)
    if bold is not None:
        style.font.bold = bold
    style.font.color.rgb = RGBColor(0x1F, 0x23, 0x29)


class _DocxWriter(HTMLParser):
    """Write sanitized minutes HTML into a python-docx document: headings, paragraphs, lists, tables."""

    HEADINGS = {"h1": 1, "h2": 1, "h3": 2, "h4": 3, "h5": 3, "h6": 3}

    def __init__(self, doc):
        super().__init__(convert_charrefs=True)
        self.doc = doc
        self.paragraph = None
        self.marks: list[str] = []
        self.lists: list[list] = []  # [kind, counter]
        self.table_rows: list[list[tuple[str, bool]]] | None = None
        self.cell: list[str] | None = None
        self.cell_is_header = False
        self.href: str | None = None

    # paragraphs
    def _new_paragraph(self, style=None):
        self.paragraph = self.doc.add_paragraph(style=style)
        return self.paragraph

    def _text(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
            return
        if not text.strip() and self.paragraph is None:
            return
        if self.paragraph is None:
            self._new_paragraph()
        run = self.paragraph.add_run(text)
        run.bold = "b" in self.marks or None
        run.italic = "i" in self.marks or None
        run.font.strike = "s" in self.marks or None

    def handle_starttag(self, tag, attrs):
        if tag in self.HEADINGS:
            self.paragraph = self.doc.add_heading(level=self.HEADINGS[tag])
        elif tag == "p":
            if self.cell is None and not (self.lists and self.paragraph is not None):
                self._new_paragraph()
        elif tag in ("ul", "ol"):
            start = dict(attrs).get("start")
            self.lists.append([tag, int(start) - 1 if start and start.isdecimal() else 0])
            self.paragraph = None
        elif tag == "li":
            kind = self.lists[-1] if self.lists else ["ul", 0]
            depth = max(0, len(self.lists) - 1)
            if kind[0] == "ol":
                kind[1] += 1
                self._new_paragraph()
                self.paragraph.paragraph_format.left_indent = _cm(0.75 * (depth + 1))
                self.paragraph.paragraph_format.first_line_indent = _cm(-0.6)
                self.paragraph.add_run(f"{kind[1]}. ")
            else:
                self._new_paragraph("List Bullet" if depth == 0 else "List Bullet 2")
        elif tag in ("strong", "b"):
            self.marks.append("b")
        elif tag in ("em", "i"):
            self.marks.append("i")
        elif tag in ("del", "s"):
            self.marks.append("s")
        elif tag == "br":
            if self.cell is not None:
                self.cell.append("\n")
            elif self.paragraph is not None:
                self.paragraph.add_run().add_break()
        elif tag == "blockquote":
            self._new_paragraph("Quote")
        elif tag == "hr":
            self.paragraph = None
        elif tag == "a":
            self.href = dict(attrs).get("href")
        elif tag == "table":
            self.table_rows = []
        elif tag == "tr" and self.table_rows is not None:
            self.table_rows.append([])
        elif tag in ("td", "th") and self.table_rows is not None:
            self.cell, self.cell_is_header = [], tag == "th"

    def handle_endtag(self, tag):
        if tag in self.HEADINGS or tag in ("p", "li", "blockquote", "pre"):
            if not (tag == "p" and self.lists):
                self.paragraph = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.paragraph = None
        elif tag in ("strong", "b", "em", "i", "del", "s") and self.marks:
            self.marks.pop()
        elif tag == "a":
            if self.href and self.href.startswith(("http://", "https://")):
                self._text(f"（{self.href}）")
            self.href = None
        elif tag in ("td", "th") and self.cell is not None and self.table_rows:
            self.table_rows[-1].append(("".join(self.cell).strip(), self.cell_is_header))
            self.cell = None
        elif tag == "table" and self.table_rows is not None:
            rows = [r for r in self.table_rows if r]
            if rows:
                add_table(self.doc, [c for c, _ in rows[0]], [[c for c, _ in r] for r in rows[1:]])
            self.table_rows = None
            self.paragraph = None

    def handle_data(self, data):
        if self.table_rows is not None and self.cell is None:
            return  # whitespace between cells
        if self.cell is None and self.paragraph is None and not data.strip():
            return
        self._text(data.replace("\n", "") if self.cell is None else data)


def _cm(value: float):
    from docx.shared import Cm

    return Cm(value)


def add_table(doc, columns, rows, widths_cm=None):
    """A real Word table with a bold, repeating header row."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    header = table.rows[0]
    tr_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for cell, title in zip(header.cells, columns):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(title))
        run.bold = True
        run.font.size = Pt(10)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            lines = str(value).split("\n")
            cell.text = ""
            paragraph = cell.paragraphs[0]
            for i, line in enumerate(lines):
                run = paragraph.add_run(line)
                run.font.size = Pt(10)
                if i < len(lines) - 1:
                    run.add_break()
    if widths_cm:
        for row in table.rows:
            for cell, width in zip(row.cells, widths_cm):
                cell.width = _cm(width)
    doc.add_paragraph()
    return table


def docx_bytes(version: MinutesVersion) -> bytes:
    """The minutes as a Word document (A4), the two tables as real Word tables."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(22)
    _set_fonts(doc.styles["Normal"], EAST_ASIAN_FONT, 10.5)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 11)):
        _set_fonts(doc.styles[name], HEADING_FONT, size, bold=True)
    for name in ("List Bullet", "List Bullet 2", "Quote"):
        _set_fonts(doc.styles[name], EAST_ASIAN_FONT, 10.5)
    doc.core_properties.title = document_title(version)
    doc.core_properties.subject = f"{version.label} {version.content_hash}"
    doc.core_properties.author = version.created_by.name

    title = doc.add_paragraph(document_title(version), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = meta.add_run(status_line(version))
    run.font.size = Pt(9)
    if version.is_correction and version.note:
        note = doc.add_paragraph(style="Quote")
        note.add_run(gettext("更正说明：")).bold = True
        note.add_run(version.note)

    writer = _DocxWriter(doc)
    writer.feed(str(render.markdown_html(version.body)))
    writer.close()

    doc.add_heading(str(render.DECISIONS_HEADING), level=1)
    if version.decisions:
        add_table(doc, render.DECISION_COLUMNS, [render.decision_cells(d) for d in version.decisions],
                  [1.2, 6.6, 3.0, 2.6, 2.6])
    else:
        doc.add_paragraph(str(render.NO_DECISIONS))
    doc.add_heading(str(render.ACTIONS_HEADING), level=1)
    if version.actions:
        add_table(doc, render.ACTION_COLUMNS, [render.action_cells(a) for a in version.actions],
                  [1.2, 5.6, 3.0, 2.4, 2.4, 1.6])
    else:
        doc.add_paragraph(str(render.NO_ACTIONS))

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot = footer.add_run(f"{version.meeting.topic} · {version.label} · SHA-256 {version.content_hash[:16]}…")
    foot.font.size = Pt(8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- Excel -----------------------------------------------------------------------------------

ACTION_SHEET = lazy_gettext("待办事项跟踪表")
XLSX_COLUMNS = (lazy_gettext("序号"), lazy_gettext("议题"), lazy_gettext("任务描述"), lazy_gettext("负责部门"),
                lazy_gettext("负责人"), lazy_gettext("配合部门"), lazy_gettext("截止时间"), lazy_gettext("纪要中的状态"),
                lazy_gettext("最新状态"))
#: Column widths (characters): about 120 in all, so a landscape A4 page holds every column near full size.
XLSX_WIDTHS = (5, 18, 36, 10, 8, 14, 11, 9, 9)


def _print_setup(ws, landscape: bool, title_rows: str | None = None) -> None:
    """Print a sheet on A4, every column on one page width, as many pages down as it takes."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    ws.print_options.gridLines = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = gettext("第 &P 页，共 &N 页")


def xlsx_bytes(version: MinutesVersion) -> bytes:
    """The action table as a spreadsheet: one row per action, dates as real dates, plus an about sheet.

    Every text cell is text, never a formula (`core.spreadsheets.keep_text`); the table prints landscape,
    one page wide, its header row on every page.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    live = {a.id: a for a in db.session.scalars(
        db.select(ActionItem).where(ActionItem.id.in_([a["id"] for a in version.actions] or [-1])))}
    wb = Workbook()
    ws = wb.active
    ws.title = str(ACTION_SHEET)
    ws.append([str(c) for c in XLSX_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8F0FD")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for a in version.actions:
        current = live.get(a["id"])
        latest = current.status.label if current is not None and current.deleted_at is None else gettext("（已删除）")
        ws.append([a["no"], a.get("item") or "", a["text"], a.get("owner_department") or "", a.get("owner") or "",
                   "、".join(a.get("cooperating") or []), dates.parse_day(a["due"]) if a.get("due") else None,
                   a.get("status") or "", latest])
        ws.cell(row=ws.max_row, column=7).number_format = "yyyy-mm-dd"
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(XLSX_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{max(ws.max_row, 1)}"
    _print_setup(ws, landscape=True, title_rows="1:1")

    about = wb.create_sheet(gettext("说明"))
    meeting = version.meeting
    for row in ((gettext("会议主题"), meeting.topic),
                (gettext("会议时间"), f"{cn_date(meeting.starts_at)} {cn_time(meeting.starts_at)}"),
                (gettext("纪要版本"), status_line(version)), (gettext("内容哈希（SHA-256）"), version.content_hash),
                (gettext("导出时间"), cn_datetime(utcnow()))):
        about.append(list(row))
        for cell in about[about.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 70
    _print_setup(about, landscape=False)
    keep_text(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- iCalendar -------------------------------------------------------------------------------

def ics_bytes(version: MinutesVersion, link: str) -> bytes:
    """The meeting and every action deadline (all-day events) as an iCalendar file."""
    meeting = version.meeting
    host = link.split("/")[2] if "://" in link else "minutes"
    cal = ical.new_calendar(name=gettext("%(topic)s（会议及待办截止）", topic=meeting.topic))
    now = utcnow()
    cal.add_component(ical.timed_event(ical.meeting_uid(meeting.id, host), meeting.starts_at, meeting.ends_at,
                                       meeting.topic, now, location=meeting.location or meeting.online_link,
                                       description=gettext("核心目标：%(goal)s\n会议纪要：%(link)s", goal=meeting.goal,
                                                           link=link), url=link))
    live = {a.id: a for a in db.session.scalars(
        db.select(ActionItem).where(ActionItem.id.in_([a["id"] for a in version.actions] or [-1])))}
    for a in version.actions:
        current = live.get(a["id"])
        if current is not None and current.deleted_at is not None:
            continue
        due = current.due_date if current is not None else dates.parse_day(a["due"])
        cal.add_component(ical.deadline_event(
            f"action-{a['id']}@{host}", due, gettext("待办截止：%(text)s", text=a["text"][:60]), now,
            description=gettext("负责人：%(owner)s\n配合部门：%(cooperating)s\n来自会议：%(topic)s（%(day)s）\n%(link)s",
                                owner=render.owner_text(a), cooperating="、".join(a.get("cooperating") or []) or "—",
                                topic=meeting.topic, day=cn_date(meeting.starts_at), link=link),
            categories=[gettext("待办")]))
    return ical.to_bytes(cal)
