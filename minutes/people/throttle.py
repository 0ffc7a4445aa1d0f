"""Login throttling per account and per address (limits, the library under Flask-Limiter)."""
from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from minutes.core.errors import RuleViolation

LOCKOUT_MESSAGE = "登录失败次数过多，请{minutes}分钟后再试"


def _limiter() -> MovingWindowRateLimiter:
    ext = current_app.extensions
    if "login_limiter" not in ext:
        uri = current_app.config.get("REDIS_URL") or "memory://"
        ext["login_limiter"] = MovingWindowRateLimiter(storage_from_string(uri))
    return ext["login_limiter"]


def _rules():
    cfg = current_app.config
    window = cfg.get("LOGIN_WINDOW_MINUTES", 15)
    return (parse(f"{cfg.get('LOGIN_MAX_FAILURES_PER_ACCOUNT', 5)} per {window} minutes"),
            parse(f"{cfg.get('LOGIN_MAX_FAILURES_PER_ADDRESS', 30)} per {window} minutes"), window)


def check(username: str, address: str) -> None:
    """Refuse a login attempt while the account or the address is locked out."""
    per_account, per_address, window = _rules()
    limiter = _limiter()
    account_key, address_key = (username or "").strip().lower(), address or "-"
    if not limiter.test(per_account, "login-account", account_key) or \
            not limiter.test(per_address, "login-address", address_key):
        raise RuleViolation(LOCKOUT_MESSAGE.format(minutes=window))


def record_failure(username: str, address: str) -> None:
    """Count a failed attempt against the account and the address."""
    per_account, per_address, _window = _rules()
    limiter = _limiter()
    limiter.hit(per_account, "login-account", (username or "").strip().lower())
    limiter.hit(per_address, "login-address", address or "-")


def reset(username: str) -> None:
    """Forget an account's failures after a successful login."""
    per_account, _per_address, _window = _rules()
    _limiter().clear(per_account, "login-account", (username or "").strip().lower())
