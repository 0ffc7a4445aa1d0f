"""LDAP / Active Directory: sign-in by bind, and the directory as an org-chart source for the sync.

Sign-in binds as the user: with LDAP_USER_DN_TEMPLATE directly ("uid={username},ou=people,..." or AD's
"{username}@corp.example.com"), otherwise the service account (LDAP_BIND_DN) finds the user's entry under
LDAP_USER_BASE with LDAP_USER_FILTER and the user binds with that DN. Who may sign in is narrowed by the
search base, the filter and LDAP_GROUP_DN; accounts matching LDAP_DISABLED_FILTER are refused. Everything
typed goes into filters through `escape_filter_chars` and into DNs through `escape_rdn`.

All network I/O happens here, outside any database transaction: callers fetch, then write.
"""
from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPBindError, LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from minutes.core.errors import DomainError, PermissionDenied
from minutes.identity.service import DirectoryDepartment, DirectoryPerson, Profile

PROVIDER = "ldap"
PAGE_SIZE = 500
TRUE_VALUES = {"true", "1", "yes", "y", "是", "on"}


class DirectoryUnavailable(DomainError):
    """The directory server cannot be reached or refused the service account."""

    status = 503
    code = "directory_unavailable"


@dataclass(frozen=True)
class Settings:
    url: str
    start_tls: bool
    tls_verify: bool
    ca_file: str | None
    timeout: int
    bind_dn: str
    bind_password: str
    user_dn_template: str
    user_base: str
    user_filter: str
    group_dn: str
    group_member_attr: str
    disabled_filter: str
    attr_username: str
    attr_id: str
    attr_name: str
    attr_email: str
    attr_title: str
    attr_department: str
    department_base: str
    department_filter: str
    attr_department_name: str
    head_group_dn: str
    attr_head: str

    @classmethod
    def from_config(cls, cfg=None) -> "Settings":
        cfg = cfg if cfg is not None else current_app.config
        return cls(
            url=cfg.get("LDAP_URL", ""), start_tls=bool(cfg.get("LDAP_START_TLS")),
            tls_verify=cfg.get("LDAP_TLS_VERIFY", True), ca_file=cfg.get("LDAP_CA_FILE"),
            timeout=max(1, int(float(cfg.get("LDAP_TIMEOUT", 5)))), bind_dn=cfg.get("LDAP_BIND_DN", ""),
            bind_password=cfg.get("LDAP_BIND_PASSWORD", ""), user_dn_template=cfg.get("LDAP_USER_DN_TEMPLATE", ""),
            user_base=cfg.get("LDAP_USER_BASE", ""),
            user_filter=cfg.get("LDAP_USER_FILTER") or "(objectClass=inetOrgPerson)",
            group_dn=cfg.get("LDAP_GROUP_DN", ""), group_member_attr=cfg.get("LDAP_GROUP_MEMBER_ATTR") or "member",
            disabled_filter=cfg.get("LDAP_DISABLED_FILTER", ""), attr_username=cfg.get("LDAP_ATTR_USERNAME") or "uid",
            attr_id=cfg.get("LDAP_ATTR_ID") or "entryUUID", attr_name=cfg.get("LDAP_ATTR_NAME") or "cn",
            attr_email=cfg.get("LDAP_ATTR_EMAIL", "mail"), attr_title=cfg.get("LDAP_ATTR_TITLE", "title"),
            attr_department=cfg.get("LDAP_ATTR_DEPARTMENT", ""),
            department_base=cfg.get("LDAP_DEPARTMENT_BASE") or cfg.get("LDAP_USER_BASE", ""),
            department_filter=cfg.get("LDAP_DEPARTMENT_FILTER") or "(objectClass=organizationalUnit)",
            attr_department_name=cfg.get("LDAP_ATTR_DEPARTMENT_NAME") or "ou",
            head_group_dn=cfg.get("LDAP_HEAD_GROUP_DN", ""), attr_head=cfg.get("LDAP_ATTR_HEAD", ""))

    def person_attributes(self) -> list[str]:
        names = [self.attr_username, self.attr_id, self.attr_name, self.attr_email, self.attr_title,
                 self.attr_department, self.attr_head]
        return sorted({n for n in names if n})


