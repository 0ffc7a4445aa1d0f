"""Identity: sign-in through the company's directory or IdP, mapped onto local accounts.

Every sign-in method (LDAP, OIDC, Feishu, DingTalk, WeCom) ends in `sign_in(provider, profile)`; every
org-chart source (LDAP, the vendors' contacts APIs) produces `DirectoryPerson`/`DirectoryDepartment`
records for the one sync. The account is found by (provider, stable id); failing that, linked to an
existing account with the same username or e-mail (so one person signing in two ways stays one account),
else created.
"""
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from minutes.core.errors import DomainError, PermissionDenied
from minutes.dbtypes import utcnow
from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people import service as people
from minutes.people.models import User

PROVIDERS = ("ldap", "oidc", "feishu", "dingtalk", "wecom")


@dataclass
class Profile:
    """What a provider says about the person signing in (or a person found by a sync)."""

    subject: str  #: the provider's stable id
    username: str  #: login name (sAMAccountName/uid, preferred_username, the vendor's user id)
    name: str
    email: str | None = None
    department: str | None = None  #: department name, when the provider gives one
    title: str | None = None
    is_department_head: bool | None = None  #: None: the provider does not say


@dataclass
class DirectoryDepartment:
    subject: str
    name: str
    parent: str | None = None  #: the parent's subject


@dataclass
class DirectoryPerson:
    profile: Profile
    department: str | None = None  #: the department's subject
    enabled: bool = True
    extra: dict = field(default_factory=dict)


def unusable_password_hash() -> str:
    """A password hash no password matches: accounts from the directory sign in through it only."""
    return people.hash_password(secrets.token_urlsafe(32)) + "!"


def identity_of(user: User, provider: str) -> ExternalIdentity | None:
    return db.session.scalar(select(ExternalIdentity).filter_by(user_id=user.id, provider=provider))


#: Providers whose usernames are the company's login names (its directory): an existing account with the same
#: username is that person. Elsewhere (OIDC, the vendors) a username may be anything the IdP lets people pick, so
#: only an e-mail address the provider vouches for links an existing account.
USERNAME_AUTHORITIES = ("ldap",)


def _find_account(provider: str, profile: Profile) -> User | None:
    if profile.username and provider in USERNAME_AUTHORITIES:
        user = db.session.scalar(select(User).where(func.lower(User.username) == profile.username.lower()))
        if user is not None:
            return user
    if profile.email:
        return db.session.scalar(select(User).where(func.lower(User.email) == profile.email.lower()))
    return None


def _free_username(wanted: str, provider: str) -> str:
    """`wanted` if no account has it, else a variant naming the provider (a new person never takes an account)."""
    taken = lambda name: db.session.scalar(select(User.id).where(func.lower(User.username) == name.lower()))  # noqa: E731
    if wanted and not taken(wanted):
        return wanted
    base = f"{wanted or 'user'}.{provider}"[:60]
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def link(provider: str, profile: Profile, *, create: bool = True, default_department: str = "未分配部门") -> User | None:
    """The account for (provider, subject): found, linked to an existing account, or created.

    Two first sign-ins of one person at once (two tabs, a double click on PostgreSQL) both find no identity and
    both insert: the second insert waits for the first transaction and then breaks a unique constraint. It is done
    in a savepoint, so the loser rolls back only that and takes the account the winner made.
    """
    ident = db.session.scalar(select(ExternalIdentity).filter_by(provider=provider, subject=profile.subject))
    if ident is not None:
        return ident.user
    for attempt in (1, 2):
        try:
            with db.session.begin_nested():
                return _link_new(provider, profile, create=create, default_department=default_department)
        except IntegrityError:
            ident = db.session.scalar(select(ExternalIdentity).filter_by(provider=provider, subject=profile.subject))
            if ident is not None:
                return ident.user
            if attempt == 2:
                raise
            # someone else's sign-in made the same new department (or took the username): once more, seeing it
    return None  # not reached: the loop returns or raises


def _link_new(provider: str, profile: Profile, *, create: bool, default_department: str) -> User | None:
    user = _find_account(provider, profile)
    if user is not None and user.is_admin:
        # an administrator's account is never taken over by a matching name or address at a provider
        raise PermissionDenied(gettext("管理员账号不会自动关联外部身份，请用本地密码登录"))
    if user is None:
        if not create:
            return None
        user = User(username=_free_username(profile.username, provider), name=profile.name or profile.username, email=profile.email,
                    title=profile.title, password_hash=unusable_password_hash(),
                    department=people.get_department(profile.department or default_department, create=True),
                    is_department_head=bool(profile.is_department_head))
        db.session.add(user)
        db.session.flush()
    elif identity_of(user, provider) is not None:
        # the account is already linked to another identity at this provider: never re-point it silently
        raise PermissionDenied(gettext("该账号已关联另一个外部身份，请联系管理员"))
    db.session.add(ExternalIdentity(user_id=user.id, provider=provider, subject=profile.subject))
    db.session.flush()
    return user


