"""Accounts and departments: creation, login checks, CSV import."""
import csv
import io
import re
from functools import lru_cache

from flask import current_app
from flask_babel import gettext
from pypinyin import Style, pinyin
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from minutes.core.errors import NotFound, PermissionDenied, ValidationFailed
from minutes.core.spreadsheets import csv_cell, looks_like_formula
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.people.models import Department, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Hashes of a throwaway password (one per method), checked when the username is unknown so timing does not tell.
_DUMMY_HASHES: dict[str, str] = {}


def hash_password(password: str) -> str:
    """The stored form of a password, at the configured method and cost (PASSWORD_HASH_METHOD)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def require_admin(actor: User) -> None:
    """Refuse unless the actor is an administrator."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(gettext("只有系统管理员可以执行此操作"))


def check_password(password_hash: str | None, password: str) -> bool:
    """Compare a password with a stored hash; an unknown account (None) costs the same and fails."""
    if password_hash is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = hash_password("not-a-real-password")
        check_password_hash(_DUMMY_HASHES[method], password or "")
        return False
    return check_password_hash(password_hash, password or "")


def authenticate(username: str, password: str) -> User | None:
    """Return the enabled user whose password matches, else None (same cost either way).

    Not throttled: logins go through `people.throttle.login`, which counts the attempt first."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if not check_password(user.password_hash if user else None, password):
        return None
    return user if user.is_enabled else None


def user_by_session_id(session_id: str) -> User | None:
    """Load the user for a Flask-Login id 'user_id:session_version'; stale versions get None."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    # Every page names the signed-in user's department (base.html): it comes in the same statement.
    user = db.session.get(User, user_id, options=[joinedload(User.department)])
    if user is None or user.session_version != version or not user.is_enabled:
        return None
    return user


def get_department(name: str, create: bool = False) -> Department:
    """Find a department by name, creating it when asked."""
    name = (name or "").strip()
    dept = db.session.scalar(select(Department).where(Department.name == name))
    if dept is None:
        if not create:
            raise NotFound(gettext("部门“%(name)s”不存在", name=name), field="department")
        problem = _department_name_problem(name)
        if problem:
            raise ValidationFailed(problem, field="name")
        dept = Department(name=name)
        db.session.add(dept)
        db.session.flush()
    return dept


def _department_name_problem(name: str) -> str | None:
    if not name:
        return gettext("请填写部门名称")
    if len(name) > 80:
        return gettext("部门名称不超过80个字")
    return None


def list_departments() -> list[Department]:
    """All departments by name."""
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def department_by_id(dept_id) -> Department:
    """Load a department or raise NotFound."""
    dept = get_by_id(Department, dept_id)
    if dept is None:
        raise NotFound(gettext("部门不存在"), field="department")
    return dept


def user_by_id(user_id) -> User:
    """Load a user or raise NotFound."""
    user = get_by_id(User, user_id)
    if user is None:
        raise NotFound(gettext("人员不存在"), field="user")
    return user


