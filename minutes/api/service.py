"""Token issue, lookup and revocation."""
import hashlib
import secrets

from flask_babel import gettext
from sqlalchemy import select

from minutes.api.models import ApiToken
from minutes.core.errors import NotFound, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db

TOKEN_PREFIX = "mnt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """Issue a token for the actor; return the row and the plaintext (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(gettext("请填写令牌用途，例如“OA 集成”"), field="name")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=actor, name=name[:100], token_hash=_digest(plaintext), prefix=plaintext[:12])
    db.session.add(token)
    db.session.flush()
    return token, plaintext


def user_for_token(plaintext: str):
    """Return the enabled user a live token belongs to, or None."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext)))
    if token is None or token.revoked_at is not None or not token.user.is_enabled:
        return None
    token.last_used_at = utcnow()
    return token.user


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
