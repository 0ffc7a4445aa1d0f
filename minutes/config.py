"""Configuration read from the environment, with embedded defaults for a laptop."""
import os


class Config:
    """Settings for one deployment; every value can be set by environment variable."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None  # filled in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    #: Live room: a `: ping` on idle streams every so many seconds; the watchdog compares committed and
    #: delivered revisions every so many seconds (a change whose publish was lost arrives at most ~2 rounds late).
    ROOM_PING_SECONDS = float(os.environ.get("ROOM_PING_SECONDS", "15"))
    ROOM_WATCH_SECONDS = float(os.environ.get("ROOM_WATCH_SECONDS", "5"))
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_SENDER = os.environ.get("SMTP_SENDER", "minutes@localhost")
    #: Development and demos (`make run` sets it): email is not sent over SMTP but kept in a local mailbox shown at
    #: /dev/mailbox (a message counts as delivered once there). The page does not exist otherwise.
    MAIL_DEV_MAILBOX = os.environ.get("MAIL_DEV_MAILBOX", "0") == "1"
    #: Base URL used for links in emails and IM messages.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    #: How many reverse proxies (nginx) stand in front: their X-Forwarded-For/-Proto are then believed, so
    #: the client's address (login throttling, logs) and https are seen. 0: the headers are ignored (spoofable).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    #: Deliver the outbox right after a commit (single-process mode); production runs `flask minutes tick`.
    OUTBOX_DELIVER_ON_COMMIT = os.environ.get("OUTBOX_DELIVER_ON_COMMIT", "1") == "1"
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or None  # default: instance/uploads
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    #: The company's local time zone: meetings are planned and displayed in it.
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    #: A session ends after this long without a request (idle) and this long after login (absolute).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "240"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_HOURS * 3600
    #: Login throttling: failures per account and address (and the step of the account's back-off), failures
    #: per address over all accounts, within so many minutes.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "30"))
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
    #: A successful login makes its address familiar to the user this long: from there the user passes the
    #: account's back-off and the address limit (see minutes/people/throttle.py).
    LOGIN_KNOWN_ADDRESS_DAYS = int(os.environ.get("LOGIN_KNOWN_ADDRESS_DAYS", "90"))