def user_by_username(username: str) -> User:
    """Load a user by username or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise NotFound(gettext("用户“%(username)s”不存在", username=username), field="username")
    return user


def users_of_department(dept_id: int) -> list[User]:
    """Enabled members of a department, by name."""
    return list(db.session.scalars(
        select(User).where(User.department_id == dept_id, User.is_enabled.is_(True)).order_by(User.name)
    ))


@lru_cache(maxsize=50_000)
def pinyin_keys(name: str) -> tuple[tuple[str, str], ...]:
    """A name's pinyin without tones and its initials, lowercase, for each reading of the surname.

    张伟 → (("zhangwei", "zw"),); 单田芳 → (("dantianfang", "dtf"), ("shantianfang", "stf"), …); Lily Wang → (("lilywang", "lw"),)
    """
    readings = pinyin(name or "", style=Style.NORMAL, heteronym=True)
    if not readings:
        return (("", ""),)
    rest = [part for chunk in readings[1:] for part in chunk[0].lower().split()]
    keys = []
    for surname in readings[0]:
        syllables = surname.lower().split() + rest
        keys.append(("".join(syllables), "".join(s[0] for s in syllables if s)))
    return tuple(dict.fromkeys(keys))


def find_people(query: str, limit: int = 20) -> list[User]:
    """Enabled people whose name, pinyin, initials or username match what was typed, best matches first."""
    typed = re.sub(r"\s+", "", query or "").lower()[:40]
    if not typed:
        return []
    ranked = []
    for user_id, name, username in db.session.execute(
            select(User.id, User.name, User.username).where(User.is_enabled.is_(True))):
        lowered = (name or "").lower()
        keys = pinyin_keys(name)
        rank = (0 if lowered == typed else 1 if lowered.startswith(typed) else 2 if typed in lowered
                else 3 if any(initials.startswith(typed) for _, initials in keys)
                else 4 if any(full.startswith(typed) for full, _ in keys)
                else 5 if (username or "").lower().startswith(typed)
                else 6 if any(typed in full for full, _ in keys) else None)
        if rank is not None:
            ranked.append((rank, keys[0][0], user_id))
    ids = [user_id for *_, user_id in sorted(ranked)[:limit]]
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids]


def enabled_users_by_ids(ids) -> list[User]:
    """The enabled people among these ids (ignoring anything that is not one), by name."""
    wanted = {i for i in map(parse_id, ids) if i is not None}
    if not wanted:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(wanted), User.is_enabled.is_(True))
                                   .order_by(User.name)))


def all_users() -> list[User]:
    """Every account, by department then name (each with its department: the join that orders them fills it)."""
    return list(db.session.scalars(select(User).join(Department, User.department_id == Department.id)
                                   .options(contains_eager(User.department)).order_by(Department.id, User.name)))


def _check_user_fields(username: str, name: str, email: str | None, password: str | None,
                       title: str | None = None) -> dict:
    errors = {}
    if not (username or "").strip():
        errors["username"] = gettext("请填写用户名")
    elif not USERNAME_RE.match(username):
        errors["username"] = gettext("用户名须为2–64位字母、数字、下划线、点或连字符")
    elif db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = gettext("用户名“%(username)s”已被使用", username=username)
    errors.update(_check_profile_fields(name, email, title))
    if password is not None and len(password) < 8:
        errors["password"] = gettext("密码至少8位")
    return errors


def _check_profile_fields(name: str, email: str | None, title: str | None) -> dict:
    """Check the fields an admin can edit later: name, email, title."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = gettext("请填写姓名")
    elif len(name) > 64:
        errors["name"] = gettext("姓名不超过64个字")
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        errors["email"] = gettext("邮箱“%(email)s”格式不正确，例如 zhangwei@example.com", email=email)
    if title and len(title.strip()) > 64:
        errors["title"] = gettext("职位不超过64个字")
    return errors


def create_user(username: str, name: str, department: str, password: str, email: str | None = None,
                is_admin: bool = False, title: str | None = None, create_department: bool = True,
                is_demo: bool = False, is_department_head: bool = False) -> User:
    """Create an account in a department (created if missing, when allowed)."""
    username = (username or "").strip()
    email = (email or "").strip() or None
    errors = _check_user_fields(username, name, email, password, title)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    dept = get_department(department, create=create_department)
    user = User(username=username, name=name.strip(), email=email, title=(title or "").strip() or None,
                password_hash=hash_password(password), department=dept, is_admin=is_admin,
                is_demo=is_demo, is_department_head=is_department_head)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Change a password and end every session of the user."""
    if len(password or "") < 8:
        raise ValidationFailed(gettext("密码至少8位"), field="password")
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.flush()


# --- administration --------------------------------------------------------------------------

def _department_field(department_id, errors: dict) -> Department | None:
    """Resolve a posted department id, or record why it cannot be used."""
    if not str(department_id or "").strip():
        errors["department_id"] = gettext("请选择部门")
        return None
    try:
        return department_by_id(department_id)
    except NotFound:
        errors["department_id"] = gettext("所选部门不存在，请刷新页面后重新选择")
        return None


def create_account(actor: User, *, username: str, name: str, department_id, password: str,
                   email: str | None = None, title: str | None = None, is_admin: bool = False,
                   is_department_head: bool = False) -> User:
    """Create an account in an existing department (admin only); every problem is reported at once."""
    require_admin(actor)
    username = (username or "").strip()
    email = (email or "").strip() or None
    errors = _check_user_fields(username, name, email, password or "", title)
    dept = _department_field(department_id, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return create_user(username, name, dept.name, password, email=email, is_admin=is_admin, title=title,
                       create_department=False, is_department_head=is_department_head)


def reset_password(actor: User, user: User, password: str) -> User:
    """Give a user a new password (admin only); every session of that user ends."""
    require_admin(actor)
    if user.id == actor.id:
        raise ValidationFailed(gettext("请在“个人设置”中修改自己的密码"), field="password")
    set_password(user, password)
    return user


def update_user(actor: User, user: User, *, name: str, email: str | None, department_id, title: str | None,
                is_admin: bool, is_enabled: bool, is_department_head: bool = False) -> User:
    """Change an account's details (admin only); disabling ends its sessions."""
    require_admin(actor)
    email = (email or "").strip() or None
    errors = _check_profile_fields(name, email, title)
    dept = _department_field(department_id, errors)
    if user.id == actor.id and not is_admin:
        errors["is_admin"] = gettext("不能取消自己的管理员权限")
    if user.id == actor.id and not is_enabled:
        errors["is_enabled"] = gettext("不能停用自己的账号")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    if user.is_enabled and not is_enabled:
        end_all_sessions(user)
    user.name, user.email, user.department, user.title = name.strip(), email, dept, (title or "").strip() or None
    user.is_admin, user.is_enabled, user.is_department_head = is_admin, is_enabled, is_department_head
    db.session.flush()
    return user