def configured(cfg=None) -> bool:
    """LDAP sign-in is on when LDAP_URL is set."""
    cfg = cfg if cfg is not None else current_app.config
    return bool(cfg.get("LDAP_URL"))


# --- connections ------------------------------------------------------------------------------

def _server(s: Settings) -> Server:
    tls = None
    if s.url.lower().startswith("ldaps://") or s.start_tls:
        tls = Tls(validate=ssl.CERT_REQUIRED if s.tls_verify else ssl.CERT_NONE, ca_certs_file=s.ca_file)
    return Server(s.url, get_info=NONE, connect_timeout=s.timeout, tls=tls)


def _connect(s: Settings, user: str | None, password: str | None) -> Connection:
    """A bound connection (StartTLS first when asked); LDAPBindError for wrong credentials."""
    conn = Connection(_server(s), user=user, password=password, receive_timeout=s.timeout, raise_exceptions=False,
                      read_only=True)
    try:
        conn.open()
        if s.start_tls and not s.url.lower().startswith("ldaps://"):
            if not conn.start_tls():  # never go on to send the password in the clear
                raise LDAPException("StartTLS failed")
        if not conn.bind():
            result = conn.result or {}
            if result.get("result") == 49:  # invalidCredentials
                raise LDAPBindError("invalid credentials")
            raise LDAPException(result.get("description") or "bind failed")
    except LDAPBindError:
        _close(conn)
        raise
    except (LDAPException, OSError) as exc:
        _close(conn)
        current_app.logger.warning("LDAP %s: %s", s.url, exc)
        raise DirectoryUnavailable(gettext("无法连接公司目录服务，请稍后再试或联系管理员")) from exc
    return conn


def _close(conn: Connection) -> None:
    """Unbind, whatever state a failed handshake left the socket in."""
    try:
        conn.unbind()
    except (LDAPException, OSError):
        pass


def _service_connection(s: Settings) -> Connection:
    try:
        return _connect(s, s.bind_dn or None, s.bind_password or None)
    except LDAPBindError as exc:
        current_app.logger.warning("LDAP service account %s refused", s.bind_dn)
        raise DirectoryUnavailable(gettext("目录服务拒绝了服务账号，请管理员检查 LDAP_BIND_DN 和密码")) from exc


def _search(conn: Connection, base: str, query: str, attributes: list[str], scope=SUBTREE) -> list[dict]:
    """Every entry found (paged, so AD's and slapd's size limits do not cut the list): dicts of dn and attributes."""
    entries = []
    try:
        for item in conn.extend.standard.paged_search(base, query, search_scope=scope, attributes=attributes or ["1.1"],
                                                      paged_size=PAGE_SIZE, generator=True):
            if item.get("type") == "searchResEntry":
                entries.append({"dn": item["dn"], "raw": item.get("raw_attributes") or {}})
    except LDAPException as exc:
        raise DirectoryUnavailable(gettext("目录查询失败：%(error)s", error=str(exc))) from exc
    code = (conn.result or {}).get("result")
    if code == 32 and scope == BASE:  # noSuchObject: that entry does not exist
        return []
    if code not in (0, None):
        # sizeLimitExceeded and the like: a partial list must never reach the sync (it would deactivate the rest)
        raise DirectoryUnavailable(gettext("目录查询失败或结果不完整（%(error)s），本次未做任何变更",
                                           error=conn.result.get("description", code)))
    return entries


def _first_text(raw: dict, name: str) -> str | None:
    if not name:
        return None
    for key, values in raw.items():
        if key.lower() == name.lower() and values:
            value = values[0]
            if name.lower() == "objectguid" and len(value) == 16:
                return str(uuid.UUID(bytes_le=bytes(value)))
            try:
                return value.decode("utf-8").strip() or None
            except UnicodeDecodeError:
                return value.hex()
    return None