def sign_in(provider: str, profile: Profile) -> User:
    """The account a provider's sign-in maps to; refused when the account is disabled."""
    user = link(provider, profile)
    if not user.is_enabled:
        raise PermissionDenied(gettext("该账号已停用，请联系管理员"))
    ident = identity_of(user, provider)
    ident.last_login_at = utcnow()
    return user


# --- what every sign-in method shares (the methods live beside this module: oidc.py, feishu.py, ...) -----------

class SignInRefused(DomainError):
    """The provider's answer does not prove who is signing in (state, nonce, signature, expired or used code)."""

    status = 400
    code = "sign_in_refused"


class ProviderUnavailable(DomainError):
    """The IdP or the vendor's open platform cannot be reached or answered nonsense: nothing was decided."""

    status = 502
    code = "provider_unavailable"


#: The sign-in buttons in the order the login page shows them: provider, the settings it needs, its label's setting.
METHODS = (
    ("oidc", ("OIDC_ISSUER", "OIDC_CLIENT_ID"), "OIDC_BUTTON_LABEL"),
    ("feishu", ("FEISHU_APP_ID", "FEISHU_APP_SECRET"), "FEISHU_BUTTON_LABEL"),
    ("dingtalk", ("DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET"), "DINGTALK_BUTTON_LABEL"),
    ("wecom", ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET"), "WECOM_BUTTON_LABEL"),
)


def is_configured(config, provider: str) -> bool:
    """True when every setting the method needs is given."""
    return any(name == provider and all(config.get(key) for key in keys) for name, keys, _label in METHODS)


def configured_methods(config) -> list[tuple[str, str]]:
    """(provider, button label) of every sign-in method whose settings are given."""
    return [(name, config.get(label) or name) for name, keys, label in METHODS if all(config.get(k) for k in keys)]


def new_state() -> str:
    """An unguessable value that ties a provider's answer to the browser that asked (`state`, `nonce`)."""
    return secrets.token_urlsafe(24)


def check_state(expected: str | None, got: str | None) -> None:
    """Refuse an answer whose `state` is not the one this browser's sign-in sent (forged or replayed)."""
    if not expected or not got or not hmac.compare_digest(expected.encode(), got.encode()):
        raise SignInRefused(gettext("登录请求已失效或来源不明（state 不符），请重新登录"))


def call_provider(method: str, url: str, *, what: str, timeout: float, **kwargs) -> tuple[int, dict]:
    """Call a provider's JSON API: (HTTP status, body). Unreachable or not JSON: ProviderUnavailable."""
    try:
        response = requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise ProviderUnavailable(gettext("无法连接%(what)s，请稍后重试（%(error)s）", what=what,
                                          error=type(exc).__name__)) from exc
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderUnavailable(gettext("%(what)s返回了无法识别的内容（HTTP %(status)s），请稍后重试", what=what,
                                          status=response.status_code)) from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable(gettext("%(what)s返回了无法识别的内容（HTTP %(status)s），请稍后重试", what=what,
                                          status=response.status_code))
    return response.status_code, body


#: An app's own access tokens (WeCom/DingTalk gettoken, Feishu app/tenant tokens), per process: key -> (until, token).
_own_tokens: dict[tuple, tuple[float, str]] = {}


def own_token_key(provider: str, *parts: str) -> tuple:
    """A cache key for an app's token: the provider, its address and id, and a digest of its secret (never the secret)."""
    *public, secret = parts
    return (provider, *public, hashlib.sha256((secret or "").encode()).hexdigest())


def own_token(key: tuple, fetch: Callable[[], tuple[str, float]]) -> str:
    """The app's token, reused until a minute before it expires: the vendors ask callers to keep it (their token
    endpoints are rate-limited). `fetch()` returns (token, seconds it is valid)."""
    cached = _own_tokens.get(key)
    if cached and time.monotonic() < cached[0]:
        return cached[1]
    token, valid_for = fetch()
    _own_tokens[key] = (time.monotonic() + max(0.0, float(valid_for or 0) - 60), token)
    return token


def drop_own_token(key: tuple) -> None:
    """Forget a token the vendor no longer accepts (revoked early, or the secret was reset)."""
    _own_tokens.pop(key, None)