def list_users(department_id=None, query: str = "", status: str = "") -> list[tuple[Department, list[User]]]:
    """Accounts grouped by department, optionally one department, a name/username search, enabled or not."""
    stmt = (select(User).join(Department, User.department_id == Department.id)
            .order_by(Department.id, User.is_enabled.desc(), User.name))
    dept = get_by_id(Department, department_id) if department_id else None
    if department_id and dept is None:
        return []
    if dept is not None:
        stmt = stmt.where(User.department_id == dept.id)
    query = (query or "").strip()
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(User.name.ilike(pattern, escape="\\") | User.username.ilike(pattern, escape="\\")
                          | User.email.ilike(pattern, escape="\\"))
    if status == "enabled":
        stmt = stmt.where(User.is_enabled.is_(True))
    elif status == "disabled":
        stmt = stmt.where(User.is_enabled.is_(False))
    groups: list[tuple[Department, list[User]]] = []
    for user in db.session.scalars(stmt):
        if not groups or groups[-1][0].id != user.department_id:
            groups.append((user.department, []))
        groups[-1][1].append(user)
    return groups


def department_overview() -> list[dict]:
    """Every department with its enabled and disabled member counts and its heads."""
    counts = {
        (dept_id, enabled): n for dept_id, enabled, n in db.session.execute(
            select(User.department_id, User.is_enabled, func.count()).group_by(User.department_id, User.is_enabled))
    }
    heads: dict[int, list[User]] = {}
    for head in db.session.scalars(select(User).where(User.is_department_head.is_(True), User.is_enabled.is_(True))
                                   .order_by(User.name)):
        heads.setdefault(head.department_id, []).append(head)
    return [{"department": d, "members": counts.get((d.id, True), 0), "disabled": counts.get((d.id, False), 0),
             "heads": heads.get(d.id, [])} for d in list_departments()]


def create_department(actor: User, name: str) -> Department:
    """Add a department (admin only)."""
    require_admin(actor)
    name = (name or "").strip()
    problem = _department_name_problem(name)
    if problem:
        raise ValidationFailed(problem, field="name")
    if db.session.scalar(select(Department).where(Department.name == name)):
        raise ValidationFailed(gettext("部门“%(name)s”已存在", name=name), field="name")
    dept = Department(name=name)
    db.session.add(dept)
    db.session.flush()
    return dept


def rename_department(actor: User, dept: Department, name: str) -> Department:
    """Rename a department (admin only)."""
    require_admin(actor)
    name = (name or "").strip()
    problem = _department_name_problem(name)
    if problem:
        raise ValidationFailed(problem, field="name")
    clash = db.session.scalar(select(Department).where(Department.name == name, Department.id != dept.id))
    if clash:
        raise ValidationFailed(gettext("部门“%(name)s”已存在", name=name), field="name")
    dept.name = name
    db.session.flush()
    return dept


# --- CSV import ------------------------------------------------------------------------------

CSV_COLUMNS = {"部门": "department", "department": "department", "姓名": "name", "name": "name",
               "用户名": "username", "username": "username", "邮箱": "email", "email": "email",
               "职位": "title", "title": "title"}
#: The header of the sample file offered for download; `CSV_COLUMNS` also accepts the English names.
CSV_HEADER = ["部门", "姓名", "用户名", "邮箱", "职位"]
MAX_IMPORT_ERRORS = 50


class ImportFailed(ValidationFailed):
    """A CSV import refused as a whole; `lines` lists every problem by line, in Chinese."""

    def __init__(self, lines: list[str], fields: dict | None = None):
        shown = lines[:MAX_IMPORT_ERRORS]
        message = "；".join(shown) + (gettext("……（共%(count)s处问题）", count=len(lines)) if len(lines) > len(shown) else "")
        super().__init__(message, fields=fields or {"file": message})
        self.lines = shown
        self.total = len(lines)


