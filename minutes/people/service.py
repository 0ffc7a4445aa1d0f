"""Accounts and departments: creation, login checks, CSV import."""
import csv
import io
import re

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from minutes.core.errors import NotFound, PermissionDenied, ValidationFailed
from minutes.extensions import db
from minutes.people.models import Department, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A hash of a throwaway password, checked when the username is unknown so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def require_admin(actor: User) -> None:
    """Refuse unless the actor is an administrator."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied("只有系统管理员可以执行此操作")


def authenticate(username: str, password: str) -> User | None:
    """Return the enabled user whose password matches, else None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user if user.is_enabled else None


def user_by_session_id(session_id: str) -> User | None:
    """Load the user for a Flask-Login id 'user_id:session_version'; stale versions get None."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_enabled:
        return None
    return user


def get_department(name: str, create: bool = False) -> Department:
    """Find a department by name, creating it when asked."""
    name = (name or "").strip()
    dept = db.session.scalar(select(Department).where(Department.name == name))
    if dept is None:
        if not create:
            raise NotFound(f"部门“{name}”不存在", field="department")
        if not name:
            raise ValidationFailed("请填写部门名称", field="name")
        dept = Department(name=name)
        db.session.add(dept)
        db.session.flush()
    return dept


def list_departments() -> list[Department]:
    """All departments by name."""
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def department_by_id(dept_id) -> Department:
    """Load a department or raise NotFound."""
    dept = db.session.get(Department, int(dept_id)) if str(dept_id or "").isdigit() else None
    if dept is None:
        raise NotFound("部门不存在", field="department")
    return dept


def user_by_id(user_id) -> User:
    """Load a user or raise NotFound."""
    user = db.session.get(User, int(user_id)) if str(user_id or "").isdigit() else None
    if user is None:
        raise NotFound("人员不存在", field="user")
    return user


def user_by_username(username: str) -> User:
    """Load a user by username or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise NotFound(f"用户“{username}”不存在", field="username")
    return user


def users_of_department(dept_id: int) -> list[User]:
    """Enabled members of a department, by name."""
    return list(db.session.scalars(
        select(User).where(User.department_id == dept_id, User.is_enabled.is_(True)).order_by(User.name)
    ))


def all_users() -> list[User]:
    """Every account, by department then name."""
    return list(db.session.scalars(select(User).join(Department, User.department_id == Department.id)
                                   .order_by(Department.id, User.name)))


def _check_user_fields(username: str, name: str, email: str | None, password: str | None) -> dict:
    errors = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "用户名须为2–64位字母、数字、下划线、点或连字符"
    elif db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = f"用户名“{username}”已被使用"
    if not (name or "").strip():
        errors["name"] = "请填写姓名"
    if email and not EMAIL_RE.match(email):
        errors["email"] = f"邮箱“{email}”格式不正确"
    if password is not None and len(password) < 8:
        errors["password"] = "密码至少8位"
    return errors


def create_user(username: str, name: str, department: str, password: str, email: str | None = None,
                is_admin: bool = False, title: str | None = None, create_department: bool = True,
                is_demo: bool = False, is_department_head: bool = False) -> User:
    """Create an account in a department (created if missing, when allowed)."""
    username = (username or "").strip()
    email = (email or "").strip() or None
    errors = _check_user_fields(username, name, email, password)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    dept = get_department(department, create=create_department)
    user = User(username=username, name=name.strip(), email=email, title=(title or "").strip() or None,
                password_hash=generate_password_hash(password), department=dept, is_admin=is_admin,
                is_demo=is_demo, is_department_head=is_department_head)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Change a password and end every session of the user."""
    if len(password or "") < 8:
        raise ValidationFailed("密码至少8位", field="password")
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    db.session.flush()


def update_user(actor: User, user: User, *, name: str, email: str | None, department_id, title: str | None,
                is_admin: bool, is_enabled: bool, is_department_head: bool = False) -> User:
    """Change an account's details (admin only); disabling ends its sessions."""
    require_admin(actor)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "请填写姓名"
    email = (email or "").strip() or None
    if email and not EMAIL_RE.match(email):
        errors["email"] = f"邮箱“{email}”格式不正确"
    if user.id == actor.id and (not is_admin or not is_enabled):
        errors["is_admin"] = "不能取消自己的管理员权限或停用自己"
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    dept = department_by_id(department_id)
    if user.is_enabled and not is_enabled:
        user.session_version += 1
    user.name, user.email, user.department, user.title = name.strip(), email, dept, (title or "").strip() or None
    user.is_admin, user.is_enabled, user.is_department_head = is_admin, is_enabled, is_department_head
    db.session.flush()
    return user


