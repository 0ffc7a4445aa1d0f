"""Clock and Chinese date formatting, kept free of Flask so services and tests share them."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = "一二三四五六日"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Return the current time in UTC (frozen when a test or the demo pins the clock)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin the clock to `at` (aware) or release it with None; for tests and benchmarks."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


def local_today() -> date:
    """Return today's date in the company's time zone."""
    return utcnow().astimezone(LOCAL_TZ).date()


def to_local(dt: datetime | None) -> datetime | None:
    """Convert an aware datetime to the company's time zone."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(LOCAL_TZ)


def local_to_utc(naive_local: datetime) -> datetime:
    """Interpret a naive datetime typed by a user as company-local time."""
    return naive_local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def cn_date(d: date | datetime | None, weekday: bool = True) -> str:
    """Format as 2026年6月30日（周二）."""
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = to_local(d).date()
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（周{WEEKDAYS[d.weekday()]}）" if weekday else text


def cn_datetime(dt: datetime | None) -> str:
    """Format as 2026年6月30日（周二）14:00."""
    if dt is None:
        return ""
    local = to_local(dt)
    return f"{cn_date(local.date())} {local:%H:%M}"


def cn_time(dt: datetime | None) -> str:
    """Format the local clock time as 14:00."""
    return "" if dt is None else f"{to_local(dt):%H:%M}"


def cn_duration(minutes: int) -> str:
    """Format minutes as 1小时30分钟."""
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return f"{hours}小时{mins}分钟"
    if hours:
        return f"{hours}小时"
    return f"{mins}分钟"


def relative_cn(dt: datetime, now: datetime | None = None) -> str:
    """Say how far `dt` is from now: 3天后 / 2小时前."""
    now = now or utcnow()
    delta = dt - now
    future = delta >= timedelta(0)
    delta = abs(delta)
    if delta < timedelta(minutes=1):
        return "刚刚"
    if delta < timedelta(hours=1):
        amount = f"{delta.seconds // 60}分钟"
    elif delta < timedelta(days=1):
        amount = f"{delta.seconds // 3600}小时"
    else:
        amount = f"{delta.days}天"
    return amount + ("后" if future else "前")