def decode_csv(data: bytes | str) -> str:
    """Decode an uploaded CSV: UTF-8 (with or without BOM) or GBK/GB18030 as Excel saves it in China."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # Excel on Chinese Windows saves CSV as GBK
    except UnicodeDecodeError:
        raise ValidationFailed(gettext("无法识别文件编码，请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后再上传"),
                               field="file") from None


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Split CSV text (comma, or tab when pasted from Excel) into (line number, cells), skipping blank lines."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    rows = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error:
            raise ValidationFailed(gettext("第%(start)s行：引号不成对，无法解析", start=start), field="file") from None
        if any(cell.strip() for cell in row):
            rows.append((start, row))


def _formula_problems(record: dict) -> dict:
    """Cells a spreadsheet would run as a formula (=, +, -, @ first) or that hold a tab or line break."""
    labels = {"department": gettext("部门"), "name": gettext("姓名"), "username": gettext("用户名"),
              "email": gettext("邮箱"), "title": gettext("职位")}
    problems = {}
    for key, label in labels.items():
        value = record.get(key) or ""
        if any(ch in value for ch in "\t\r\n"):
            problems[key] = gettext("%(field)s中有制表符或换行，请删去", field=label)
        elif looks_like_formula(value):
            problems[key] = gettext("%(field)s“%(value)s”以“%(first)s”开头，表格软件会把它当作公式执行，请删去开头的“%(first)s”",
                                    field=label, value=value, first=value[0])
    return problems


def import_users_csv(actor: User, data: bytes | str, default_password: str) -> list[User]:
    """Import accounts from CSV (部门,姓名,用户名,邮箱[,职位]); all or nothing, errors by line."""
    require_admin(actor)
    fields = {}
    if len(default_password or "") < 8:
        fields["password"] = gettext("初始密码至少8位")
    try:
        rows = _csv_rows(decode_csv(data))
        if not rows:
            raise ValidationFailed(gettext("文件是空的：第1行应为表头 部门,姓名,用户名,邮箱,职位，其后每行一位人员"),
                                   field="file")
        header = [CSV_COLUMNS.get(cell.strip().lower(), CSV_COLUMNS.get(cell.strip())) for cell in rows[0][1]]
        missing = [label for label, key in (("部门", "department"), ("姓名", "name"), ("用户名", "username"))
                   if key not in header]
        if missing:
            raise ValidationFailed(gettext("第1行须为表头，缺少：%(missing)s（表头示例：部门,姓名,用户名,邮箱,职位）", missing='、'.join(missing)),
                                   field="file")
        if len(rows) == 1:
            raise ValidationFailed(gettext("文件只有表头，没有人员"), field="file")
    except ValidationFailed as exc:
        fields["file"] = exc.message
        raise ValidationFailed(next(iter(fields.values())), fields=fields) from None
    known = {d.name for d in list_departments()}
    seen: dict[str, int] = {}
    errors: list[str] = []
    parsed: list[dict] = []
    for lineno, row in rows[1:]:
        record = {key: (row[i].strip() if i < len(row) else "") for i, key in enumerate(header) if key}
        formulas = _formula_problems(record)
        if not record["department"]:
            errors.append(gettext("第%(lineno)s行：请填写部门", lineno=lineno))
        elif "department" not in formulas and record["department"] not in known:
            errors.append(gettext("第%(lineno)s行：部门“%(department)s”不存在，请先在部门管理中添加，或改为已有部门",
                                  lineno=lineno, department=record["department"]))
        problems = _check_user_fields(record["username"], record["name"], record.get("email") or None, None,
                                      record.get("title"))
        problems = {**{k: v for k, v in problems.items() if k not in formulas}, **formulas}
        errors.extend(gettext("第%(lineno)s行：%(problem)s", lineno=lineno, problem=msg) for msg in problems.values())
        if record["username"] and record["username"] in seen:
            errors.append(gettext("第%(lineno)s行：用户名“%(username)s”与第%(first)s行重复", lineno=lineno,
                                  username=record["username"], first=seen[record["username"]]))
        seen.setdefault(record["username"], lineno)
        parsed.append(record)
    if errors:
        raise ImportFailed(errors, fields=dict(fields, file=gettext("文件中有%(count)s处问题，全部未导入", count=len(errors))))
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields)
    return [create_user(r["username"], r["name"], r["department"], default_password, email=r.get("email"),
                        title=r.get("title"), create_department=False) for r in parsed]


def sample_csv(departments: list[Department]) -> str:
    """A small CSV that imports as is into this database: the header and two example people."""
    names = [d.name for d in departments[:2]] or ["客服部"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in (CSV_HEADER, [names[0], "张三", "zhangsan", "zhangsan@example.com", "客服专员"],
                [names[-1], "李四", "lisi", "lisi@example.com", ""]):
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of the user (logout, password change, disabling)."""
    user.session_version += 1
    db.session.flush()