def _norm_dn(dn: str) -> str:
    """A DN compared without case or spacing differences."""
    try:
        return ",".join(f"{attr.lower()}={value.lower()}" for attr, value, _sep in parse_dn(dn, escape=True))
    except LDAPException:
        return dn.lower()


def _parent_dn(dn: str) -> str:
    try:
        parts = parse_dn(dn, escape=True)
    except LDAPException:
        return ""
    return ",".join(f"{attr}={value}" for attr, value, _sep in parts[1:])


# --- who may sign in -------------------------------------------------------------------------

def _members(conn: Connection, s: Settings, group_dn: str) -> set[str]:
    """Normalised DNs (and plain uids, for memberUid groups) of a group's members."""
    found = _search(conn, group_dn, "(objectClass=*)", [s.group_member_attr], scope=BASE)
    members: set[str] = set()
    for entry in found:
        for key, values in entry["raw"].items():
            if key.lower() == s.group_member_attr.lower():
                for value in values:
                    text = value.decode("utf-8", "replace")
                    members.add(_norm_dn(text) if "=" in text else text.lower())
    return members


def _is_member(conn: Connection, s: Settings, group_dn: str, dn: str, username: str) -> bool:
    members = _members(conn, s, group_dn)
    return _norm_dn(dn) in members or username.lower() in members


def _is_disabled(conn: Connection, s: Settings, dn: str) -> bool:
    if not s.disabled_filter:
        return False
    return bool(_search(conn, dn, s.disabled_filter, [], scope=BASE))


def _is_head(raw: dict, s: Settings, dn: str, heads: set[str] | None) -> bool | None:
    said = None
    if s.attr_head:
        value = _first_text(raw, s.attr_head)
        said = value is not None and value.strip().lower() in TRUE_VALUES
    if heads is not None:
        said = bool(said) or _norm_dn(dn) in heads
    return said


def _user_query(s: Settings, username: str) -> str:
    return f"(&{s.user_filter}({s.attr_username}={escape_filter_chars(username)}))"


def authenticate(username: str, password: str) -> Profile | None:
    """The person's profile when the directory accepts the password; None for a wrong password or an unknown
    name (the same answer); PermissionDenied when the account is disabled in the directory or not allowed to
    sign in here; DirectoryUnavailable when the server cannot be reached."""
    s = Settings.from_config()
    username = (username or "").strip()
    if not username or not password or len(username) > 256:
        return None  # an empty password would be an anonymous bind, which "succeeds"
    if s.user_dn_template:
        candidate = s.user_dn_template.replace("{username}", escape_rdn(username))
        try:
            conn = _connect(s, candidate, password)
        except LDAPBindError:
            return None
        try:
            found = _search(conn, s.user_base, _user_query(s, username), s.person_attributes())
        except DirectoryUnavailable:
            conn.unbind()
            raise
        if len(found) != 1:
            conn.unbind()
            return None  # bound, but outside the base or the filter: not someone who may sign in here
        entry = found[0]
        checker = conn if not s.bind_dn else None
    else:
        service = _service_connection(s)
        try:
            found = _search(service, s.user_base, _user_query(s, username), s.person_attributes())
        finally:
            service.unbind()
        if len(found) != 1:
            return None
        entry = found[0]
        try:
            conn = _connect(s, entry["dn"], password)
        except LDAPBindError:
            return None
        checker = None
    try:
        if checker is None:
            conn.unbind()
            conn = _service_connection(s)
        if _is_disabled(conn, s, entry["dn"]):
            raise PermissionDenied(gettext("您的账号已在公司目录中停用，无法登录；如有疑问请联系管理员"))
        if s.group_dn and not _is_member(conn, s, s.group_dn, entry["dn"], username):
            raise PermissionDenied(gettext("您的账号未获准登录本系统（不在允许登录的用户组中），请联系管理员"))
        heads = _members(conn, s, s.head_group_dn) if s.head_group_dn else None
        department = _department_name_for(conn, s, entry)
    finally:
        conn.unbind()
    profile = _profile(entry, s, heads, department)
    profile.username = profile.username or username  # an entry without the attribute: the name it bound with
    return profile


