"""The vague-wording check of the live meeting room: a decision's or action's wording and its deadline, read
as typed (`check_wording`, shown live under the form) and enforced when it is saved (`_resolve_due`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext

from minutes.calendar.service import work_calendar
from minutes.core import clarity
from minutes.core import dates
from minutes.core.errors import ValidationFailed
from minutes.core.timefmt import cn_date, local_today


class VagueWording(ValidationFailed):
    """A decision or action still contains vague wording; `findings` lists the terms and fixes."""

    code = "vague_wording"

    def __init__(self, message: str, findings: list, field: str = "text"):
        super().__init__(message, field=field)
        self.findings = findings

@dataclass
class WordingCheck:
    """The live check of a decision or action: vague terms with fixes, and the deadline read."""

    clarity: clarity.Clarity
    due_clarity: clarity.Clarity | None = None
    due_date: date | None = None
    #: "due" when read from the deadline field, "text" when read from the content.
    due_source: str | None = None
    due_error: str | None = None
    findings: list = field(default_factory=list)
    #: The fix offered for a vague time: "3个工作日内" read as a date, 2026年6月3日（周三）.
    example_due: str = ""
    #: The deadline was read from a week or a month without a day (下周, 月底): an interpretation.
    due_is_period: bool = False
    #: The ISO date the writer ticked as confirmed (the check box "确认截止日期为…").
    confirmed: str = ""

    @property
    def needs_confirm(self) -> bool:
        """Tell whether the date read from a period waits for the writer's confirmation."""
        return self.due_is_period and self.due_date is not None and not self.due_error

    @property
    def is_confirmed(self) -> bool:
        return self.needs_confirm and self.confirmed == self.due_date.isoformat()

    @property
    def confirm_message(self) -> str:
        return gettext("将理解为 %(due_date)s，请确认或改为具体日期", due_date=self.due_label) if self.needs_confirm else ""

    @property
    def due_label(self) -> str:
        return clarity.describe_deadline(self.due_date) if self.due_date else ""

    @property
    def is_clear(self) -> bool:
        return not self.findings and not self.due_error


def _read_due(value: str, today: date, calendar) -> date | None:
    if dates.is_day(value):
        try:
            return dates.parse_day(value)
        except ValueError:
            return None
    return clarity.parse_deadline(value, today, calendar)


def check_wording(text: str, due: str | date | None = "", today: date | None = None,
                  confirmed: str | None = "", calendar=None) -> WordingCheck:
    """Check a decision or action as typed: vague terms, and the deadline as a date.

    The deadline is read from the deadline field (a date, or a phrase such as "3个工作日内"
    counted on the company's working-day calendar from today), or, when that is empty, from
    the content itself ("…6月30日前完成"). A week or a month without a day (下周, 本月, 月底,
    下个月) is read as a date the writer must confirm (`confirmed`: that date, ISO) or replace.
    `calendar`: the working-day calendar when the caller already holds it (a transcript checks many lines).
    """
    today = today or local_today()
    calendar = calendar or work_calendar()
    text = text or ""
    result = WordingCheck(clarity=clarity.check_item(text, today, calendar), confirmed=(confirmed or "").strip())
    result.findings = list(result.clarity.findings)
    result.example_due = clarity.describe_deadline(calendar.add_workdays(today, 3))
    if isinstance(due, date):
        result.due_date, result.due_source = due, "due"
    elif (due or "").strip():
        due = due.strip()
        result.due_clarity = clarity.check_item(due, today, calendar)
        result.findings += result.due_clarity.findings
        result.due_date = _read_due(due, today, calendar)
        result.due_source = "due"
        deadline = result.due_clarity.deadline
        result.due_is_period = bool(deadline and deadline.period and not dates.is_day(due))
        if result.due_date is None:
            example = clarity.example_deadline(today)
            result.due_error = gettext("无法识别完成时限“%(due)s”：请填写日期（如%(iso)s、%(md)s）或“3个工作日内”“本周五”等",
                                       due=due, iso=example.isoformat(), md=f"{example.month}月{example.day}日")
    elif result.clarity.parsed_due:
        result.due_date, result.due_source = result.clarity.parsed_due, "text"
        result.due_is_period = result.clarity.deadline.period
    if result.due_date and result.due_date < today and not result.due_error:
        result.due_error = gettext("完成时限%(due_date)s早于今天", due_date=cn_date(result.due_date))
    return result


def _resolve_due(text: str, due, required: bool, what: str, due_confirmed: str | None = "") -> tuple[date | None, str]:
    """Refuse vague wording, unreadable or missing deadlines, and a deadline read from a week or a month
    without a day until its date is confirmed; return the date and the phrase typed."""
    check = check_wording(text, due, confirmed=due_confirmed)
    if check.findings:
        terms = "、".join(f"“{f.term}”" for f in check.findings)
        raise VagueWording(gettext("%(what)s含模糊表述%(terms)s，请按提示改为具体的时限、标准或责任人后再保存", what=what, terms=terms),
                           check.findings)
    if check.due_error:
        raise ValidationFailed(check.due_error, field="due")
    if required and check.due_date is None:
        raise ValidationFailed(gettext("%(what)s须有明确的完成时限（日期，或“3个工作日内”等）", what=what), field="due")
    if check.needs_confirm and not check.is_confirmed:
        if not required and check.due_source == "text":
            # a decision's wording that names a week or a quarter ("Q2预算上调5%") sets no deadline unless confirmed
            return None, ""
        raise ValidationFailed(check.confirm_message, field="due")
    due_text = due.strip()[:100] if isinstance(due, str) else ""
    return check.due_date, due_text