def create_department(actor: User, name: str) -> Department:
    """Add a department (admin only)."""
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写部门名称", field="name")
    if len(name) > 80:
        raise ValidationFailed("部门名称不超过80个字", field="name")
    if db.session.scalar(select(Department).where(Department.name == name)):
        raise ValidationFailed(f"部门“{name}”已存在", field="name")
    dept = Department(name=name)
    db.session.add(dept)
    db.session.flush()
    return dept


def rename_department(actor: User, dept: Department, name: str) -> Department:
    """Rename a department (admin only)."""
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写部门名称", field="name")
    clash = db.session.scalar(select(Department).where(Department.name == name, Department.id != dept.id))
    if clash:
        raise ValidationFailed(f"部门“{name}”已存在", field="name")
    dept.name = name
    db.session.flush()
    return dept


CSV_COLUMNS = {"部门": "department", "department": "department", "姓名": "name", "name": "name",
               "用户名": "username", "username": "username", "邮箱": "email", "email": "email",
               "职位": "title", "title": "title"}


def import_users_csv(actor: User, data: bytes | str, default_password: str) -> list[User]:
    """Import accounts from CSV (部门,姓名,用户名,邮箱); all or nothing, errors by line."""
    require_admin(actor)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV as GBK
            except UnicodeDecodeError:
                raise ValidationFailed("无法识别文件编码，请另存为 UTF-8 编码的 CSV", field="file") from None
    else:
        text = data
    if len(default_password or "") < 8:
        raise ValidationFailed("初始密码至少8位", field="password")
    reader = csv.reader(io.StringIO(text))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise ValidationFailed("文件是空的", field="file")
    header = [CSV_COLUMNS.get(cell.strip().lower(), CSV_COLUMNS.get(cell.strip())) for cell in rows[0]]
    if {"department", "name", "username"} - set(header):
        raise ValidationFailed("第1行须为表头，至少包含：部门,姓名,用户名（可选：邮箱,职位）", field="file")
    known = {d.name for d in list_departments()}
    seen: set[str] = set()
    errors: list[str] = []
    parsed: list[dict] = []
    for lineno, row in enumerate(rows[1:], start=2):
        record = {key: (row[i].strip() if i < len(row) else "") for i, key in enumerate(header) if key}
        if record["department"] not in known:
            errors.append(f"第{lineno}行：部门“{record['department']}”不存在，请先在部门管理中添加")
        problems = _check_user_fields(record["username"], record["name"], record.get("email") or None, None)
        errors.extend(f"第{lineno}行：{msg}" for msg in problems.values())
        if record["username"] in seen:
            errors.append(f"第{lineno}行：用户名“{record['username']}”在文件中重复")
        seen.add(record["username"])
        parsed.append(record)
    if errors:
        raise ValidationFailed("；".join(errors[:20]) + ("……" if len(errors) > 20 else ""), field="file")
    return [create_user(r["username"], r["name"], r["department"], default_password, email=r.get("email"),
                        title=r.get("title"), create_department=False) for r in parsed]


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of the user (logout, password change, disabling)."""
    user.session_version += 1
    db.session.flush()