def _profile(entry: dict, s: Settings, heads: set[str] | None, department: str | None) -> Profile:
    raw = entry["raw"]
    username = _first_text(raw, s.attr_username) or ""
    subject = _first_text(raw, s.attr_id) or _norm_dn(entry["dn"])
    return Profile(subject=subject, username=username, name=_first_text(raw, s.attr_name) or username,
                   email=_first_text(raw, s.attr_email), department=department,
                   title=_first_text(raw, s.attr_title), is_department_head=_is_head(raw, s, entry["dn"], heads))


def _department_name_for(conn: Connection, s: Settings, entry: dict) -> str | None:
    """The department's name for a sign-in (the attribute, or the name of the OU the entry is in)."""
    if s.attr_department:
        return _first_text(entry["raw"], s.attr_department)
    parent = _parent_dn(entry["dn"])
    if not parent or _norm_dn(parent) == _norm_dn(s.department_base):
        return None
    found = _search(conn, parent, s.department_filter, [s.attr_department_name], scope=BASE)
    return _first_text(found[0]["raw"], s.attr_department_name) if found else None


# --- the org chart ---------------------------------------------------------------------------

def fetch_directory(settings: Settings | None = None) -> tuple[list[DirectoryDepartment], list[DirectoryPerson]]:
    """Read departments and people for the sync, with the service account."""
    s = settings or Settings.from_config()
    conn = _service_connection(s)
    try:
        people_entries = _search(conn, s.user_base, s.user_filter, s.person_attributes())
        allowed = _members(conn, s, s.group_dn) if s.group_dn else None
        heads = _members(conn, s, s.head_group_dn) if s.head_group_dn else None
        disabled = ({_norm_dn(e["dn"]) for e in _search(conn, s.user_base, f"(&{s.user_filter}{s.disabled_filter})", [])}
                    if s.disabled_filter else set())
        ou_entries = [] if s.attr_department else _search(conn, s.department_base, s.department_filter,
                                                          [s.attr_id, s.attr_department_name])
    finally:
        conn.unbind()
    departments: list[DirectoryDepartment] = []
    by_dn: dict[str, str] = {}
    base = _norm_dn(s.department_base)
    for ou in ou_entries:
        dn = _norm_dn(ou["dn"])
        if dn == base:
            continue
        by_dn[dn] = _first_text(ou["raw"], s.attr_id) or dn
    for ou in ou_entries:
        dn = _norm_dn(ou["dn"])
        if dn == base:
            continue
        name = _first_text(ou["raw"], s.attr_department_name) or dn
        departments.append(DirectoryDepartment(subject=by_dn[dn], name=name,
                                               parent=_nearest(_parent_dn(ou["dn"]), by_dn)))
    by_name: dict[str, str] = {}
    people: list[DirectoryPerson] = []
    for entry in people_entries:
        dn = _norm_dn(entry["dn"])
        username = _first_text(entry["raw"], s.attr_username) or ""
        if not username:
            continue
        if allowed is not None and dn not in allowed and username.lower() not in allowed:
            continue  # not in the sign-in group: not one of this app's people
        if s.attr_department:
            name = _first_text(entry["raw"], s.attr_department)
            dept_subject = None
            if name:
                dept_subject = by_name.setdefault(name, "name:" + name)
        else:
            dept_subject = _nearest(_parent_dn(entry["dn"]), by_dn)
        profile = _profile(entry, s, heads, None)
        people.append(DirectoryPerson(profile=profile, department=dept_subject, enabled=dn not in disabled))
    if s.attr_department:
        departments = [DirectoryDepartment(subject=subject, name=name) for name, subject in sorted(by_name.items())]
    return departments, people


def _nearest(dn: str, by_dn: dict[str, str]) -> str | None:
    """The subject of the nearest department at or above `dn`."""
    while dn:
        subject = by_dn.get(_norm_dn(dn))
        if subject is not None:
            return subject
        dn = _parent_dn(dn)
    return None
