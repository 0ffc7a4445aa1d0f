"""Two first sign-ins of one person at the same moment: one account, one identity, no error (both databases)."""
import threading
import time

from sqlalchemy import func, select

from minutes.extensions import db, write_intent
from minutes.identity import service as identity
from minutes.identity.models import ExternalIdentity
from minutes.people.models import Department, User

PROFILE = identity.Profile(subject="oidc-sub-7", username="chenjing", name="陈静", email="chenjing@corp.example",
                           department="法务部")


def _in_thread(app, work, results, errors):
    def run():
        with app.app_context():
            intent = write_intent.set(True)  # as the sign-in views do (SQLite: the write lock up front)
            try:
                results.append(work())
            except Exception as exc:  # reported by the test's assertion
                errors.append(exc)
                db.session.rollback()
            finally:
                write_intent.reset(intent)
                db.session.remove()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_first_sign_ins_at_once_make_one_account(app):
    flushed, release = threading.Event(), threading.Event()
    results, errors = [], []

    def first():
        user = identity.link("oidc", PROFILE)  # inserted, not yet committed: the other sign-in cannot see it
        flushed.set()
        release.wait(10)
        db.session.commit()
        return user.id

    def second():
        user = identity.sign_in("oidc", PROFILE)
        db.session.commit()
        return user.id

    db.session.commit()
    one = _in_thread(app, first, results, errors)
    assert flushed.wait(10)
    two = _in_thread(app, second, results, errors)
    time.sleep(0.5)  # the second is now waiting on the first's uncommitted rows (PostgreSQL) or write lock (SQLite)
    release.set()
    one.join(20)
    two.join(20)
    assert not errors, errors
    assert len(results) == 2 and results[0] == results[1]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username.like("chenjing%"))) == 1
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity).filter_by(subject="oidc-sub-7")) == 1
    assert db.session.scalar(select(func.count()).select_from(Department).filter_by(name="法务部")) == 1


def test_two_new_people_in_one_new_department_at_once(app):
    """Different people, same new department: the department is made once and both sign in."""
    flushed, release = threading.Event(), threading.Event()
    results, errors = [], []
    other = identity.Profile(subject="oidc-sub-8", username="sunli", name="孙丽", department="法务部")

    def first():
        user = identity.link("oidc", PROFILE)
        flushed.set()
        release.wait(10)
        db.session.commit()
        return user.department.name

    def second():
        user = identity.sign_in("oidc", other)
        db.session.commit()
        return user.department.name

    db.session.commit()
    one = _in_thread(app, first, results, errors)
    assert flushed.wait(10)
    two = _in_thread(app, second, results, errors)
    time.sleep(0.5)
    release.set()
    one.join(20)
    two.join(20)
    assert not errors, errors
    assert results == ["法务部", "法务部"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Department).filter_by(name="法务部")) == 1
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 2
