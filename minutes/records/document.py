"""The minutes document: sections 一 to 三 in Markdown, written from the record by templates/records/minutes.md, and
the pieces of it that editing a saved draft writes alone (a late point, an item's heading, the references to the
decision and action tables). Presentation only: the rules of the draft live in drafting.py."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext

from minutes.meetings.models import Meeting, Role
from minutes.records.service import SECTION_TITLES, cn_number
from minutes.room.models import AttendanceStatus, PointKind

TEMPLATE = "records/minutes.md"
PARTS = "records/_minutes_parts.md"
#: The order of an item's points in the document.
KINDS = (PointKind.VIEWPOINT, PointKind.DISPUTE, PointKind.CONSENSUS)


def markdown(meeting: Meeting, attendance_rows: list, items: list, references: dict[int, list[str]]) -> str:
    """Sections 一 to 三 as written from the record (not yet normalized): `items` are the room's item views,
    `references` each item number's lines pointing into the decision and action tables."""
    present = [r for r in attendance_rows if r.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)]
    by_department: dict[str, list] = {}
    for row in present:
        by_department.setdefault(row.user.department.name, []).append(row)
    return render_template(
        TEMPLATE, meeting=meeting, sections=[str(title) for title in SECTION_TITLES], present=present,
        by_department=list(by_department.items()),
        late=[r for r in attendance_rows if r.status == AttendanceStatus.LATE],
        absent=[r for r in attendance_rows if r.status == AttendanceStatus.ABSENT],
        unchecked=[r for r in attendance_rows if r.status == AttendanceStatus.PENDING],
        cc=[p.user for p in meeting.participants if p.role == Role.CC],
        items=items, kinds=KINDS, references=references, nothing_recorded=nothing_recorded(),
        cn_number=cn_number, round=round)


def _parts():
    return current_app.jinja_env.get_template(PARTS).module


def point_line(point) -> str:
    """A recorded point as its list item: "- **客服部**（赵敏）：…"."""
    return str(_parts().point_line(point))


def item_heading(number: int, title: str) -> str:
    """An agenda item's heading in section 三 ("### 议题一：…"); with an empty title, the start of every heading of
    that item."""
    return str(_parts().item_heading(cn_number(number), title))


def kind_heading(kind: PointKind) -> str:
    """The line above an item's points of one kind ("**观点**")."""
    return str(_parts().kind_heading(kind))


def references() -> tuple[str, str]:
    """How an item's reference to the decision table, and to the action table, starts."""
    return gettext("**决议**：见“决议事项汇总”"), gettext("**待办**：见“待办事项跟踪表”")


def reference_lines(item_no: int, decisions: list[dict], actions: list[dict]) -> list[str]:
    """Where an item's decisions and actions stand in the tables: "**决议**：见“决议事项汇总”第1、2项。"."""
    lines = []
    for prefix, rows in zip(references(), (decisions, actions)):
        numbers = [str(row["no"]) for row in rows if row["item_no"] == item_no]
        if numbers:
            lines.append(prefix + gettext("第%(numbers)s项。", numbers="、".join(numbers)))
    return lines


def nothing_recorded() -> str:
    """What an item with nothing recorded says."""
    return gettext("本议题未记录讨论要点。")


def agenda_review() -> str:
    """How the agenda review of section 二 starts (a summary goes before it)."""
    return f"**{gettext('议程回顾')}**"


def summary_label() -> str:
    """How the summary paragraph starts in section 二."""
    return f"**{gettext('会议摘要')}**："
