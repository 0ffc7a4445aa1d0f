"""API operations for action tracking and the archive's search (the paged lists)."""

from flask import jsonify, request
from flask_babel import gettext, lazy_gettext

from minutes.actions import service as actions
from minutes.api import schemas
from minutes.api.core import _department_id, _user, me, operation
from minutes.api.room import work_item_json
from minutes.archive import search as archive
from minutes.archive.models import DocKind
from minutes.core import dates
from minutes.core.errors import ValidationFailed
from minutes.dbtypes import MAX_ID, parse_id


def _page_arg() -> int:
    """The `page` query argument of a paged list (1 when absent); a page past the end is answered empty."""
    page = request.args.get("page", "1").strip()
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 100000:
        raise ValidationFailed(gettext("page 须为正整数"), field="page")
    return int(page)


def _paged(total: int, page: int, per_page: int) -> dict:
    """What every paged list says about its paging: the page asked for and how many pages there are."""
    return {"total": total, "page": page, "pages": max(1, -(-total // per_page))}


def _date_arg(name: str):
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return dates.parse_day(value)
    except ValueError:
        raise ValidationFailed(gettext("%(name)s 须为日期，例如 2026-06-30", name=name), field=name) from None


@operation("/actions", "GET", lazy_gettext("待办跟踪：按负责人、部门、状态、截止日期筛选（我可见的会议中的待办）"),
           response={"type": "object", "required": ["total", "page", "pages", "actions"], "properties": {
               **schemas.PAGING, "actions": {"type": "array", "items": schemas.ACTION}}},
           query={"owner": {"type": "string"}, "department": {"type": "string"},
                  "status": {"type": "string", "enum": ["", "not_started", "in_progress", "done", "delayed",
                                                        "need_support", "open", "overdue", "escalated"]},
                  "due_before": schemas.OPTIONAL_DATE, "due_after": schemas.OPTIONAL_DATE,
                  "meeting": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                  "page": {"type": "integer", "minimum": 1, "maximum": 100000}},
           tag="actions")
def list_actions():
    status = request.args.get("status", "")
    if status and status not in actions.STATUS_FILTERS:
        raise ValidationFailed(gettext("status 取值无效"), field="status")
    owner = request.args.get("owner", "").strip()
    department = request.args.get("department", "").strip()
    meeting_arg = request.args.get("meeting", "").strip()
    page = _page_arg()
    if meeting_arg and parse_id(meeting_arg) is None:
        raise ValidationFailed(gettext("meeting 须为会议编号"), field="meeting")
    filters = actions.ActionFilters(
        owner_id=_user(owner, "owner").id if owner else None,
        department_id=_department_id(department, "department") if department else None,
        status=status, meeting_id=parse_id(meeting_arg),
        due_from=_date_arg("due_after"), due_to=_date_arg("due_before"), page=page)
    result = actions.list_actions(me(), filters)
    return jsonify(**_paged(result.total, result.page, actions.PAGE_SIZE),
                   actions=[work_item_json(a) for a in result.items])


@operation("/actions/<int:action_id>", "PATCH", lazy_gettext("负责人更新待办状态与进展（延期须给新日期，需支持须写明部门与所需支持）"),
           body=schemas.ACTION_PATCH, response=schemas.ACTION, tag="actions")
def patch_action(action_id, data):
    action = actions.get_action(me(), action_id)
    support = _department_id(data.get("support_department"), "support_department")
    actions.update_status(me(), action, data["status"], data.get("note", ""), data.get("new_due"), support,
                          version=data.get("version"), source="api")
    return jsonify(work_item_json(action))


# --- search ----------------------------------------------------------------------------------

@operation("/search", "GET", lazy_gettext("知识库检索：主题、目标、观点、决议、待办与定稿纪要的中文全文检索"),
           response=schemas.SEARCH_RESULTS, tag="archive",
           query={"q": {"type": "string"}, "department": {"type": "string"}, "from": schemas.OPTIONAL_DATE,
                  "to": schemas.OPTIONAL_DATE, "kind": {"type": "string", "enum": ["", *(k.value for k in DocKind)]},
                  "page": {"type": "integer", "minimum": 1, "maximum": 100000}})
def search():
    args = request.args
    page = _page_arg()
    found = archive.search_api(me(), q=args.get("q", ""), department=args.get("department"),
                               date_from=args.get("from"), date_to=args.get("to"), kind=args.get("kind"), page=page)
    return jsonify({**found, **_paged(found["total"], page, archive.API_PER_PAGE)})
