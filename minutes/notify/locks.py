"""Named job locks: one run of a job at a time, across processes and hosts."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.notify.models import JobLock


def lock_job(name: str, holder: str = "") -> bool:
    """Lock a named job for the rest of the current transaction; False when another run holds it.

    Call it as the transaction's first statement. PostgreSQL waits at most a few seconds for the
    row; SQLite waits its busy timeout for the write lock. The lock ends with commit or rollback.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(JobLock).values(name=name, holder="").on_conflict_do_nothing(index_elements=["name"]))
    db.session.commit()
    try:
        if dialect == "postgresql":
            db.session.execute(select(func.set_config("lock_timeout", "3s", True)))
        locked = db.session.execute(update(JobLock).where(JobLock.name == name)
                                    .values(locked_at=utcnow(), holder=holder[:100])).rowcount
    except OperationalError:
        db.session.rollback()
        return False
    return bool(locked)
