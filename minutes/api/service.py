"""Token issue, lookup and revocation."""
import hashlib
import secrets

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from minutes.api.models import ApiToken
from minutes.core.errors import NotFound, PermissionDenied, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id, record_use
from minutes.extensions import db

TOKEN_PREFIX = "mnt_"
#: What a read-only token may do.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_may_issue(via_token: ApiToken | None) -> None:
    """Refuse to make a token for a request that came with a token.

    A leaked token could otherwise outlive its revocation through the tokens it made. Tokens come from
    a signed-in person (the settings page, or the API with the browser's session) or an administrator on
    the server (`flask minutes token`).
    """
    if via_token is not None:
        raise PermissionDenied(gettext("不能用 API 令牌创建新令牌：请登录后在“个人设置”页面创建"))


def create_token(actor, name: str, read_only: bool = False, via_token: ApiToken | None = None) -> tuple[ApiToken, str]:
    """Issue a token for the actor (read-only if asked); return the row and the plaintext (shown once).

    `via_token` is the token the request came with, if any: see check_may_issue.
    """
    check_may_issue(via_token)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(gettext("请填写令牌用途，例如“OA 集成”"), field="name")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=actor, name=name[:100], token_hash=_digest(plaintext), prefix=plaintext[:12],
                     read_only=bool(read_only))
    db.session.add(token)
    db.session.flush()
    return token, plaintext


def live_token(plaintext: str) -> ApiToken | None:
    """The token for a plaintext if it is live (not revoked, its user enabled), else None. Only reads."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    # the token with its user in one statement: every API call starts here
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext))
                              .options(joinedload(ApiToken.user)))
    if token is None or token.revoked_at is not None or not token.user.is_enabled:
        return None
    return token


def check_method(token: ApiToken, method: str) -> None:
    """Refuse a read-only token anything but reading."""
    if token.read_only and method.upper() not in READ_METHODS:
        raise PermissionDenied(gettext("此令牌为只读令牌，只能查询（GET），不能修改数据"))


def record_token_use(token_id: int) -> None:
    """Note the token's last use (at most once a minute); a write of its own, apart from the read it served."""
    record_use(ApiToken, token_id)


def tokens_of(user) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(actor, token_id) -> ApiToken:
    """Revoke one of the actor's own tokens (admins may revoke anyone's)."""
    token = get_by_id(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not actor.is_admin):
        raise NotFound(gettext("令牌不存在"))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.flush()
    return token
